"""A stored Sentry event, shaped for the issue page (the template only lays it out)."""

from __future__ import annotations

from typing import Any

from ._resolved import component_path, raw_frames
from ._shapes import items, mapping, number, values

_HIDDEN_CONTEXTS = ("model", "trace")


def event_view(data: dict[str, Any]) -> dict[str, Any]:
    """What the issue page shows of one event.

    >>> event_view({"tags": {"b": 1, "a": 2}})["tags"]
    [('a', '2'), ('b', '1')]
    """
    contexts = mapping(data.get("contexts"))
    return {
        "exceptions": [_exception(e) for e in reversed(values(data.get("exception")))],
        "components": component_path(data),
        "message": _message(data),
        "model": _model(mapping(contexts.get("model"))),
        "request": mapping(data.get("request")) or None,
        "tags": sorted((str(k), str(v)) for k, v in mapping(data.get("tags")).items()),
        "contexts": {k: v for k, v in contexts.items() if k not in _HIDDEN_CONTEXTS},
        "extra": mapping(data.get("extra")),
        "user": mapping(data.get("user")),
        "sdk": mapping(data.get("sdk")),
    }


def _model(model: dict[str, Any]) -> dict[str, Any] | None:
    """`contexts.model` with every field the template reads checked for its type.

    >>> _model({"duration_ms": "slow", "usage": "x", "truncated": True})["truncated"]
    {'original_bytes': None}
    """
    if not model:
        return None
    usage, truncated = mapping(model.get("usage")), model.get("truncated")
    return {
        "name": _text(model.get("name")),
        "version": _text(model.get("version")),
        "status": _text(model.get("status")),
        "duration_ms": number(model.get("duration_ms")),
        "first_chunk_ms": number(model.get("first_chunk_ms")),
        "input_tokens": number(usage.get("input_tokens")),
        "output_tokens": number(usage.get("output_tokens")),
        "input": model.get("input"),
        "output": model.get("output"),
        "notes": [_note(n) for n in items(model.get("notes"))],
        "error": mapping(model.get("error")) or None,
        "truncated": {"original_bytes": number(mapping(truncated).get("original_bytes"))}
        if truncated
        else None,
    }


def _note(note: Any) -> dict[str, Any]:
    """One step of `notes`: when, which stage, and its other fields as (name, value) pairs."""
    fields = note if isinstance(note, dict) else {"stage": note}
    return {
        "at_ms": number(fields.get("at_ms")),
        "stage": _text(fields.get("stage")),
        "fields": [(str(k), v) for k, v in fields.items() if k not in ("stage", "at_ms")],
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _message(data: dict[str, Any]) -> str:
    entry = mapping(data.get("logentry"))
    return str(entry.get("formatted") or entry.get("message") or data.get("message") or "")


def _exception(exc: dict[str, Any]) -> dict[str, Any]:
    frames = [_frame(f) for f in reversed(items(mapping(exc.get("stacktrace")).get("frames")))]
    with_source = [f for f in frames if f and f["in_app"] and f["source"]]
    if with_source:
        with_source[0]["open"] = True  # the innermost app frame, where the error happened
    return {
        "type": str(exc.get("type") or "Error"),
        "value": str(exc.get("value") or ""),
        "mechanism": mapping(exc.get("mechanism")),
        "groups": _groups([f for f in frames if f]),
        "raw": raw_frames(exc),
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
        "vars": mapping(frame.get("vars")),
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
    for frame in frames:
        if groups and groups[-1]["in_app"] == frame["in_app"]:
            groups[-1]["frames"].append(frame)
        else:
            groups.append({"in_app": frame["in_app"], "frames": [frame]})
    return groups
