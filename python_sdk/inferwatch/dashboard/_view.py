"""A stored Sentry event, shaped for the issue page (the template only lays it out)."""

from __future__ import annotations

from typing import Any

_HIDDEN_CONTEXTS = ("model", "trace")


def event_view(data: dict[str, Any]) -> dict[str, Any]:
    """What the issue page shows of one event.

    >>> event_view({"tags": {"b": 1, "a": 2}})["tags"]
    [('a', '2'), ('b', '1')]
    """
    contexts = _mapping(data.get("contexts"))
    return {
        "exceptions": [_exception(e) for e in reversed(_values(data.get("exception")))],
        "message": _message(data),
        "model": _mapping(contexts.get("model")) or None,
        "request": _mapping(data.get("request")) or None,
        "tags": sorted((str(k), str(v)) for k, v in _mapping(data.get("tags")).items()),
        "contexts": {k: v for k, v in contexts.items() if k not in _HIDDEN_CONTEXTS},
        "extra": _mapping(data.get("extra")),
        "user": _mapping(data.get("user")),
        "sdk": _mapping(data.get("sdk")),
    }


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _values(value: Any) -> list[dict[str, Any]]:
    values = _mapping(value).get("values")
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def _message(data: dict[str, Any]) -> str:
    entry = _mapping(data.get("logentry"))
    return str(entry.get("formatted") or entry.get("message") or data.get("message") or "")


def _exception(exc: dict[str, Any]) -> dict[str, Any]:
    frames = [_frame(f) for f in reversed(_mapping(exc.get("stacktrace")).get("frames") or [])]
    with_source = [f for f in frames if f and f["in_app"] and f["source"]]
    if with_source:
        with_source[0]["open"] = True  # the innermost app frame, where the error happened
    return {
        "type": str(exc.get("type") or "Error"),
        "value": str(exc.get("value") or ""),
        "mechanism": _mapping(exc.get("mechanism")),
        "groups": _groups([f for f in frames if f]),
    }


def _frame(frame: Any) -> dict[str, Any] | None:
    if not isinstance(frame, dict):
        return None
    return {
        "where": str(frame.get("filename") or frame.get("module") or frame.get("abs_path") or "?"),
        "function": str(frame.get("function") or "?"),
        "lineno": frame.get("lineno"),
        "colno": frame.get("colno"),
        "in_app": bool(frame.get("in_app")),
        "source": _source(frame),
        "vars": _mapping(frame.get("vars")),
        "open": False,
    }


def _source(frame: dict[str, Any]) -> list[tuple[int | None, str, bool]]:
    """Lines around the frame's line: (number, text, is the frame's line)."""
    line = frame.get("context_line")
    if line is None:
        return []
    pre = [str(s) for s in frame.get("pre_context") or []]
    post = [str(s) for s in frame.get("post_context") or []]
    n = frame.get("lineno") if isinstance(frame.get("lineno"), int) else None
    numbered: list[tuple[int | None, str, bool]] = []
    for i, text in enumerate(pre):
        numbered.append((n - len(pre) + i if n else None, text, False))
    numbered.append((n, str(line), True))
    numbered += [(n + 1 + i if n else None, text, False) for i, text in enumerate(post)]
    return numbered


def _groups(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive frames split into app code (shown) and library code (folded)."""
    groups: list[dict[str, Any]] = []
    for frame in frames:
        if groups and groups[-1]["in_app"] == frame["in_app"]:
            groups[-1]["frames"].append(frame)
        else:
            groups.append({"in_app": frame["in_app"], "frames": [frame]})
    return groups
