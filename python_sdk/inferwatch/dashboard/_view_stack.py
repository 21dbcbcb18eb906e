"""Exceptions, threads and their frames, shaped for the issue page.

Sentry lists an exception chain oldest first; the page shows the one raised last first, and says
how each relates to the one above it (`caused by`, or a member of an exception group). Threads
come with the crashed one first and open.
"""

from __future__ import annotations

from typing import Any

from ._resolved import raw_frames
from ._shapes import items, mapping, values


def exceptions(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The exceptions, the one raised last first, each with its frames grouped."""
    listed = values(data.get("exception"))
    groups = {
        _exception_id(e) for e in listed if mapping(e.get("mechanism")).get("is_exception_group")
    }
    shown = [_exception(e, groups) for e in reversed(listed)]
    for i, exc in enumerate(shown):
        if not exc["relation"] and i:
            exc["relation"] = "caused by"
    return shown


def threads(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The threads with a stack trace, the crashed one first and open."""
    out = []
    for thread in values(data.get("threads")):
        frames = [f for f in map(frame, _frames(thread)) if f]
        if not frames:
            continue
        crashed = thread.get("crashed") is True
        out.append(
            {
                "name": str(thread.get("name") or f"thread {thread.get('id', '?')}"),
                "crashed": crashed,
                "current": thread.get("current") is True,
                "open": crashed,
                "groups": _groups(frames),
            }
        )
    out.sort(key=lambda t: not t["crashed"])
    if out and not any(t["open"] for t in out):
        out[0]["open"] = True  # no crash marked: the first one, as Sentry shows it
    return out


def stacktrace(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The frames of a top-level stack trace (a message sent with one), grouped."""
    return _groups([f for f in map(frame, _frames(data)) if f])


def _exception(exc: dict[str, Any], groups: set[Any]) -> dict[str, Any]:
    frames = [f for f in map(frame, _frames(exc)) if f]
    with_source = [f for f in frames if f["in_app"] and (f["source"] or f["vars"])]
    if with_source:
        with_source[0]["open"] = True  # the innermost app frame, where the error happened
    mechanism = mapping(exc.get("mechanism"))
    parent = mechanism.get("parent_id")
    return {
        "type": str(exc.get("type") or "Error"),
        "value": str(exc.get("value") or ""),
        "module": str(exc.get("module") or ""),
        "mechanism": mechanism,
        "group": bool(mechanism.get("is_exception_group")),
        "relation": f"in exception group {parent}" if parent in groups else "",
        "groups": _groups(frames),
        "raw": raw_frames(exc),  # the frames as sent, when source maps resolved them
    }


def _exception_id(exc: dict[str, Any]) -> Any:
    return mapping(exc.get("mechanism")).get("exception_id")


def _frames(holder: dict[str, Any]) -> list[Any]:
    """Frames innermost first, as the page reads them."""
    return list(reversed(items(mapping(holder.get("stacktrace")).get("frames"))))


def frame(value: Any) -> dict[str, Any] | None:
    """One frame as the page shows it: where, the source around its line, its variables."""
    if not isinstance(value, dict):
        return None
    return {
        "where": str(value.get("filename") or value.get("module") or value.get("abs_path") or "?"),
        "function": str(value.get("function") or "?"),
        "lineno": value.get("lineno"),
        "colno": value.get("colno"),
        "in_app": bool(value.get("in_app")),
        "source": _source(value),
        "vars": mapping(value.get("vars")),
        "open": False,
    }


def _source(frame: dict[str, Any]) -> list[tuple[int | None, str, bool]]:
    """Lines around the frame's line: (number, text, is the frame's line)."""
    line = frame.get("context_line")
    if line is None:
        return []
    pre = [str(s) for s in items(frame.get("pre_context"))]
    post = [str(s) for s in items(frame.get("post_context"))]
    lineno = frame.get("lineno")
    n = lineno if isinstance(lineno, int) and not isinstance(lineno, bool) else None
    numbered: list[tuple[int | None, str, bool]] = []
    for i, text in enumerate(pre):
        numbered.append((n - len(pre) + i if n else None, text, False))
    numbered.append((n, str(line), True))
    numbered += [(n + 1 + i if n else None, text, False) for i, text in enumerate(post)]
    return numbered


def _groups(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive frames split into app code (shown) and library code (folded)."""
    groups: list[dict[str, Any]] = []
    for f in frames:
        if groups and groups[-1]["in_app"] == f["in_app"]:
            groups[-1]["frames"].append(f)
        else:
            groups.append({"in_app": f["in_app"], "frames": [f]})
    return groups
