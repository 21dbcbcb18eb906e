"""`Middleware`: request ids, route templates, capture of exceptions and 5xx, pass-through."""

from __future__ import annotations

import logging
import re
import time
import uuid
from pathlib import Path
from typing import Any

import inferwatch
import pytest
import sentry_sdk
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import JSONResponse

from tests.conftest import Events, asgi_client, rows

TRACE = "0af7651916cd43dd8448eb211c80319c"


def make_app(store_path: Path) -> FastAPI:
    app = FastAPI()
    inferwatch.init(app, store=store_path, environ={})

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise RuntimeError(f"item {item_id} exploded")
        if item_id == 404:
            raise HTTPException(404)
        return {"id": item_id}

    @inferwatch.watch_model("ranker")
    def rank(query: str) -> list[str]:
        raise ValueError("index not loaded")

    @app.get("/search")
    async def search(q: str) -> JSONResponse:
        try:
            rank(q)
        except ValueError:
            return JSONResponse({"error": "unavailable"}, status_code=503)
        return JSONResponse({})

    v2 = APIRouter()

    @v2.get("/orders/{order_id}")
    async def order(order_id: int) -> None:
        raise RuntimeError("router failure")

    app.include_router(v2, prefix="/v2")

    sub = FastAPI()

    @sub.get("/users/{user_id}")
    async def user(user_id: int) -> None:
        raise RuntimeError("sub-app failure")

    app.mount("/v1", sub)
    return app


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-request-id": "req-123"}, "req-123"),
        ({"traceparent": f"00-{TRACE}-b7ad6b7169203331-01"}, TRACE),
        ({"sentry-trace": f"{TRACE}-b7ad6b7169203331-1"}, TRACE),
    ],
)
async def test_the_request_id_comes_from_the_caller_and_is_returned(
    store_path: Path, headers: dict[str, str], expected: str
) -> None:
    async with asgi_client(make_app(store_path)) as client:
        response = await client.get("/items/1", headers=headers)
    assert response.headers["x-request-id"] == expected


@pytest.mark.parametrize("given", [None, "has spaces", "x" * 500, "<script>"])
async def test_a_request_id_is_made_when_absent_or_unsafe(
    store_path: Path, given: str | None
) -> None:
    headers = {"x-request-id": given} if given else {}
    async with asgi_client(make_app(store_path)) as client:
        response = await client.get("/items/1", headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_made_request_ids_are_uuid7_so_they_sort_in_the_order_requests_came(
    store_path: Path,
) -> None:
    # In that order they join the store's index of request ids at its end, one page for many
    # rows; random ids had the writer rewrite a page of the index for every request row.
    made = []
    async with asgi_client(make_app(store_path)) as client:
        for _ in range(3):
            made.append((await client.get("/items/1")).headers["x-request-id"])
            time.sleep(0.002)  # ids order by the millisecond
    assert all(uuid.UUID(i).version == 7 for i in made)
    assert abs(int(made[0][:12], 16) / 1000 - time.time()) < 60
    assert made == sorted(made) and len(set(made)) == 3


async def test_an_unhandled_exception_is_captured_with_route_request_and_id(
    store_path: Path, stored_events: Events
) -> None:
    async with asgi_client(make_app(store_path)) as client:
        response = await client.get(
            "/items/0?token=s3cret&page=2",
            headers={
                "authorization": "Bearer abcdefghijklmnop",
                "x-request-id": "req-9",
                "cookie": "session=abc",
            },
        )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-9"  # Starlette's own 500 answer too
    [event] = stored_events()
    assert event["transaction"] == "/items/{item_id}"
    assert event["tags"]["request_id"] == "req-9"
    request = event["request"]
    assert request["method"] == "GET" and request["url"] == "http://testserver/items/0"
    assert request["query_string"] == "token=%5BFiltered%5D&page=2"
    assert request["headers"]["authorization"] == "[Filtered]"
    assert (
        request["headers"]["cookie"] == "session=[Filtered]"
    )  # the names of cookies are kept, never their values
    assert event["exception"]["values"][-1]["mechanism"] == {
        "type": "inferwatch.asgi",
        "handled": False,
    }


async def test_a_5xx_the_app_returns_itself_is_captured_with_the_failed_model_call(
    store_path: Path, stored_events: Events
) -> None:
    async with asgi_client(make_app(store_path)) as client:
        response = await client.get("/search?q=shoes")
    assert response.status_code == 503
    [event] = stored_events()
    assert event["message"] == "GET /search returned 503"
    assert event["contexts"]["model"]["name"] == "ranker"
    assert event["contexts"]["model"]["error"]["message"] == "index not loaded"


async def test_client_errors_are_not_captured(store_path: Path, stored_events: Events) -> None:
    async with asgi_client(make_app(store_path)) as client:
        assert (await client.get("/items/404")).status_code == 404
        assert (await client.get("/nowhere")).status_code == 404
    assert stored_events() == []


async def test_routes_of_an_included_router_keep_its_prefix(
    store_path: Path, stored_events: Events
) -> None:
    async with asgi_client(make_app(store_path)) as client:
        await client.get("/v2/orders/7")
    assert stored_events()[0]["transaction"] == "/v2/orders/{order_id}"


async def test_mounted_sub_apps_are_named_by_their_full_route_template(
    store_path: Path, stored_events: Events
) -> None:
    async with asgi_client(make_app(store_path)) as client:
        await client.get("/v1/users/7")
    assert stored_events()[0]["transaction"] == "/v1/users/{user_id}"


async def test_every_request_is_recorded_with_its_route_status_and_duration(
    store_path: Path,
) -> None:
    async with asgi_client(make_app(store_path)) as client:
        await client.get("/items/1", headers={"x-request-id": "a-1"})
        await client.get("/nowhere")
        await client.get("/items/0")
    inferwatch.flush(5)
    recorded = rows(
        store_path, "SELECT method, route, status, request_id, duration_ms FROM requests"
    )
    assert [(r["route"], r["status"]) for r in recorded] == [
        ("/items/{item_id}", 200),
        ("/nowhere (no route)", 404),
        ("/items/{item_id}", 500),
    ]
    assert recorded[0]["request_id"] == "a-1" and recorded[0]["duration_ms"] >= 0


async def test_the_middleware_never_reads_the_body_and_passes_other_scopes_through() -> None:
    calls: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(scope["type"])
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> dict[str, Any]:
        raise AssertionError("the middleware must not read the request body")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    middleware = inferwatch.Middleware(app)
    http = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    await middleware(http, receive, send)
    await middleware({"type": "lifespan"}, receive, send)
    assert calls == ["http", "lifespan"]
    assert sent[1] == {"type": "http.response.body", "body": b"ok"}
    assert dict(sent[0]["headers"])[b"x-request-id"]


def test_init_with_an_app_adds_the_middleware_once(store_path: Path) -> None:
    app = FastAPI()
    inferwatch.init(app, store=store_path, environ={})
    inferwatch.init(app, store=store_path, environ={})
    layers, stack = [], app.build_middleware_stack()
    while stack is not None:
        layers.append(type(stack))
        stack = getattr(stack, "app", None)
    assert layers.count(inferwatch.Middleware) == 1
    assert layers[0] is inferwatch.Middleware  # outside Starlette's ServerErrorMiddleware


async def test_each_request_carries_its_own_trace_id_or_the_callers(
    store_path: Path, stored_events: Events
) -> None:
    async with asgi_client(make_app(store_path)) as client:
        await client.get("/items/0")
        await client.get("/items/0")
        await client.get("/items/0", headers={"traceparent": f"00-{TRACE}-b7ad6b7169203331-01"})
    traces = [e["contexts"]["trace"]["trace_id"] for e in stored_events()]
    assert traces[0] != traces[1] and traces[2] == TRACE
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in traces)
    assert len(rows(store_path, "SELECT DISTINCT trace_id FROM events")) == 3


async def test_what_a_request_sets_on_sentry_sdk_stays_with_that_request(
    store_path: Path, stored_events: Events
) -> None:
    app = FastAPI()
    inferwatch.init(app, store=store_path, environ={})

    @app.get("/async/{user}")
    async def async_user(user: str) -> None:
        sentry_sdk.set_user({"id": user})
        sentry_sdk.set_tag("tenant", user)
        logging.getLogger("app").warning("about to fail for %s", user)
        if user != "ok":
            raise RuntimeError(f"failed for {user}")

    @app.get("/sync/{user}")
    def sync_user(user: str) -> None:  # a worker thread, with a copy of the request's context
        sentry_sdk.set_user({"id": user})
        raise RuntimeError(f"sync failed for {user}")

    @app.get("/plain")
    async def plain() -> None:
        raise RuntimeError("plain")

    with sentry_sdk.isolation_scope():
        sentry_sdk.set_tag("region", "eu")  # outside any request: every request inherits it
        async with asgi_client(app) as client:
            for path in ("/async/ok", "/async/alice", "/sync/bob", "/plain"):
                await client.get(path)
    events = {e["exception"]["values"][-1]["value"]: e for e in stored_events()}
    alice, bob, other = events["failed for alice"], events["sync failed for bob"], events["plain"]
    assert alice["user"]["id"] == "alice" and alice["tags"]["tenant"] == "alice"
    assert bob["user"]["id"] == "bob"
    assert "user" not in other and "tenant" not in other["tags"]
    crumbs = [c.get("message") for c in alice["breadcrumbs"]["values"]]
    assert "about to fail for alice" in crumbs and "about to fail for ok" not in crumbs
    assert not any(
        "about to fail" in str(c.get("message"))
        for c in other.get("breadcrumbs", {}).get("values", [])
    )
    assert all(e["tags"]["region"] == "eu" for e in events.values())
