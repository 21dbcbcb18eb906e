"""Prometheus metrics: scraped from `/metrics` after real requests through a FastAPI app."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
import respx
from fastapi import FastAPI
from inferwatch import _metrics, _metrics_route
from inferwatch.store import Store
from prometheus_client import REGISTRY, Counter
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from tests.conftest import asgi_client


@pytest.fixture(autouse=True)
def _metrics_off_afterwards() -> Iterator[None]:
    yield
    _metrics.enable(False)


def parse(text: str) -> dict[str, Any]:
    """Every sample of a scrape: {(name, frozenset(labels)): value}, and the family names."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    families: list[str] = []
    for family in text_string_to_metric_families(text):
        families.append(family.name)
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return {"samples": samples, "families": families}


def value(scrape: dict[str, Any], name: str, **labels: str) -> float:
    return float(scrape["samples"].get((name, frozenset(labels.items())), 0.0))


async def get_metrics(client: Any) -> dict[str, Any]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def make_app(store_path: Path, **options: Any) -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    inferwatch.init(app, store=store_path, environ={}, metrics=True, **options)
    return app


async def test_requests_are_counted_by_route_template_never_by_raw_path(store_path: Path) -> None:
    app = make_app(store_path)
    async with asgi_client(app) as client:
        before = await get_metrics(client)
        for item_id in (1, 2, 3):
            assert (await client.get(f"/items/{item_id}")).status_code == 200
        await client.get("/no/such/page-" + uuid.uuid4().hex)
        await client.get("/another/missing/" + uuid.uuid4().hex)
        await client.get("/boom")
        after = await get_metrics(client)
    delta = {
        key: after["samples"][key] - before["samples"].get(key, 0.0)
        for key in after["samples"]
        if key[0] == "http_requests_total"
    }
    routes = {dict(labels)["route"] for (_, labels), n in delta.items() if n}
    # Paths that match no route are counted by their shape, never by the raw path.
    missing_routes = {"/no/such/{id} (no route)", "/another/missing/{uuid} (no route)"}
    assert routes == {"/items/{item_id}", "/boom", *missing_routes}
    ok = {"method": "GET", "route": "/items/{item_id}", "status": "200"}
    assert (
        value(after, "http_requests_total", **ok) - value(before, "http_requests_total", **ok) == 3
    )
    for route in missing_routes:
        missing = {"method": "GET", "route": route, "status": "404"}
        assert (
            value(after, "http_requests_total", **missing)
            - value(before, "http_requests_total", **missing)
            == 1
        )
    failed = {"method": "GET", "route": "/boom", "status": "500"}
    assert (
        value(after, "http_requests_total", **failed)
        - value(before, "http_requests_total", **failed)
        == 1
    )


async def test_metrics_and_health_checks_are_left_out(store_path: Path) -> None:
    app = make_app(store_path)
    async with asgi_client(app) as client:
        await client.get("/healthz")
        await client.get("/metrics")
        scrape = await get_metrics(client)
    routes = {dict(labels).get("route") for (name, labels) in scrape["samples"]}
    assert "/healthz" not in routes
    assert "/metrics" not in routes


async def test_duration_histogram_has_buckets_for_model_endpoints(store_path: Path) -> None:
    app = make_app(store_path)
    async with asgi_client(app) as client:
        await client.get("/items/7")
        scrape = await get_metrics(client)
    labels = {"method": "GET", "route": "/items/{item_id}"}
    assert value(scrape, "http_request_duration_seconds_count", **labels) >= 1
    assert value(scrape, "http_request_duration_seconds_bucket", le="60.0", **labels) >= 1
    assert (
        "http_request_duration_seconds_bucket",
        frozenset({**labels, "le": "300.0"}.items()),
    ) in (scrape["samples"])


async def test_mounted_sub_apps_are_labelled_with_their_templates(store_path: Path) -> None:
    sub = FastAPI()

    @sub.get("/orders/{order_id}")
    async def order(order_id: int) -> dict[str, int]:
        return {"id": order_id}

    async def files(request: Any) -> PlainTextResponse:
        return PlainTextResponse("static")

    app = make_app(store_path)
    app.mount("/v1", sub)
    app.mount("/tenants/{tenant_id}", sub)
    app.router.routes.append(Mount("/static", routes=[Route("/{name:path}", files)]))
    async with asgi_client(app) as client:
        assert (await client.get("/v1/orders/5")).status_code == 200
        assert (await client.get("/tenants/981/orders/6")).status_code == 200
        assert (await client.get("/static/app.js")).status_code == 200
        scrape = await get_metrics(client)
    routes = {dict(labels).get("route") for (name, labels) in scrape["samples"]}
    assert "/v1/orders/{order_id}" in routes
    assert "/tenants/{tenant_id}/orders/{order_id}" in routes
    assert "/static/{name:path}" in routes
    assert not any("981" in str(r) for r in routes)


async def test_a_generation_shows_up_in_the_genai_histograms(store_path: Path) -> None:
    app = make_app(store_path)
    model = "gen-" + uuid.uuid4().hex[:8]

    @inferwatch.watch_model(model)
    def classify(text: str) -> str:
        return "positive"

    @inferwatch.watch_model(model)
    async def stream(prompt: str) -> Any:
        for word in ("once", "upon", "a", "time"):
            await asyncio.sleep(0)
            yield word

    @inferwatch.watch_model(model)
    def broken(text: str) -> str:
        raise ValueError("weights missing")

    classify("great")
    assert [w async for w in stream("tell me")] == ["once", "upon", "a", "time"]
    with pytest.raises(ValueError):
        broken("x")
    with inferwatch.model_context(model, input="count tokens") as call:
        call.set_usage(input_tokens=12, output_tokens=300)
    async with asgi_client(app) as client:
        scrape = await get_metrics(client)
    duration = "gen_ai_client_operation_duration_seconds_count"
    assert value(scrape, duration, operation="predict", model=model, error_type="") == 2
    assert value(scrape, duration, operation="stream", model=model, error_type="") == 1
    assert value(scrape, duration, operation="predict", model=model, error_type="ValueError") == 1
    first = "gen_ai_client_operation_time_to_first_chunk_seconds_count"
    assert value(scrape, first, operation="stream", model=model) == 1
    assert value(scrape, first, operation="predict", model=model) == 0  # streaming calls only
    tokens = "gen_ai_client_token_usage_bucket"
    assert value(scrape, tokens, token_type="input", model=model, le="16.0") == 1
    assert value(scrape, tokens, token_type="output", model=model, le="256.0") == 0
    assert value(scrape, tokens, token_type="output", model=model, le="1024.0") == 1
    assert (
        value(
            scrape,
            duration.replace("_count", "_bucket"),
            le="81.92",
            operation="predict",
            model=model,
            error_type="",
        )
        == 2
    )


def test_genai_buckets_follow_the_opentelemetry_conventions() -> None:
    assert _metrics.GENAI_SECONDS_BUCKETS[0] == 0.01
    assert _metrics.GENAI_SECONDS_BUCKETS[-1] == pytest.approx(81.92)
    assert len(_metrics.GENAI_SECONDS_BUCKETS) == 14
    assert _metrics.GENAI_TOKEN_BUCKETS[:4] == (1, 4, 16, 64)
    assert _metrics.GENAI_TOKEN_BUCKETS[-1] == 67108864


async def test_inferwatch_reports_its_own_health(store_path: Path) -> None:
    app = make_app(store_path)
    async with asgi_client(app) as client:
        await client.get("/items/1")
        assert inferwatch.flush(5)
        scrape = await get_metrics(client)
    assert value(scrape, "inferwatch_store_accepted_rows_total") >= 1
    assert value(scrape, "inferwatch_store_stored_rows_total") >= 1
    assert ("inferwatch_store_queue_depth", frozenset()) in scrape["samples"]


def test_dropped_rows_are_reported_by_reason(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", queue_size=1)
    store.close()
    store.add("event", {"event_id": "x"})
    text = _metrics_route.scrape(lambda: (store, None)).decode()
    assert 'inferwatch_store_dropped_rows_total{reason="closed"} 1.0' in text


async def test_metrics_coexist_with_the_apps_own_default_registry(store_path: Path) -> None:
    # The app registered a metric with inferwatch's name in prometheus_client's default registry.
    own = Counter("http_requests", "the app's own counter", ["handler"], registry=REGISTRY)
    mine = Counter("app_predictions", "the app's own metric", registry=REGISTRY)
    try:
        own.labels("/x").inc()
        mine.inc(5)
        app = make_app(store_path)
        inferwatch.init(app, store=store_path, environ={}, metrics=True)  # twice: no crash
        async with asgi_client(app) as client:
            await client.get("/items/1")
            response = await client.get("/metrics")
        scrape = parse(response.text)
    finally:
        REGISTRY.unregister(own)
        REGISTRY.unregister(mine)
    assert scrape["families"].count("http_requests") == 1  # one family a name: valid exposition
    assert value(scrape, "app_predictions_total") == 5
    assert [r.path for r in app.router.routes].count("/metrics") == 1


async def test_metrics_coexist_with_prometheus_fastapi_instrumentator(store_path: Path) -> None:
    from prometheus_fastapi_instrumentator import Instrumentator

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    before = set(REGISTRY._collector_to_names)  # to take the instrumentator's metrics out after
    instrumentator = Instrumentator(registry=REGISTRY).instrument(app)
    instrumentator.expose(app, endpoint="/app-metrics")
    try:
        inferwatch.init(app, store=store_path, environ={}, metrics=True)
        async with asgi_client(app) as client:
            await client.get("/items/3")
            ours = parse((await client.get("/metrics")).text)
            theirs = (await client.get("/app-metrics")).text
    finally:
        for collector in set(REGISTRY._collector_to_names) - before:
            REGISTRY.unregister(collector)
    assert value(ours, "http_requests_total", method="GET", route="/items/{item_id}", status="200")
    assert 'handler="/items/{item_id}"' in theirs


async def test_an_existing_metrics_route_is_left_alone(store_path: Path) -> None:
    app = FastAPI()

    @app.get("/metrics")
    async def theirs() -> dict[str, str]:
        return {"mine": "yes"}

    inferwatch.init(app, store=store_path, environ={}, metrics=True)
    async with asgi_client(app) as client:
        assert (await client.get("/metrics")).json() == {"mine": "yes"}
    assert inferwatch.add_metrics_route(app, "/inferwatch/metrics")
    async with asgi_client(app) as client:
        assert "http_requests_total" in (await client.get("/inferwatch/metrics")).text


async def test_metrics_are_off_unless_asked_for(store_path: Path) -> None:
    app = FastAPI()

    @app.get("/quiet/{n}")
    async def quiet(n: int) -> dict[str, int]:
        return {"n": n}

    inferwatch.init(app, store=store_path, environ={})
    async with asgi_client(app) as client:
        assert (await client.get("/metrics")).status_code == 404
        await client.get("/quiet/1")
    text = _metrics_route.scrape().decode()
    assert "/quiet/{n}" not in text


def test_browser_label_values_are_bounded() -> None:
    label = _metrics.BoundedLabel(limit=3)
    seen = {label(f"model-{i}") for i in range(100)}
    assert seen == {"model-0", "model-1", "model-2", "other"}
    assert label("<script>alert(1)</script>") == "other"
    assert label("a" * 500) == "other"
    assert label(None) == "other"


def test_browser_batches_feed_their_metrics() -> None:
    inst = _metrics.instruments()
    name = "page-" + uuid.uuid4().hex[:6]
    before_views = inst.browser_page_views._value.get()
    before_invalid = inst.browser_invalid._value.get()
    rows: list[tuple[str, dict[str, Any]]] = [
        ("generation", {"model": name, "status": "ok", "duration_ms": 2500, "first_chunk_ms": 300}),
        ("event", {"exception": {"values": [{"type": "TypeError"}]}}),
        ("activity", {"type": "pageview"}),
        ("activity", {"type": "click"}),
    ]
    _metrics.observe_browser(rows, invalid=2)
    text = _metrics_route.scrape(lambda: (None, None)).decode()
    wait = f'inferwatch_browser_generation_duration_seconds_bucket{{le="2.56",model="{name}",status="ok"}} 1.0'
    assert wait in text
    assert (
        f'inferwatch_browser_generation_time_to_first_token_seconds_count{{model="{name}"}} 1.0'
        in text
    )
    assert inst.browser_page_views._value.get() - before_views == 1
    assert inst.browser_invalid._value.get() - before_invalid == 2
    assert 'inferwatch_browser_errors_total{type="TypeError"}' in text


async def test_snippet_batches_feed_the_browser_metrics_through_the_collector(
    tmp_path: Path,
) -> None:
    from inferwatch.collector import Collector, CollectorConfig, create_app

    collector = Collector(Store(tmp_path / "events.db"), CollectorConfig(key="k"))
    app = create_app(collector)
    inferwatch.add_metrics_route(app, sources=lambda: (collector.store, None))
    _metrics.enable()
    model = "chat-" + uuid.uuid4().hex[:6]
    ts = 1_800_000_000_000
    batch = {
        "events": [
            {"type": "generation", "ts": ts, "name": "chat", "status": "ok", "duration_ms": 3000,
             "first_token_ms": 400, "attrs": {"model": model}},
            {"type": "error", "ts": ts, "name": "TypeError", "message": "x is undefined"},
            {"type": "pageview", "ts": ts, "path": "/chat?user=42"},
            {"type": "click", "ts": ts},  # no selector: invalid
        ]
    }  # fmt: skip
    try:
        async with asgi_client(app) as client:
            before = await get_metrics(client)
            response = await client.post(
                "/iw/ingest?key=k",
                content=json.dumps(batch),
                headers={"content-type": "text/plain"},
            )
            assert response.json()["accepted"] == 3
            after = await get_metrics(client)
    finally:
        collector.store.close()
    wait = "inferwatch_browser_generation_duration_seconds_bucket"
    assert value(after, wait, model=model, status="ok", le="5.12") == 1
    assert value(after, wait, model=model, status="ok", le="2.56") == 0
    for name in ("inferwatch_browser_page_views_total", "inferwatch_browser_events_invalid_total"):
        assert value(after, name) - value(before, name) == 1
    errors = "inferwatch_browser_errors_total"
    assert value(after, errors, type="TypeError") - value(before, errors, type="TypeError") == 1
    assert value(after, "inferwatch_store_stored_rows_total") >= 3
    assert not any("user=42" in str(labels) for (_, labels) in after["samples"])


@respx.mock
async def test_forwarding_to_sentry_is_reported_and_metrics_app_mounts_anywhere(
    tmp_path: Path,
) -> None:
    from inferwatch._forward import Forwarder

    sentry = respx.post("https://sentry.example.test/api/1/envelope/").mock(
        return_value=httpx.Response(200)
    )
    forwarder = Forwarder("https://abc@sentry.example.test/1", outbox=tmp_path / "outbox.db")
    store = Store(tmp_path / "events.db")
    try:
        forwarder.submit(b'{}\n{"type":"event"}\n{}\n')
        assert forwarder.flush(5)
        app = FastAPI()
        app.mount("/internal/metrics", _metrics_route.metrics_app(lambda: (store, forwarder)))
        async with asgi_client(app) as client:
            response = await client.get("/internal/metrics", follow_redirects=True)
        assert response.status_code == 200
        scrape = parse(response.text)
    finally:
        forwarder.close()
        store.close()
    assert sentry.call_count == 1
    assert value(scrape, "inferwatch_forward_sent_total") == 1
    assert value(scrape, "inferwatch_forward_pending") == 0
    assert ("inferwatch_store_queue_depth", frozenset()) in scrape["samples"]
