"""The items of a Sentry envelope sorted: events made ready to store, the rest counted.

An event is ready to store when every value the store could not hold has been repaired (and the
repairs recorded in `_meta`, see `_repair`), it has been redacted, and the writer would take it
(`store._storable`): a 200 promises that it is stored, so what the writer would refuse is
invalid here instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from .._envelope import Envelope, EnvelopeError, Item
from .._redact import redact, redact_text
from .._types import Event
from ..store._storable import unstorable
from ._refused import Refused
from ._repair import add_meta, may_need_repair, repair

# Item types a Sentry SDK sends that the store has no place for; anything else counts "unknown".
KNOWN_TYPES = frozenset(
    [
        "transaction",
        "session",
        "sessions",
        "client_report",
        "attachment",
        "profile",
        "profile_chunk",
        "check_in",
        "replay_event",
        "replay_recording",
        "replay_video",
        "span",
        "otel_span",
        "log",
        "statsd",
        "metric_meta",
        "user_report",
        "feedback",
    ]
)


@dataclass
class Sorted:
    """The items of one envelope: events to store, and what was skipped or invalid."""

    events: list[Event] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def sort_items(envelope: Envelope, max_event_bytes: int) -> Sorted:
    """Events ready to store (redacted, with an id), and the types of the items skipped."""
    out = Sorted()
    for item in envelope.items:
        if item.type != "event":
            out.skipped.append(item.type if item.type in KNOWN_TYPES else "unknown")
        elif len(item.payload) > max_event_bytes:
            raise Refused(413, f"an event item is larger than {max_event_bytes} bytes")
        else:
            try:
                out.events.append(_event(item, envelope.headers))
            except (EnvelopeError, ValueError) as exc:
                out.invalid.append(str(exc))
    return out


def _event(item: Item, envelope_headers: dict[str, Any]) -> Event:
    """An event item as stored: repaired where the store could not hold it (and the repairs
    recorded in `_meta`, redacted with the rest), redacted; ValueError when it cannot be."""
    event = item.json()
    if not isinstance(event, dict):
        raise ValueError("an event item must be a JSON object")
    event = _values_objects(event)
    if may_need_repair(item.payload):
        repairs = repair(event)
        if repairs:
            add_meta(event, repairs)
    event_id = _event_id(event) or header_event_id(envelope_headers) or uuid.uuid4().hex
    meta = event.pop("_meta", None)
    event = {**redact(event), "event_id": event_id}
    if isinstance(meta, dict):
        event["_meta"] = redacted_meta(meta)
    problem = unstorable("event", event)
    if problem:
        raise ValueError(problem)
    return event


def redacted_meta(meta: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """`_meta` with its keys (the event's keys) and the originals it keeps (`val`) redacted, and
    Relay's remarks as they are: under the key rules, a remark kept under `extra.tokens` would
    read as a token count's text and be filtered."""
    out: dict[str, Any] = {}
    for key, value in list(meta.items())[:1000]:
        if key == "" and isinstance(value, dict):
            out[key] = {**value, **({"val": redact(value["val"])} if "val" in value else {})}
        elif isinstance(value, dict) and depth < 20:
            out[redact_text(str(key))] = redacted_meta(value, depth + 1)
    return out


def _values_objects(event: Event) -> Event:
    """Sentry accepts `exception`, `breadcrumbs` and `threads` as a bare list or as
    `{"values": [...]}` (@sentry/browser sends bare breadcrumbs); the store keeps one shape."""
    for key in ("exception", "breadcrumbs", "threads"):
        if isinstance(event.get(key), list):
            event[key] = {"values": event[key]}
    return event


def header_event_id(headers: dict[str, Any]) -> str | None:
    try:
        return _event_id(headers)
    except ValueError:
        return None


def _event_id(holder: dict[str, Any]) -> str | None:
    """The `event_id` as 32 hex digits; None when absent; ValueError when not a UUID."""
    value = holder.get("event_id")
    if value is None:
        return None
    try:
        return uuid.UUID(str(value)).hex
    except ValueError as exc:
        raise ValueError(f"event_id {str(value)[:40]!r} is not a UUID") from exc
