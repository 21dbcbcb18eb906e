"""The collector: what the ingest routes share (store, settings, limiter, forwarder)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sentry_sdk.envelope import Envelope

from .._forward import Forwarder
from .._outbox import OUTBOX_FILE
from .._transport import serialize
from .._types import Event
from ..sourcemaps import SourceMapService
from ..store import Store
from ._config import CollectorConfig
from ._counts import REFUSAL_REASONS, IngestCounts
from ._flood import RateLimiter
from ._new_issues import NewIssueLimit
from ._refusals import Refusals

if TYPE_CHECKING:
    from ..export._browser import GenerationSpans


@dataclass
class Collector:
    """One collector: mount its routers in any FastAPI app, or serve `create_app(collector)`.

    >>> collector = Collector(Store("events.db"), CollectorConfig(key="k"))  # doctest: +SKIP
    >>> app.include_router(browser_router(collector))                       # doctest: +SKIP
    """

    store: Store
    config: CollectorConfig
    forwarder: Forwarder | None = None
    generation_spans: GenerationSpans | None = None  # browser generations to OTLP, when set
    limiter: RateLimiter = field(init=False)
    new_issues: NewIssueLimit = field(init=False)
    refusals: Refusals = field(default_factory=Refusals, init=False)
    sourcemaps: SourceMapService = field(init=False)
    ingest: IngestCounts = field(default_factory=IngestCounts, init=False)
    _counts: Counter[str] = field(default_factory=Counter, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _tunnels: dict[str, Forwarder] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.config.rate_per_second, self.config.rate_burst)
        self.new_issues = NewIssueLimit(self.store.path, self.config.max_new_issues_per_minute)
        self.sourcemaps = SourceMapService(self.config.sourcemap_dirs, store_path=self.store.path)
        if self.forwarder is None and self.config.dsn:
            self.forwarder = Forwarder(self.config.dsn, outbox=self.outbox_path)

    @property
    def outbox_path(self) -> Path:
        """The forwarding outbox, kept beside the store."""
        return self.store.path.parent / OUTBOX_FILE

    def tunnel_forwarder(self, dsn: str) -> Forwarder:
        """The forwarder for `dsn`, which must be one of `config.tunnel_dsns`."""
        if dsn not in self.config.tunnel_dsns:
            raise ValueError("only DSNs on the collector's tunnel list are forwarded")
        with self._lock:
            if dsn not in self._tunnels:
                self._tunnels[dsn] = Forwarder(dsn, outbox=self.outbox_path)
            return self._tunnels[dsn]

    def close(self, timeout: float = 5.0) -> None:
        """Stop the forwarders (what they could not send waits in the outbox for next time),
        the watch on the source map folders, send the generation spans still queued, and hand
        the last counts to the store."""
        self.flush_counts()
        self.sourcemaps.close(timeout)
        with self._lock:
            forwarders = [*self._tunnels.values(), *([self.forwarder] if self.forwarder else [])]
        for forwarder in forwarders:
            forwarder.close(timeout)
        if self.generation_spans is not None:
            self.generation_spans.close(timeout)

    def forward_events(self, events: list[Event]) -> bool:
        """Hand stored events, as stored (redacted), to the forwarder and wait for its outbox
        (the disk, never Sentry); False when the outbox cannot take them now."""
        if self.forwarder is None:
            return True
        for event in events:
            envelope = Envelope(headers={"event_id": event["event_id"]})
            envelope.add_event(cast(Any, event))
            self.forwarder.submit(serialize(envelope))
        return self.forwarder.persist(5.0)

    def admit_new_issues(self, key: str, events: list[Event]) -> list[Event]:
        """`events` but those that would open an issue past the key's cap (dropped, counted)."""
        kept, dropped = self.new_issues.admit(key, events)
        if dropped:
            self.count("new_issue_dropped", dropped)
        return kept

    def record(self, outcome: str, item_type: str, reason: str = "", n: int = 1) -> None:
        """Count items by outcome (`received`, `stored`, `skipped`, `refused`), type and reason
        (see `_counts`); `flush_counts` hands them to the store."""
        self.ingest.add(outcome, item_type, reason, n)

    def record_batch(
        self, item_type: str, received: int, stored: int, invalid: int, dropped: int
    ) -> None:
        """Count a batch: received, stored, refused as invalid and past the new-issue cap."""
        self.record("received", item_type, n=received)
        self.record("stored", item_type, n=stored)
        self.record("refused", item_type, "invalid", invalid)
        self.record("refused", item_type, "new_issue_cap", dropped)

    def record_refusal(self, status: int) -> None:
        """Count a request refused whole, by the reason its status stands for."""
        self.ingest.add("refused", "request", REFUSAL_REASONS.get(status, f"http_{status}"))

    def flush_counts(self) -> None:
        """Queue the counts not yet in the store (never waits: the writer adds them up)."""
        rows = self.ingest.take_pending()
        if rows:
            self.store.add_counts(rows)

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def counts(self) -> dict[str, int]:
        """Ingest counts: accepted and invalid events, skipped items, refusals by reason, events
        dropped past the new-issue cap."""
        with self._lock:
            return dict(self._counts)
