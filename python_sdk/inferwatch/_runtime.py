"""The configuration `init` installed: options, store and forwarder, shared by every entry point."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from ._forward import Forwarder
from ._options import Options
from ._summary import Budget
from .store import Store
from .store._pruner import Pruner

if TYPE_CHECKING:
    from .alerts import Alerter
    from .export._tracing import Tracing


@dataclass(frozen=True)
class Runtime:
    options: Options
    store: Store | None
    forwarder: Forwarder | None
    pruner: Pruner | None = None
    tracing: Tracing | None = None
    alerter: Alerter | None = None

    @cached_property  # read by every watched model call
    def budget(self) -> Budget:
        return Budget(field_chars=self.options.max_field_chars, mask=self.options.mask)

    def drain(self, timeout: float = 5.0) -> None:
        """Write what is queued: rows to the store, envelopes for Sentry to the outbox, spans
        to the OTLP endpoint; then send the alerts the store's last commits decided on (last:
        a slow webhook must not hold up what is kept on disk)."""
        if self.store is not None:
            self.store.flush(timeout)
        if self.forwarder is not None:
            self.forwarder.persist(timeout)
        if self.tracing is not None:
            self.tracing.flush(timeout)
        if self.alerter is not None:
            self.alerter.flush(timeout)

    def close(self, timeout: float = 5.0) -> None:
        if self.tracing is not None:
            self.tracing.close(timeout)
        if self.pruner is not None:
            self.pruner.close(timeout)
        if self.store is not None:
            self.store.close(timeout)
        if self.forwarder is not None:
            self.forwarder.close(timeout)
        if self.alerter is not None:  # after the store: its last commits may alert
            self.alerter.close(timeout)


_current: Runtime | None = None


def current() -> Runtime | None:
    """The runtime of the last `init`, or None before it."""
    return _current


def install(runtime: Runtime | None) -> Runtime | None:
    """Make `runtime` current; returns the one it replaced."""
    global _current
    previous, _current = _current, runtime
    return previous
