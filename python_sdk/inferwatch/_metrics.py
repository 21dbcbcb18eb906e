"""Prometheus metrics: HTTP requests, model calls (OpenTelemetry GenAI names), the browser, and
inferwatch's own health, served at `/metrics`.

inferwatch's instruments live in their own registry, so an app that already registers metrics in
prometheus_client's default registry (prometheus-fastapi-instrumentator, its own counters) never
meets a duplicate-registration error; `/metrics` serves both. With `PROMETHEUS_MULTIPROC_DIR`
set (before prometheus_client is imported), every scrape builds a fresh registry that reads all
workers' files (see docs/monitoring.md for the gunicorn `child_exit` hook).

    inferwatch.init(app, metrics=True)                  # adds GET /metrics to `app`
    inferwatch.add_metrics_route(other_app, "/internal/metrics")   # or anywhere else
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Protocol

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from . import _fork

# Model endpoints take seconds to minutes: the default buckets stop at 10 s.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300)
# The OpenTelemetry GenAI conventions' explicit bucket boundaries.
GENAI_SECONDS_BUCKETS = tuple(0.01 * 2**i for i in range(14))  # 0.01 ... 81.92
GENAI_TOKEN_BUCKETS = tuple(4**i for i in range(14))  # 1, 4, 16 ... 67108864
UNMATCHED = "<unmatched>"
OTHER = "other"
SKIPPED_ROUTES = frozenset({"/metrics", "/health", "/healthz", "/livez", "/readyz", "/ping"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
logger = logging.getLogger("inferwatch")
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")


class BoundedLabel:
    """Label values from outside the code, limited to `limit` distinct safe values.

    A value that does not look like a name, or arrives after `limit` others, becomes `"other"`,
    so a page sending random model names cannot grow the series without end.

    >>> BoundedLabel(1)("gpt"), BoundedLabel(1)("<script>")
    ('gpt', 'other')
    """

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: object) -> str:
        text = str(value) if value is not None else ""
        if text in self._seen:
            return text
        if not _SAFE_LABEL.match(text):
            return OTHER
        with self._lock:
            if len(self._seen) >= self.limit:
                return OTHER
            self._seen.add(text)
        return text


class Instruments:
    """Every instrument inferwatch feeds, registered once in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.http_requests = Counter(
            "http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration, until the response is sent.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.genai_duration = Histogram(
            "gen_ai_client_operation_duration_seconds",
            "Duration of model calls recorded by watch_model / model_context.",
            ["operation", "model", "error_type"],
            buckets=GENAI_SECONDS_BUCKETS,
            registry=registry,
        )
        self.genai_tokens = Histogram(
            "gen_ai_client_token_usage",
            "Tokens used by model calls, by token type (input, output).",
            ["token_type", "model"],
            buckets=GENAI_TOKEN_BUCKETS,
            registry=registry,
        )
        self.genai_first_chunk = Histogram(
            "gen_ai_client_operation_time_to_first_chunk_seconds",
            "Time to the first chunk of streaming model calls.",
            ["operation", "model"],
            buckets=GENAI_SECONDS_BUCKETS,
            registry=registry,
        )
        self.browser_wait = Histogram(
            "inferwatch_browser_generation_duration_seconds",
            "How long users waited for a generation, as the page measured it.",
            ["model", "status"],
            buckets=GENAI_SECONDS_BUCKETS,
            registry=registry,
        )
        self.browser_first_token = Histogram(
            "inferwatch_browser_generation_time_to_first_token_seconds",
            "How long users waited for the first token of a generation.",
            ["model"],
            buckets=GENAI_SECONDS_BUCKETS,
            registry=registry,
        )
        self.browser_errors = Counter(
            "inferwatch_browser_errors",
            "Browser errors by error type.",
            ["type"],
            registry=registry,
        )
        self.browser_page_views = Counter(
            "inferwatch_browser_page_views",
            "Page views reported by the snippet.",
            registry=registry,
        )
        self.browser_invalid = Counter(
            "inferwatch_browser_events_invalid",
            "Snippet events dropped because they failed validation.",
            registry=registry,
        )
        self.browser_models = BoundedLabel()
        self.browser_error_types = BoundedLabel()
        self._http: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def http_children(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        """The counter and histogram children of one label set, cached: the hot path."""
        key = (method, route, status)
        children = self._http.get(key)
        if children is None:
            children = (
                self.http_requests.labels(method, route, str(status)),
                self.http_duration.labels(method, route),
            )
            self._http[key] = children
        return children


REGISTRY_OWN = CollectorRegistry(auto_describe=True)
"""inferwatch's own registry (kept apart from prometheus_client's default `REGISTRY`)."""
_instruments: Instruments | None = None
_lock = threading.Lock()
_restart_mirror = False
enabled = False
"""Whether the SDK feeds its instruments: set by `enable()` (`init(metrics=True)`, `serve`)."""


def instruments() -> Instruments:
    """The process-wide instruments, created on first use (so `init` twice registers once)."""
    global _instruments
    if _restart_mirror:  # the first observation of a worker forked after `enable`
        _start_mirror()
    if _instruments is None:
        with _lock:
            if _instruments is None:
                _instruments = Instruments(REGISTRY_OWN)
    return _instruments


def enable(on: bool = True) -> None:
    """Start (or stop) feeding the instruments."""
    global enabled
    if on:
        instruments()
        _start_mirror()
    enabled = on


# -- feeding ---------------------------------------------------------------------------


def observe_request(
    method: str, route: str | None, status: int, seconds: float, endpoint: object = None
) -> None:
    """One finished HTTP request (called by the middleware when metrics are on)."""
    label = route or UNMATCHED
    if label in SKIPPED_ROUTES or getattr(endpoint, "__inferwatch_ingest__", False):
        return
    counter, histogram = instruments().http_children(
        method if method in _METHODS else OTHER, label, status
    )
    counter.inc()
    histogram.observe(seconds)


def observe_model_call(
    model: str,
    *,
    streaming: bool,
    seconds: float,
    error_type: str | None,
    first_chunk_seconds: float | None,
    usage: dict[str, int],
) -> None:
    """One finished model call, with the OpenTelemetry GenAI metric names."""
    inst = instruments()
    operation = "stream" if streaming else "predict"
    inst.genai_duration.labels(operation, model, error_type or "").observe(seconds)
    for token_type in ("input", "output"):
        count = usage.get(f"{token_type}_tokens")
        if count is not None:
            inst.genai_tokens.labels(token_type, model).observe(count)
    if streaming and first_chunk_seconds is not None:
        inst.genai_first_chunk.labels(operation, model).observe(first_chunk_seconds)


def observe_browser(rows: Iterable[tuple[str, dict[str, Any]]], invalid: int) -> None:
    """What one snippet batch said: generations, errors, page views, invalid events."""
    inst = instruments()
    for kind, data in rows:
        if kind == "generation":
            _observe_browser_generation(inst, data)
        elif kind == "event":
            values = (data.get("exception") or {}).get("values") or [{}]
            inst.browser_errors.labels(inst.browser_error_types(values[-1].get("type"))).inc()
        elif kind == "activity" and data.get("type") == "pageview":
            inst.browser_page_views.inc()
    if invalid:
        inst.browser_invalid.inc(invalid)


def _observe_browser_generation(inst: Instruments, data: dict[str, Any]) -> None:
    model = inst.browser_models(data.get("model"))
    if data.get("duration_ms") is not None:
        inst.browser_wait.labels(model, str(data.get("status"))).observe(data["duration_ms"] / 1000)
    if data.get("first_chunk_ms") is not None:
        inst.browser_first_token.labels(model).observe(data["first_chunk_ms"] / 1000)


# -- inferwatch's own health, read at scrape time --------------------------------------


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


def _runtime_sources() -> tuple[StoreLike | None, Any]:
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
        global _restart_mirror
        self._lock = threading.Lock()
        self._owner, self._last = (None, None), {}
        if self.thread is not None:
            self.thread, _restart_mirror = None, True

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


def _mirror(sources: Sources) -> _FileMirror:
    with _lock:
        mirror = _mirrors.get(sources)
        if mirror is None:
            mirror = _mirrors[sources] = _FileMirror(sources)
        return mirror


def _start_mirror(interval: float = 5.0) -> None:
    """Multiprocess mode: keep this worker's health in its files, also between its scrapes."""
    global _restart_mirror
    _restart_mirror = False
    if not _multiprocess():
        return
    mirror = _mirror(_runtime_sources)
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


def _multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


# -- exposition ------------------------------------------------------------------------


class _Joined:
    """inferwatch's registry, then the default one minus any name inferwatch already serves."""

    def __init__(self, own: CollectorRegistry, other: CollectorRegistry) -> None:
        self.own, self.other = own, other

    def collect(self) -> Iterator[Metric]:
        names: set[str] = set()
        for metric in self.own.collect():
            names.add(metric.name)
            yield metric
        for metric in self.other.collect():
            if metric.name not in names:
                yield metric


def scrape(sources: Sources = _runtime_sources) -> bytes:
    """The text exposition of every metric, built from a registry made for this scrape."""
    registry = CollectorRegistry(auto_describe=False)
    if _multiprocess():
        _mirror(sources).sync()  # this worker's health is current; the others' within seconds
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Joined(REGISTRY_OWN, REGISTRY))
        registry.register(HealthCollector(sources))
    return generate_latest(registry)


def metrics_endpoint(
    sources: Sources = _runtime_sources,
) -> Callable[[Request], Any]:
    """A Starlette endpoint (`async def (request) -> Response`) serving `scrape(sources)`."""

    async def endpoint(request: Request) -> Response:
        body = await run_in_threadpool(scrape, sources)
        return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return endpoint


def metrics_app(sources: Sources = _runtime_sources) -> ASGIApp:
    """An ASGI app answering every HTTP request with `scrape(sources)`, to mount anywhere.

    >>> app.mount("/metrics", metrics_app(lambda: (store, None)))  # doctest: +SKIP
    """
    endpoint = metrics_endpoint(sources)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            response = await endpoint(Request(scope))
            await response(scope, receive, send)

    return app


def add_metrics_route(
    app: Any, path: str = "/metrics", sources: Sources = _runtime_sources
) -> bool:
    """Add `GET path` to a Starlette/FastAPI app, unless a route already answers there.

    Returns False when another route (not inferwatch's) already has that path.

    >>> inferwatch.add_metrics_route(app)  # doctest: +SKIP
    """
    from starlette.routing import Route

    for route in app.router.routes:
        if getattr(route, "path", None) == path:
            return bool(getattr(getattr(route, "endpoint", None), "__inferwatch_metrics__", False))
    endpoint = metrics_endpoint(sources)
    endpoint.__inferwatch_metrics__ = True  # type: ignore[attr-defined]
    app.router.routes.append(Route(path, endpoint, methods=["GET"], include_in_schema=False))
    return True
