"""What the tunnel forwards to Sentry: the envelope rebuilt with its JSON items redacted.

A page's envelope carries what the page saw: emails, card numbers, tokens in URLs and in
breadcrumbs. The store keeps events redacted; the copy that goes on to Sentry (and waits in the
outbox on this disk) is redacted the same way, with the same `redact`. Each JSON item (event,
transaction, feedback, log, span, session, ...) is parsed, repaired like a stored event (see
`_repair`), redacted and written again; an item that cannot be redacted (attachments, replay
recordings and videos, anything binary, JSON that does not parse) is dropped and counted.
Forwarding byte for byte is the collector's `tunnel_verbatim` option (`--tunnel-verbatim`).

>>> rebuilt = redacted_envelope(parse(body))        # doctest: +SKIP
>>> rebuilt.body, rebuilt.dropped                    # doctest: +SKIP
(b'{"dsn":...}\\n{"type":"event","length":...}\\n{...}\\n', ['attachment'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import _json
from .._envelope import Envelope, EnvelopeError, Item, serialize
from .._redact import redact
from ._counts import item_type_label
from ._repair import add_meta, may_need_repair, repair

# Items whose payload is one JSON document Sentry reads as data: redacted and forwarded.
REDACTABLE = frozenset(
    {
        "event",
        "transaction",
        "feedback",
        "user_report",
        "log",
        "span",
        "otel_span",
        "session",
        "sessions",
        "client_report",
        "check_in",
        "replay_event",
        "profile",
        "profile_chunk",
        "metric_meta",
    }
)
# Items Relay reads `_meta` on: where the repairs are recorded.
_WITH_META = frozenset({"event", "transaction", "feedback"})
# Fields that identify rather than describe, kept as sent (a redaction rule must not turn an
# event id, or the DSN and the project key Sentry routes and samples by, into "[Filtered]").
_KEPT = ("dsn", "event_id", "sent_at")
_KEPT_IN_TRACE = ("public_key", "trace_id")  # the envelope header's dynamic sampling context


@dataclass
class Rebuilt:
    """The envelope to forward (None when no item is left) and the types of the items dropped."""

    body: bytes | None
    dropped: list[str] = field(default_factory=list)


def redacted_envelope(envelope: Envelope) -> Rebuilt:
    """`envelope` with its JSON items redacted and its other items dropped."""
    items: list[Item] = []
    dropped: list[str] = []
    for item in envelope.items:
        kept = _redacted_item(item) if item.type in REDACTABLE else None
        if kept is None:
            dropped.append(item_type_label(item.type))
        else:
            items.append(kept)
    if not items:
        return Rebuilt(None, dropped)
    headers = _with_kept(redact(envelope.headers), envelope.headers)
    trace, clean = envelope.headers.get("trace"), headers.get("trace")
    if isinstance(trace, dict) and isinstance(clean, dict):
        headers["trace"] = _with_kept(clean, trace, _KEPT_IN_TRACE)
    return Rebuilt(serialize(Envelope(headers, items)), dropped)


def _redacted_item(item: Item) -> Item | None:
    try:
        payload = item.json()
    except EnvelopeError:
        return None  # not JSON after all: nothing to redact it with, so it does not leave
    if isinstance(payload, dict | list) and may_need_repair(item.payload):
        repairs = repair(payload)
        if repairs and isinstance(payload, dict) and item.type in _WITH_META:
            add_meta(payload, repairs)
    clean = redact(payload)
    if isinstance(clean, dict) and isinstance(payload, dict):
        clean = _with_kept(clean, payload)
    return Item(item.headers, _json.dumps(clean).encode())


def _with_kept(
    clean: dict[str, Any], original: dict[str, Any], keys: tuple[str, ...] = _KEPT
) -> dict[str, Any]:
    return {**clean, **{k: original[k] for k in keys if isinstance(original.get(k), str)}}
