"""The sentry-sdk Transport inferwatch installs: events to the local store, envelopes to Sentry."""

from __future__ import annotations

import math
from typing import Any

from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from ._forward import Forwarder
from .store import Store


class LocalTransport(Transport):
    """Hands each event to the store's queue and each envelope to the forwarder; never blocks.

    Passed to `sentry_sdk.init` as an instance: a class would be dropped when there is no DSN.
    """

    def __init__(self, store: Store | None, forwarder: Forwarder | None = None) -> None:
        super().__init__()
        self.store = store
        self.forwarder = forwarder

    def capture_envelope(self, envelope: Envelope) -> None:
        if self.store is not None:
            for item in envelope.items:
                payload = item.payload.json if item.type == "event" else None
                if isinstance(payload, dict):
                    self.store.add("event", payload)
        if self.forwarder is not None:
            self.forwarder.submit(serialize(envelope))

    def flush(self, timeout: float, callback: Any | None = None) -> None:
        if self.store is not None:
            self.store.flush(timeout)
        if self.forwarder is not None:
            self.forwarder.flush(timeout)

    def kill(self) -> None:
        """Nothing to stop: sentry-sdk flushes before it kills, and `shutdown` closes the store."""


def serialize(envelope: Envelope) -> bytes:
    """`envelope` as bytes for Sentry, with what JSON cannot carry written as text.

    sentry-sdk refuses NaN and infinity, and objects JSON does not know (a `before_send` or a
    context may add them after its own serializer ran); a model that returns a NaN score is
    exactly the failure that should reach Sentry, so the event goes, with those values as text.
    """
    try:
        return envelope.serialize()
    except (ValueError, TypeError):
        for item in envelope.items:
            if item.payload.json is not None:
                item.payload.json = _json_safe(item.payload.json)
        return envelope.serialize()


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # "nan", "inf", "-inf"
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return f"<{type(value).__name__}>"  # never its content: it was not redacted
