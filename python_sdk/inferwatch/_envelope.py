"""A small, strict reader of Sentry envelopes (https://develop.sentry.dev/sdk/envelopes/).

sentry-sdk's `Envelope.deserialize` trusts its input (a bad `length` or a non-object header
raises whatever it meets); this one bounds the item count, accepts items with and without
`length`, and reports every malformation as one `EnvelopeError` with a readable message.

>>> envelope = parse(b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\\n{"type":"event"}\\n{}\\n')
>>> [item.type for item in envelope.items]
['event']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import _json

MAX_ITEMS = 1000

# Sentry's rate-limit categories per item type (https://develop.sentry.dev/sdk/rate-limiting/).
_CATEGORY = {
    "event": "error",
    "session": "session",
    "sessions": "session",
    "client_report": "internal",
    "replay_event": "replay",
    "replay_recording": "replay",
    "check_in": "monitor",
    "log": "log_item",
    "statsd": "metric_bucket",
    "feedback": "feedback",
    "user_report": "user_report",
}


class EnvelopeError(ValueError):
    """The body is not a Sentry envelope; the message says where it went wrong."""


@dataclass(frozen=True)
class Item:
    headers: dict[str, Any]
    payload: bytes

    @property
    def type(self) -> str:
        return str(self.headers.get("type") or "")

    def json(self) -> Any:
        """The payload parsed as JSON, or an `EnvelopeError`."""
        try:
            return _json.loads(self.payload)
        except (ValueError, RecursionError) as exc:
            raise EnvelopeError(f"the {self.type!r} item is not valid JSON") from exc


@dataclass(frozen=True)
class Envelope:
    headers: dict[str, Any]
    items: list[Item]

    @property
    def categories(self) -> frozenset[str]:
        """The rate-limit categories of its items (what `X-Sentry-Rate-Limits` names)."""
        return frozenset(_CATEGORY.get(item.type, item.type) for item in self.items)


def parse(data: bytes, *, max_items: int = MAX_ITEMS) -> Envelope:
    """The envelope in `data`: a header line, then items each with a header line and a payload."""
    line, pos = _line(data, 0)
    headers = _object(line, "the envelope header")
    items: list[Item] = []
    while pos < len(data):
        line, pos = _line(data, pos)
        if not line.strip():
            continue  # blank lines between items and at the end are tolerated, as Relay does
        if len(items) == max_items:
            raise EnvelopeError(f"an envelope holds at most {max_items} items")
        item_headers = _object(line, f"item {len(items)}'s header")
        payload, pos = _payload(data, pos, item_headers, len(items))
        items.append(Item(item_headers, payload))
    return Envelope(headers, items)


def serialize(envelope: Envelope) -> bytes:
    """`envelope` as bytes: each item with its `length`, so a payload may hold newlines.

    >>> serialize(Envelope({}, [Item({"type": "event"}, b"{}")]))
    b'{}\\n{"type":"event","length":2}\\n{}\\n'
    """
    parts = [_json.dumps(envelope.headers).encode(), b"\n"]
    for item in envelope.items:
        headers = {**item.headers, "length": len(item.payload)}
        parts += [_json.dumps(headers).encode(), b"\n", item.payload, b"\n"]
    return b"".join(parts)


def _payload(data: bytes, pos: int, headers: dict[str, Any], index: int) -> tuple[bytes, int]:
    length = headers.get("length")
    if length is None:
        return _line(data, pos)
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise EnvelopeError(f"item {index}'s length must be a non-negative integer")
    end = pos + length
    if end > len(data):
        raise EnvelopeError(f"item {index} is shorter than its length of {length} bytes")
    return data[pos:end], end + 1 if data[end : end + 1] == b"\n" else end


def _line(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.find(b"\n", pos)
    if end < 0:
        return data[pos:], len(data)
    return data[pos:end], end + 1


def _object(line: bytes, what: str) -> dict[str, Any]:
    try:
        value = _json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise EnvelopeError(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise EnvelopeError(f"{what} must be a JSON object")
    return value
