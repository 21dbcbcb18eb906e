"""The collector: what the ingest routes share (store, settings, limiter, forwarder)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from .._forward import Forwarder
from ..store import Store
from ._config import CollectorConfig
from ._guards import RateLimiter


@dataclass
class Collector:
    """One collector: mount its routers in any FastAPI app, or serve `create_app(collector)`.

    >>> collector = Collector(Store("events.db"), CollectorConfig(key="k"))  # doctest: +SKIP
    >>> app.include_router(browser_router(collector))                       # doctest: +SKIP
    """

    store: Store
    config: CollectorConfig
    forwarder: Forwarder | None = None
    limiter: RateLimiter = field(init=False)
    _counts: Counter[str] = field(default_factory=Counter, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.config.rate_per_second, self.config.rate_burst)

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def counts(self) -> dict[str, int]:
        """Ingest counts: accepted and invalid events, skipped items, refusals by reason."""
        with self._lock:
            return dict(self._counts)
