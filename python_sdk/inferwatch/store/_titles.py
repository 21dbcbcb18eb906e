"""An issue's title and culprit, by the rules Sentry's `eventtypes` and culprit code follow.

- **Errors** are titled by their main exception: `Type: first line of the value` (cut to 100
  characters), `Type` alone when the value is empty; an exception the SDK made up (its mechanism
  says `synthetic`) by the function it happened in.
- **Messages** by the first line of their formatted log entry, else of the raw one
  (`<unlabeled event>` when there is none).
- **Security reports** (CSP, HPKP, Expect-CT, Expect-Staple) by their message, which the
  browser's report was turned into; one posted without a message is given the one Relay writes.
- **The culprit** is the code location: the innermost in-app frame of the stack trace that tells
  (the exceptions', the crashed thread's, the top-level one), written per platform as Sentry
  writes it (`module in function`, `function(file)` for JavaScript, `function` for native code);
  without frames, the culprit the SDK sent, the transaction, then the request's URL.
  Sentry puts the transaction first; see docs/sentry.md.

>>> title({"exception": {"values": [{"type": "ValueError", "value": ""}]}})
'ValueError'
>>> title({"logentry": {"formatted": "Disk is full\\nsecond line"}})
'Disk is full'
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .._types import Event
from ._crash import crash_frame, is_synthetic, main_exception, mapping, telling_frames

MAX_CULPRIT = 200  # Sentry's MAX_CULPRIT_LENGTH
SECURITY = ("csp", "hpkp", "expectct", "expectstaple", "nel")
_NATIVE = ("objc", "cocoa", "native", "c", "swift")
_JAVASCRIPT = ("javascript", "node")


def truncatechars(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last three `...` (as Sentry cuts titles).

    >>> truncatechars("abcdef", 5)
    'ab...'
    """
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."


def event_type(event: Event) -> str:
    """`error`, `default` or a security report's kind, as Relay infers it."""
    kind = event.get("type")
    if kind in SECURITY or kind in ("error", "default"):
        return str(kind)
    for key in SECURITY:
        if isinstance(event.get(key), dict):
            return key
    return "error" if main_exception(event) is not None else "default"


def title(event: Event) -> str:
    """The title Sentry gives this event."""
    kind = event_type(event)
    if kind in SECURITY:
        return security_message(event, kind) or "<untitled>"
    exc = main_exception(event)
    if kind == "error" and exc is not None:
        return _error_title(event, exc)
    message = message_text(event)
    return truncatechars(message.splitlines()[0], 100) if message else "<unlabeled event>"


def _error_title(event: Event, exc: dict[str, Any]) -> str:
    if is_synthetic(exc):
        frame = crash_frame(telling_frames(event), named=True)
        return str(mapping(frame).get("function") or "<unknown>")
    kind = _text(exc.get("type"))[:128] or "Error"
    value = _text(exc.get("value"))[:1024]
    if not value:
        return kind
    lines = value.splitlines()
    return f"{kind}: {truncatechars(lines[0] if lines else '', 100)}"


def message_text(event: Event) -> str:
    """The formatted log entry, else the raw one; a top-level `message` (a string, or the object
    Java and PHP SDKs send) for events stored without Relay, such as the SDK's own."""
    for entry in (event.get("logentry"), event.get("message")):
        if isinstance(entry, dict):
            text = _text(entry.get("formatted")).strip() or _text(entry.get("message")).strip()
            if text:
                return text
        elif isinstance(entry, str) and entry.strip():
            return entry.strip()
    return ""


def culprit(event: Event) -> str:
    """Where the event happened: the code location, else what the SDK or the request says."""
    exc = main_exception(event)
    if exc is not None and is_synthetic(exc):
        return ""  # Sentry gives a made-up exception no culprit
    found = _stack_culprit(event) or _text(event.get("culprit")) or _text(event.get("transaction"))
    return truncatechars(found or _text(mapping(event.get("request")).get("url")), MAX_CULPRIT)


def _stack_culprit(event: Event) -> str:
    """The in-app frame closest to the crash that names a place, else the closest frame."""
    platform = _text(event.get("platform"))
    fallback = None
    for frame in telling_frames(event)[::-1]:
        if frame.get("in_app") is True:
            found = frame_culprit(frame, platform)
            if found:
                return found
        elif fallback is None:
            fallback = frame_culprit(frame, platform)
    return fallback or ""


def frame_culprit(frame: dict[str, Any], platform: str) -> str:
    """A frame as Sentry writes it in a culprit.

    >>> frame_culprit({"module": "app.models", "function": "run"}, "python")
    'app.models in run'
    >>> frame_culprit({"filename": "/app.js", "function": "render"}, "javascript")
    'render(/app.js)'
    """
    platform = _text(frame.get("platform")) or platform
    function = _text(frame.get("function")) or "?"
    if platform in _NATIVE:
        return function
    where = _text(frame.get("module")) or _text(frame.get("filename"))
    if not where:
        return ""
    return f"{function}({where})" if platform in _JAVASCRIPT else f"{where} in {function}"


def security_message(event: Event, kind: str) -> str:
    """The message of a security report: its log entry, else the one Relay writes for it."""
    message = message_text(event)
    if message:
        return truncatechars(message.splitlines()[0], 100)
    report = mapping(event.get(kind))
    host = _text(report.get("hostname"))
    if kind == "csp":
        return _csp_message(report)
    if kind == "hpkp":
        return f"Public key pinning validation failed for '{host}'"
    if kind == "expectct":
        return f"Expect-CT failed for '{host}'"
    if kind == "expectstaple":
        return f"Expect-Staple failed for '{host}'"
    return ""


_CSP_KINDS = {
    "child-src": "child",
    "connect-src": "connect",
    "font-src": "font",
    "img-src": "image",
    "manifest-src": "manifest",
    "media-src": "media",
    "object-src": "object",
    "script-src": "script",
    "script-src-elem": "script",
    "style-src": "style",
    "style-src-elem": "style",
}


def _csp_message(report: dict[str, Any]) -> str:
    directive = csp_directive(report)
    blocked = _text(report.get("blocked_uri")) or "self"
    kind = _CSP_KINDS.get(directive, directive)
    if blocked in ("self", "'self'", "inline", "eval", "'unsafe-inline'", "'unsafe-eval'"):
        return f"Blocked inline '{kind}'"
    if directive == "form-action":
        return f"Blocked 'form' action to '{uri_host(blocked)}'"
    return f"Blocked '{kind}' from '{uri_host(blocked)}'"


def csp_directive(report: dict[str, Any]) -> str:
    """The effective directive, else the first word of the violated one (Firefox)."""
    directive = _text(report.get("effective_directive"))
    if not directive:
        words = _text(report.get("violated_directive")).split()
        directive = words[0] if words else ""
    return directive


def uri_host(uri: str) -> str:
    """A URI as Sentry names it in a report: its host, or the URI when it has none.

    >>> uri_host("https://cdn.example.com/x.js?a=1"), uri_host("data")
    ('cdn.example.com', 'data')
    """
    try:
        host = urlsplit(uri).netloc
    except ValueError:
        return uri
    return host or uri


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)
