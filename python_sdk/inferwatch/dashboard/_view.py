"""A stored Sentry event, shaped for the issue page (the template only lays it out).

Everything a Sentry SDK sends is shown: the exceptions (chains and groups) and threads with
their frames and local variables (`_view_stack`), the message, the request, the user, tags,
every context, `extra`, the facts of the event (level, release, environment, server, SDK) and a
short note of what Sentry's normalizer or the collector repaired on the way in.
"""

from __future__ import annotations

from typing import Any

from . import _logs
from ._model_view import model_card
from ._resolved import component_path
from ._shapes import items, mapping, number
from ._view_stack import exceptions, stacktrace, threads

_FACTS = (
    ("level", "level"),
    ("platform", "platform"),
    ("environment", "environment"),
    ("release", "release"),
    ("dist", "dist"),
    ("server_name", "server"),
    ("transaction", "transaction"),
    ("logger", "logger"),
)
_MAX_REPAIR_NOTES = 5


def event_view(data: dict[str, Any]) -> dict[str, Any]:
    """What the issue page shows of one event.

    >>> event_view({"tags": {"b": 1, "a": 2}})["tags"]
    [('a', '2'), ('b', '1')]
    """
    contexts = mapping(data.get("contexts"))
    return {
        "exceptions": exceptions(data),
        "threads": threads(data),
        "stacktrace": stacktrace(data),
        "components": component_path(data),
        "message": _message(data),
        "model": _model(mapping(contexts.get("model"))),
        "model_card": model_card(contexts.get("model"), _content_type(data.get("request"))),
        "request": _request(mapping(data.get("request"))),
        "tags": sorted((str(k), str(v)) for k, v in _pairs(data.get("tags"))),
        "facts": [(label, str(data[key])) for key, label in _FACTS if _shown(data.get(key))],
        "contexts": {str(k): v for k, v in contexts.items() if k != "model"},
        "extra": mapping(_logs.extras(mapping(data.get("extra")))),
        "user": {str(k): v for k, v in mapping(data.get("user")).items() if _shown(v)},
        "sdk": mapping(data.get("sdk")),
        "repairs": repairs(data),
    }


def repairs(data: dict[str, Any]) -> dict[str, Any] | None:
    """What was changed on the way in, in a few words: the normalizer's `errors` (an invalid
    value replaced, a timestamp clamped) and the remarks in `_meta` (text cut to Sentry's size
    limits, values the store could not hold)."""
    errors = [e for e in items(data.get("errors")) if isinstance(e, dict)]
    notes = [_error_note(e) for e in errors[:_MAX_REPAIR_NOTES]]
    remarks = _remarks(mapping(data.get("_meta")))
    if not errors and not remarks:
        return None
    return {"notes": notes, "errors": len(errors), "remarks": remarks}


def _error_note(error: dict[str, Any]) -> str:
    kind = str(error.get("type") or "error").replace("_", " ")
    name = error.get("name")
    return f"{kind} at {name}" if name else kind


def _remarks(meta: dict[str, Any], depth: int = 0) -> int:
    """The values `_meta` has remarks on (each cut, replaced or removed value counts once)."""
    if depth > 30:
        return 0
    count = 0
    for key, value in meta.items():
        if key == "" and isinstance(value, dict):
            count += 1 if items(value.get("rem")) else 0
        elif isinstance(value, dict):
            count += _remarks(value, depth + 1)
    return count


def _request(request: dict[str, Any]) -> dict[str, Any] | None:
    if not request:
        return None
    return {
        "method": str(request.get("method") or ""),
        "url": str(request.get("url") or ""),
        "query": request.get("query_string"),
        "headers": _pairs(request.get("headers")),
        "cookies": _pairs(request.get("cookies")),
        "env": _pairs(request.get("env")),
        "data": request.get("data"),
    }


def _content_type(request: Any) -> str:
    """The media type the request said its body was (`image/png`), lower case."""
    for key, value in _pairs(mapping(request).get("headers")):
        if key.lower() == "content-type" and isinstance(value, str):
            return value.split(";", 1)[0].strip().lower()[:100]
    return ""


def _pairs(value: Any) -> list[tuple[str, Any]]:
    """A mapping or Sentry's `[[key, value], ...]` pair list as (key, value) pairs."""
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    return [(str(p[0]), p[1]) for p in items(value) if isinstance(p, list) and len(p) == 2]


def _shown(value: Any) -> bool:
    return value is not None and value != "" and value != {} and value != []


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
    message = data.get("message")
    if isinstance(message, dict):
        message = message.get("formatted") or message.get("message")
    return str(entry.get("formatted") or entry.get("message") or message or "")
