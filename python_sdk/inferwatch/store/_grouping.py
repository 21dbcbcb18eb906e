"""One grouping function for backend and browser errors.

An explicit fingerprint wins (with `{{ default }}` standing for the default one). Otherwise:

- an error: the main exception's type, its value with the variable parts replaced, and where it
  happened (the innermost in-app frame of the stack trace that tells: the exceptions', the
  crashed thread's, the top-level one); an exception the SDK made up (`synthetic`) by where only;
- a security report: its kind and what it names (the CSP directive and blocked host, the host
  of a certificate report);
- a message: its template (the log entry's raw message, so `User %s signed up` is one issue
  whatever the user), else its formatted text, with the variable parts replaced, and where, when
  it carries a stack trace.

The model context and the request id are never part of it: the same bug in two requests, or
with two prompts, is one issue.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from .._types import Event
from ._crash import crash_frame, is_synthetic, main_exception, mapping, telling_frames
from ._titles import SECURITY, csp_directive, event_type, message_text, title, uri_host

__all__ = ["DEFAULT", "culprit_frame", "fingerprint", "normalize_message", "title"]

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


def culprit_frame(event: Event) -> dict[str, Any] | None:
    """The innermost in-app frame of the stack trace that tells, or its innermost frame."""
    return crash_frame(telling_frames(event))


def _where(event: Event) -> str:
    frame = mapping(culprit_frame(event))
    if not frame:
        return ""
    return f"{frame.get('module') or frame.get('filename') or ''}:{frame.get('function') or ''}"


def default_components(event: Event) -> list[str]:
    kind = event_type(event)
    if kind in SECURITY:
        return _security_components(event, kind)
    exc = main_exception(event)
    if kind == "error" and exc is not None:
        if is_synthetic(exc):
            return ["synthetic", _where(event) or title(event)]
        value = normalize_message(str(exc.get("value") or ""))
        return [str(exc.get("type") or "Error"), value, _where(event)]
    parts = ["message", normalize_message(_template(event))]
    where = _where(event)
    return [*parts, where] if where else parts


def _template(event: Event) -> str:
    """A message's raw text when it was formatted from params, else its formatted text."""
    entry = event.get("logentry") if isinstance(event.get("logentry"), dict) else None
    entry = entry if entry is not None else mapping(event.get("message"))
    raw = entry.get("message")
    if isinstance(raw, str) and raw.strip() and entry.get("params"):
        return raw.strip()
    return message_text(event)


def _security_components(event: Event, kind: str) -> list[str]:
    report = mapping(event.get(kind))
    if kind == "csp":
        blocked = str(report.get("blocked_uri") or "self")
        return [kind, csp_directive(report), uri_host(blocked)]
    return [kind, str(report.get("hostname") or report.get("url") or "")]


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
