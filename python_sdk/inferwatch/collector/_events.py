"""The items of a Sentry envelope sorted: what to store, what was skipped and why.

An `event` item is read by Sentry's own normalizer (`_normalize`), redacted, and checked against
what the writer would take (`store._storable`): a 200 promises that it is stored, so an event the
writer would refuse is invalid here instead. A transaction (as an `event` item, or posted to
`/store/`) is performance data, not an error: skipped. Attachments, user reports and feedback
are stored beside the events (`_attachments`, `_feedback`); every other type is skipped and
counted (`_counts`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from .._envelope import Envelope, EnvelopeError, Item
from .._redact import redact, redact_text
from .._types import Event
from ..store import Row
from ..store._storable import unstorable
from ._attachments import Skipped, attachment_row
from ._counts import NOT_STORED, item_type_label
from ._feedback import feedback_row, user_report_row
from ._normalize import Normalizer, TransactionEvent
from ._refused import Refused

Outcome = tuple[str, str, str]  # (outcome, item type, reason), as `_counts` counts them


@dataclass(frozen=True)
class Limits:
    """The sizes an envelope's items are held to."""

    max_event_bytes: int
    max_attachment_bytes: int


@dataclass
class Sorted:
    """The items of one envelope: what to store (events, attachments, feedback), and the
    outcome of every other item."""

    events: list[Event] = field(default_factory=list)
    others: list[Row] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def rows(self) -> list[Row]:
        return [*(("event", e) for e in self.events), *self.others]

    def stored(self) -> list[Outcome]:
        """The outcomes to count once the rows are committed."""
        kinds = [("event", "event")] * len(self.events)
        kinds += [(kind, str(data.get("source") or kind)) for kind, data in self.others]
        return [("stored", _stored_type(kind, source), "") for kind, source in kinds]


def sort_items(envelope: Envelope, normalizer: Normalizer, limits: Limits) -> Sorted:
    """The envelope's items sorted: events ready to store (normalized, redacted, with an id),
    attachments and feedback as rows, and the outcome of the rest."""
    out = Sorted()
    header_id = header_event_id(envelope.headers)
    for item in envelope.items:
        kind = item_type_label(item.type)
        out.outcomes.append(("received", kind, ""))
        if kind == "event":
            _event_item(item, normalizer, limits, header_id, out)
    # Attachments go with an event stored from this envelope (a transaction's are dropped with it).
    ids = [e["event_id"] for e in out.events]
    event_id = (header_id if header_id in ids else ids[0]) if ids else None
    for item in envelope.items:
        kind = item_type_label(item.type)
        if kind != "event":
            _other_item(item, kind, normalizer, limits, event_id, out)
    return out


def _event_item(
    item: Item, normalizer: Normalizer, limits: Limits, header_id: str | None, out: Sorted
) -> None:
    if len(item.payload) > limits.max_event_bytes:
        raise Refused(413, f"an event item is larger than {limits.max_event_bytes} bytes")
    try:
        out.events.append(prepare(normalizer.event(item.payload, header_id)))
    except TransactionEvent:
        out.outcomes.append(("skipped", "transaction", "not_stored"))
    except (EnvelopeError, ValueError) as exc:
        out.invalid.append(str(exc))
        out.outcomes.append(("refused", "event", "invalid"))


def _other_item(
    item: Item,
    kind: str,
    normalizer: Normalizer,
    limits: Limits,
    event_id: str | None,
    out: Sorted,
) -> None:
    received = normalizer.arrival.received
    try:
        if kind == "attachment":
            row = attachment_row(item, event_id, received, limits.max_attachment_bytes)
            out.others.append(("attachment", row))
        elif kind == "user_report":
            out.others.append(("feedback", user_report_row(item.payload, received)))
        elif kind == "feedback":
            event = normalizer.event(item.payload)
            out.others.append(("feedback", feedback_row(event, received)))
        else:
            reason = "not_stored" if kind in NOT_STORED else "unknown_type"
            out.outcomes.append(("skipped", kind, reason))
    except Skipped as exc:
        out.outcomes.append(("skipped", kind, str(exc)))
    except (ValueError, RecursionError):
        out.outcomes.append(("refused", kind, "invalid"))


def prepare(event: Event) -> Event:
    """A normalized event as stored: redacted (the remarks Relay and the repairs left in
    `_meta` with it), its id kept; ValueError when the writer would still refuse it."""
    event_id = str(event.get("event_id") or uuid.uuid4().hex)
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


def header_event_id(headers: dict[str, Any]) -> str | None:
    """The envelope header's `event_id` as 32 hex digits; None when absent or not a UUID."""
    value = headers.get("event_id")
    if value is None:
        return None
    try:
        return uuid.UUID(str(value)).hex
    except ValueError:
        return None


def _stored_type(kind: str, source: str) -> str:
    if kind == "feedback":
        return "user_report" if source == "user_report" else "feedback"
    return kind
