"""The sentry-sdk Transport inferwatch installs: events to the local store, envelopes to Sentry."""

from __future__ import annotations

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
            self.forwarder.submit(envelope.serialize())

    def flush(self, timeout: float, callback: Any | None = None) -> None:
        if self.store is not None:
            self.store.flush(timeout)
        if self.forwarder is not None:
            self.forwarder.flush(timeout)

    def kill(self) -> None:
        """Nothing to stop: sentry-sdk flushes before it kills, and `shutdown` closes the store."""
