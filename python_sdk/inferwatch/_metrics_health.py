"""inferwatch's own health, read at scrape time: the store's and the forwarder's counts.

In multiprocess mode each worker also copies them into its own files, so that every worker's
store and forwarder add up in any worker's scrape.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from prometheus_client import Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from . import _fork

logger = logging.getLogger("inferwatch")
_lock = threading.Lock()
restart_mirror = False
"""Set in a worker forked while its parent's mirror ran: its first observation starts its own."""


class StoreLike(Protocol):
    def stats(self) -> dict[str, Any]: ...


Sources = Callable[[], tuple[StoreLike | None, Any]]
"""Returns the store and the forwarder (anything with a `counts` mapping) to report on."""


class HealthCollector:
    """Reads `Store.stats()` and the forwarder's counts when scraped: no cost on the hot path."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        store, forwarder = self.sources()
        if store is not None:
            yield from _store_metrics(store.stats())
        stats = getattr(forwarder, "stats", None)
        if callable(stats):
            yield from _forward_metrics(stats())


def _store_metrics(stats: dict[str, Any]) -> Iterator[Metric]:
    yield CounterMetricFamily(
        "inferwatch_store_accepted_rows",
        "Rows (events, generations, requests) the store accepted.",
        value=stats["accepted"],
    )
    yield CounterMetricFamily(
        "inferwatch_store_stored_rows", "Rows committed to the store.", value=stats["stored"]
    )
    dropped = CounterMetricFamily(
        "inferwatch_store_dropped_rows", "Rows dropped, by reason.", labels=["reason"]
    )
    for reason, n in sorted(stats["dropped"].items()):
        dropped.add_metric([reason], n)
    yield dropped
    yield GaugeMetricFamily(
        "inferwatch_store_queue_depth", "Rows waiting for the writer.", value=stats["queue_depth"]
    )


def _forward_metrics(stats: dict[str, Any]) -> Iterator[Metric]:
    for key, text in (
        ("sent", "Envelopes Sentry accepted."),
        ("failed", "Attempts to reach Sentry that failed (retried from the outbox)."),
        ("rate_limited", "Answers from Sentry that asked to slow down (429)."),
    ):
        yield CounterMetricFamily(f"inferwatch_forward_{key}", text, value=stats.get(key, 0))
    dropped = CounterMetricFamily(
        "inferwatch_forward_dropped", "Envelopes given up on, by reason.", labels=["reason"]
    )
    for reason, n in sorted((stats.get("dropped") or {}).items()):
        dropped.add_metric([str(reason)], n)
    yield dropped
    yield GaugeMetricFamily(
        "inferwatch_forward_pending",
        "Envelopes waiting to be sent to Sentry.",
        value=stats.get("pending", 0),
    )


def runtime_sources() -> tuple[StoreLike | None, Any]:
    """The store and the forwarder of the current `init`, if any."""
    from . import _runtime

    runtime = _runtime.current()
    return (runtime.store, runtime.forwarder) if runtime else (None, None)


class _FileMirror:
    """Multiprocess mode: the health families copied into this worker's files, so that every
    worker's store and forwarder add up in any worker's scrape. Counters are copied as
    increments (a dead worker's stay counted), gauges summed over the live workers."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self._metrics: dict[str, Any] = {}
        self._last: dict[tuple[str, tuple[str, ...]], float] = {}
        self._owner: tuple[Any, Any] = (None, None)
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None
        _fork.register(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        """A forked worker copies its own counts from zero (the parent's are in the parent's
        files), and starts its own thread at its first observation."""
        global restart_mirror
        self._lock = threading.Lock()
        self._owner, self._last = (None, None), {}
        if self.thread is not None:
            self.thread, restart_mirror = None, True

    def sync(self) -> None:
        with self._lock:
            store, forwarder = self.sources()
            if store is not self._owner[0] or forwarder is not self._owner[1]:
                self._owner, self._last = (store, forwarder), {}  # `init` again counts from 0
            for family in HealthCollector(lambda: (store, forwarder)).collect():
                for sample in family.samples:
                    self._copy(family, sample.labels, sample.value)

    def run(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            try:
                self.sync()
            except Exception:  # a metrics thread must never take anything down
                logger.debug("inferwatch: could not copy health metrics", exc_info=True)

    def _copy(self, family: Metric, labels: dict[str, str], value: float) -> None:
        names = tuple(sorted(labels))
        values = tuple(labels[n] for n in names)
        metric = self._metric(family, names)
        child = metric.labels(*values) if names else metric
        if family.type == "gauge":
            child.set(value)
            return
        key = (family.name, values)
        delta, self._last[key] = value - self._last.get(key, 0.0), value
        if delta > 0:
            child.inc(delta)

    def _metric(self, family: Metric, names: tuple[str, ...]) -> Any:
        metric = self._metrics.get(family.name)
        if metric is None:
            if family.type == "gauge":
                metric = Gauge(
                    family.name,
                    family.documentation,
                    names,
                    registry=None,
                    multiprocess_mode="livesum",
                )
            else:
                metric = Counter(family.name, family.documentation, names, registry=None)
            self._metrics[family.name] = metric
        return metric


_mirrors: dict[Sources, _FileMirror] = {}


def file_mirror(sources: Sources) -> _FileMirror:
    """The one mirror of `sources` in this process."""
    with _lock:
        mirror = _mirrors.get(sources)
        if mirror is None:
            mirror = _mirrors[sources] = _FileMirror(sources)
        return mirror


def start_mirror(interval: float = 5.0) -> None:
    """Multiprocess mode: keep this worker's health in its files, also between its scrapes."""
    global restart_mirror
    restart_mirror = False
    if not multiprocess_mode():
        return
    mirror = file_mirror(runtime_sources)
    with _lock:
        if mirror.thread is not None:
            return
        mirror.thread = threading.Thread(
            target=mirror.run, args=(interval,), name="inferwatch-metrics", daemon=True
        )
        mirror.thread.start()


def _after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # another thread of the parent may have held it at the fork


_fork.register(after_in_child=_after_fork)


def multiprocess_mode() -> bool:
    """Whether prometheus_client's multiprocess mode is on (`PROMETHEUS_MULTIPROC_DIR`)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
