"""The snippet's events as store rows: each validated on its own (`_browser_schema`), errors
read by Sentry's normalizer like any SDK's (as `javascript` events with the page's context),
everything redacted, and what the writer would refuse found before the collector answers.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pydantic

from .._redact import redact, redact_text, redact_url
from .._types import Event
from ..store import Row
from ..store._storable import unstorable
from . import _browser_schema as schema
from ._browser_context import page_context, request_interface
from ._inbound_filters import is_noise
from ._normalize import NotNormalized, normalized
from ._react import add_component_stack
from ._repair import Repairs, processing_errors, repair
from ._stack import parse_stack

SDK = {"name": "inferwatch.js", "version": "0.1.0"}
_CATEGORY = {"click": "ui.click", "pageview": "navigation", "console": "console"}


def batch_rows(
    raw_events: list[Any], suspect: bool, user_agent: str | None = None
) -> tuple[list[Row], list[str], int, int]:
    """Rows to store, why the others are invalid, how many values were repaired, and how many
    errors were noise (`_inbound_filters`).

    `suspect`: whether the body holds anything that can need a repair (see `_repair`).
    `user_agent`: the batch's `User-Agent` header, put on its errors.
    """
    rows: list[Row] = []
    invalid: list[str] = []
    repaired = noise = 0
    for i, raw in enumerate(raw_events):
        repairs = Repairs()
        if suspect and isinstance(raw, dict | list):
            repairs = repair(raw, clamp_ints=False)  # the schema bounds each number it keeps
        try:
            event = schema.validate(raw)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            invalid.append(f"event {i}: {'.'.join(map(str, first['loc']))}: {first['msg']}")
            continue
        except RecursionError:
            invalid.append(f"event {i}: nested too deeply")
            continue
        if isinstance(event, schema.ErrorEvent) and is_noise(event):
            noise += 1
            continue
        try:
            kind, data = to_row(event, user_agent)
        except NotNormalized as exc:
            invalid.append(f"event {i}: {exc}")
            continue
        if repairs and kind == "event":  # the batch's paths are not the event's: `errors`
            data["errors"] = [*(data.get("errors") or []), *processing_errors(repairs)]
        problem = unstorable(kind, data)
        if problem:  # never seen once repaired; a 200 must not count what the writer drops
            invalid.append(f"event {i}: {problem}")
            continue
        repaired += len(repairs)
        rows.append((kind, data))
    return rows, invalid, repaired, noise


def to_row(event: schema.BrowserEvent, user_agent: str | None = None) -> Row:
    """A validated snippet event as a store row, redacted (`user_agent`: see `batch_rows`)."""
    kind, data = _redacted_row(event, user_agent)
    # The snippet's session id is put back after redaction: it is a random id the snippet made,
    # though its name reads as a secret's (`session`) to the key rules.
    session = redact_text(event.session) if event.session else None
    if kind == "event":
        data.setdefault("tags", {})["session_id"] = session
    else:
        data["session_id"] = session
    return kind, data


def _redacted_row(event: schema.BrowserEvent, user_agent: str | None) -> Row:
    if isinstance(event, schema.ErrorEvent):  # read by Sentry's normalizer like any SDK's
        return "event", redact(normalized(to_sentry_event(event, user_agent)))
    if isinstance(event, schema.GenerationEvent):
        return "generation", redact(
            {
                "timestamp": event.ts / 1000,
                "source": "browser",
                "model": str(event.attrs.get("model") or event.name),
                "status": event.status,
                "duration_ms": event.duration_ms,
                "first_chunk_ms": event.first_token_ms,
                "output_tokens": event.output_tokens,
                "trace_id": event.trace_id,
                "request_id": event.request_id or event.trace_id,
                "session_id": event.session,
                "span_id": event.span_id,  # not stored: for the span sent to OTLP
            }
        )
    data = event.model_dump(exclude={"type", "ts", "session", "url"}, exclude_none=True)
    return "activity", redact(
        {
            "timestamp": event.ts / 1000,
            "type": event.type,
            "session_id": event.session,
            "url": redact_url(event.url) if event.url else None,
            "data": data,
        }
    )


def to_sentry_event(event: schema.ErrorEvent, user_agent: str | None = None) -> Event:
    """A browser error in the Sentry event schema (platform `javascript`), with the page's
    context (see `_browser_context`)."""
    chain: list[schema.Cause | schema.ErrorEvent] = [
        *reversed(event.cause),
        event,
    ]  # Sentry lists the chain oldest first
    values: list[dict[str, Any]] = [
        {"type": e.name, "value": e.message, "stacktrace": {"frames": parse_stack(e.stack)}}
        for e in chain
    ]
    values[-1]["mechanism"] = {"type": event.mechanism, "handled": event.handled}
    out: Event = {
        # The same report sent again (a retry after a 503 or a lost answer) is stored once.
        "event_id": hashlib.sha256(event.model_dump_json().encode()).hexdigest()[:32],
        "timestamp": event.ts / 1000,
        "platform": "javascript",
        "level": "error",
        "logger": "javascript",
        "sdk": SDK,
        "exception": {"values": values},
        "breadcrumbs": {"values": [_breadcrumb(b) for b in event.breadcrumbs[-50:]]},
        "tags": {"session_id": event.session, "mechanism": event.mechanism},
        "extra": {"count": event.count},
    }
    if request := request_interface(event, user_agent):
        out["request"] = request
    if event.url:
        out["transaction"] = redact_url(event.url).split("?")[0]
    for key in ("release", "environment", "user"):
        if getattr(event, key):
            out[key] = getattr(event, key)
    if event.trace_id:
        out.setdefault("contexts", {})["trace"] = {"trace_id": event.trace_id}
    if page := page_context(event):
        out.setdefault("contexts", {})["page"] = page
    if event.componentStack:
        add_component_stack(out, event.componentStack, event.name, event.message)
    return out


def _breadcrumb(crumb: schema.Breadcrumb) -> dict[str, Any]:
    message = crumb.selector or crumb.path or crumb.message or ""
    out: dict[str, Any] = {
        "timestamp": crumb.ts / 1000,
        "category": _CATEGORY[crumb.type],
        "message": message,
    }
    if crumb.type == "console":
        out["level"] = "warning" if crumb.level == "warn" else (crumb.level or "error")
    if crumb.type == "pageview" and crumb.path:
        out["data"] = {"to": crumb.path}
    return out
