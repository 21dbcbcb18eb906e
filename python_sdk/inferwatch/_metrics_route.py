"""`/metrics`: every metric in the text exposition, as an endpoint, an ASGI app or a route.

With `PROMETHEUS_MULTIPROC_DIR` set (before prometheus_client is imported), every scrape builds
a fresh registry that reads all workers' files (see docs/monitoring.md for the gunicorn
`child_exit` hook).

    inferwatch.init(app, metrics=True)                  # adds GET /metrics to `app`
    inferwatch.add_metrics_route(other_app, "/internal/metrics")   # or anywhere else
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ._metrics import REGISTRY_OWN
from ._metrics_health import (
    HealthCollector,
    Sources,
    file_mirror,
    multiprocess_mode,
    runtime_sources,
)

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


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


def scrape(sources: Sources = runtime_sources, extra: Sequence[Collector] = ()) -> bytes:
    """The text exposition of every metric, built from a registry made for this scrape;
    `extra` collectors (the collector's ingest counts) are added to it."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_mode():
        file_mirror(sources).sync()  # this worker's health is current; the others' within seconds
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Joined(REGISTRY_OWN, REGISTRY))
        registry.register(HealthCollector(sources))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


def metrics_endpoint(
    sources: Sources = runtime_sources, extra: Sequence[Collector] = ()
) -> Callable[[Request], Any]:
    """A Starlette endpoint (`async def (request) -> Response`) serving `scrape(sources)`."""

    async def endpoint(request: Request) -> Response:
        body = await run_in_threadpool(scrape, sources, extra)
        return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return endpoint


def metrics_app(sources: Sources = runtime_sources) -> ASGIApp:
    """An ASGI app answering every HTTP request with `scrape(sources)`, to mount anywhere.

    >>> app.mount("/metrics", metrics_app(lambda: (store, None)))  # doctest: +SKIP
    """
    endpoint = metrics_endpoint(sources)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            response = await endpoint(Request(scope))
            await response(scope, receive, send)

    return app


def add_metrics_route(app: Any, path: str = "/metrics", sources: Sources = runtime_sources) -> bool:
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
