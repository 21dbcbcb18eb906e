"""One grouping function for backend and browser errors.

An explicit fingerprint wins (with `{{ default }}` standing for the default one); otherwise the
exception type, its message with the variable parts replaced, and the innermost in-app frame.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from .._types import Event

_VARIABLE_PARTS = [
    (re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`"), "<str>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
]
DEFAULT = "{{ default }}"


def normalize_message(message: str) -> str:
    """The message with numbers, hex, UUIDs and quoted values replaced.

    >>> normalize_message("user 42 not found in 'eu-1'")
    'user <n> not found in <str>'
    """
    for regex, placeholder in _VARIABLE_PARTS:
        message = regex.sub(placeholder, message)
    return message[:500]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def primary_exception(event: Event) -> dict[str, Any] | None:
    """The exception that was raised (Sentry lists the chain oldest first)."""
    exception = event.get("exception")
    # `{"values": [...]}`, or the bare list Sentry also accepts; anything else is no exception.
    values = _list(exception.get("values") if isinstance(exception, dict) else exception)
    return values[-1] if values and isinstance(values[-1], dict) else None


def culprit_frame(event: Event) -> dict[str, Any] | None:
    """The innermost in-app frame of the primary exception, or its innermost frame."""
    exc = primary_exception(event) or {}
    frames = [f for f in _list(_dict(exc.get("stacktrace")).get("frames")) if isinstance(f, dict)]
    in_app = [f for f in frames if f.get("in_app")]
    chosen = in_app or frames
    return chosen[-1] if chosen else None


def message_of(event: Event) -> str:
    logentry = _dict(event.get("logentry"))
    return str(logentry.get("formatted") or logentry.get("message") or event.get("message") or "")


def default_components(event: Event) -> list[str]:
    exc = primary_exception(event)
    if exc is None:
        return ["message", normalize_message(message_of(event))]
    frame = culprit_frame(event) or {}
    where = f"{frame.get('module') or frame.get('filename') or ''}:{frame.get('function') or ''}"
    return [str(exc.get("type") or "Error"), normalize_message(str(exc.get("value") or "")), where]


def fingerprint(event: Event) -> str:
    """A stable hash that is the same for every event of one issue."""
    explicit = event.get("fingerprint")
    if isinstance(explicit, list) and explicit:
        parts: list[str] = []
        for part in explicit:
            parts.extend(default_components(event) if part == DEFAULT else [str(part)])
    else:
        parts = default_components(event)
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()


def title(event: Event) -> str:
    exc = primary_exception(event)
    if exc is None:
        return (message_of(event) or "<no message>").splitlines()[0][:200]
    value = str(exc.get("value") or "").splitlines()
    return f"{exc.get('type') or 'Error'}: {value[0] if value else ''}"[:200]


def culprit(event: Event) -> str:
    frame = culprit_frame(event)
    if frame:
        where = frame.get("module") or frame.get("filename") or "?"
        return f"{where} in {frame.get('function') or '?'}"[:200]
    return str(event.get("transaction") or event.get("culprit") or "")[:200]
