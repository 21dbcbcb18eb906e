"""`POST /iw/ingest`: the snippet's batches, checked, validated per event, stored and grouped."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
import respx
from fastapi import FastAPI
from inferwatch._forward import Forwarder
from inferwatch.collector import Collector, CollectorConfig, create_app, snippet_source
from inferwatch.collector._guards import INLINE_BYTES
from inferwatch.store import Store, latest_event, list_issues, open_readonly

from tests.conftest import asgi_client, rows

KEY = "testkey123"
PAGE = "http://127.0.0.1:5173"
CHROME_STACK = (
    "TypeError: Cannot read properties of undefined (reading 'text')\n"
    "    at renderAnswer (http://127.0.0.1:5173/assets/app.js:120:17)\n"
    "    at onSubmit (http://127.0.0.1:5173/assets/app.js:88:5)\n"
    "    at dispatch (http://127.0.0.1:5173/node_modules/react-dom/client.js:10:2)"
)
FIREFOX_STACK = (
    "renderAnswer@http://127.0.0.1:5173/assets/app.js:121:3\n"
    "onSubmit@http://127.0.0.1:5173/assets/app.js:88:5\n"
)
SAFARI_STACK = (
    "renderAnswer@http://127.0.0.1:5173/assets/app.js:122:9\n"
    "onSubmit@http://127.0.0.1:5173/assets/app.js:88:5\n"
    "global code@http://127.0.0.1:5173/assets/app.js:1:1\n"
)


def now_ms() -> float:
    return time.time() * 1000


def error(
    message: str = "Cannot read properties of undefined (reading 'text')",
    stack: str = CHROME_STACK,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "type": "error",
        "ts": now_ms(),
        "session": "sess-1",
        "url": f"{PAGE}/chat",
        "name": "TypeError",
        "message": message,
        "stack": stack,
        **extra,
    }


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    s = Store(store_path)
    s.flush()  # the schema exists before the first read
    yield s
    s.close()


def app_for(store: Store, **config: Any) -> FastAPI:
    return create_app(Collector(store, CollectorConfig(key=KEY, **config)))


async def post(
    app: FastAPI,
    body: Any,
    *,
    key: str | None = KEY,
    origin: str | None = PAGE,
    raw: bytes | None = None,
    content_type: str = "text/plain",
) -> httpx.Response:
    headers = {"content-type": content_type}
    if origin:
        headers["origin"] = origin
    url = "/iw/ingest" + (f"?key={key}" if key else "")
    async with asgi_client(app) as client:
        return await client.post(
            url, content=raw if raw is not None else json.dumps(body), headers=headers
        )


async def test_a_valid_batch_is_stored_as_issues_generations_and_activity(store: Store) -> None:
    batch = {
        "events": [
            {"type": "click", "ts": now_ms(), "session": "sess-1", "selector": "button#send"},
            {"type": "pageview", "ts": now_ms(), "session": "sess-1", "path": "/chat"},
            {"type": "console", "ts": now_ms(), "level": "warn", "message": "slow"},
            error(
                breadcrumbs=[
                    {"type": "click", "ts": now_ms(), "selector": "button#send"},
                    {"type": "console", "ts": now_ms(), "level": "error", "message": "x"},
                ]
            ),
            {
                "type": "generation",
                "ts": now_ms(),
                "name": "chat",
                "status": "ok",
                "duration_ms": 1800,
                "first_token_ms": 350,
                "attrs": {"model": "tiny-gpt"},
                "trace_id": "0af7651916cd43dd8448eb211c80319c",
                "output_tokens": 42,
            },
        ]
    }
    response = await post(app_for(store), batch)
    assert response.status_code == 200
    assert response.json() == {"accepted": 5, "invalid": 0, "errors": []}
    assert response.headers["access-control-allow-origin"] == PAGE
    with open_readonly(store.path) as conn:
        [issue] = list_issues(conn)
        event = latest_event(conn, issue["id"])
    assert issue["platform"] == "javascript"
    assert issue["title"] == "TypeError: Cannot read properties of undefined (reading 'text')"
    assert issue["culprit"] == "renderAnswer(/assets/app.js)"
    assert [b["category"] for b in event["breadcrumbs"]["values"]] == ["ui.click", "console"]
    assert event["tags"]["session_id"] == "sess-1"
    [gen] = rows(store.path, "SELECT source, model, first_chunk_ms, request_id FROM generations")
    assert gen == {
        "source": "browser",
        "model": "tiny-gpt",
        "first_chunk_ms": 350.0,
        "request_id": "0af7651916cd43dd8448eb211c80319c",
    }
    assert [r["type"] for r in rows(store.path, "SELECT type FROM browser_activity")] == [
        "click",
        "pageview",
        "console",
    ]


async def test_invalid_events_are_dropped_and_counted_and_valid_ones_kept(store: Store) -> None:
    batch = {
        "events": [
            error(),
            {"type": "click"},
            {"type": "nope", "ts": 1},
            42,
            {"type": "generation", "ts": now_ms(), "name": "x", "status": "weird"},
        ]
    }
    response = await post(app_for(store), batch)
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["invalid"]) == (1, 4)
    assert body["errors"][0].startswith("event 1:")
    assert len(rows(store.path, "SELECT id FROM events")) == 1


async def test_the_same_error_from_chrome_firefox_and_safari_is_one_issue(store: Store) -> None:
    events = [error(stack=s) for s in (CHROME_STACK, FIREFOX_STACK, SAFARI_STACK)]
    assert (await post(app_for(store), {"events": events})).status_code == 200
    assert rows(store.path, "SELECT count, culprit FROM issues") == [
        {"count": 3, "culprit": "renderAnswer(/assets/app.js)"}
    ]


async def test_errors_differing_only_by_ids_group_together(store: Store) -> None:
    events = [error(message=f"order {n} not found") for n in (17, 23, 99)]
    await post(app_for(store), {"events": events})
    assert rows(store.path, "SELECT count FROM issues") == [{"count": 3}]


async def test_strings_from_the_page_are_redacted_before_they_are_stored(store: Store) -> None:
    secret = error(
        message="failed for bob@example.com with sk-proj-abcdefghijklmnopqrstuvwx",
        url=f"{PAGE}/chat?token=abc123",
        breadcrumbs=[
            {
                "type": "console",
                "ts": now_ms(),
                "level": "error",
                "message": "Bearer abcdefghijklmnopqrstu",
            }
        ],
    )
    await post(app_for(store), {"events": [secret]})
    stored = json.dumps(rows(store.path, "SELECT data FROM events"))
    for leaked in ("bob@example.com", "sk-proj-", "abc123", "abcdefghijklmnopqrstu"):
        assert leaked not in stored


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"key": None}, 401),
        ({"key": "wrong"}, 403),
        ({"origin": "https://evil.example"}, 403),
        ({"raw": b"this is not json"}, 400),
        ({"raw": b"[" * 100_000}, 400),
        ({"raw": b'{"events": 5}'}, 400),
        ({"raw": json.dumps({"events": [error()] * 501}).encode()}, 400),
        ({"raw": b"x" * (256 * 1024 + 1)}, 413),
    ],
)
async def test_bad_requests_get_a_clear_4xx_and_nothing_is_stored(
    store: Store, kwargs: dict[str, Any], status: int
) -> None:
    response = await post(app_for(store), {"events": [error()]}, **kwargs)
    assert response.status_code == status
    assert response.json()["error"]
    assert rows(store.path, "SELECT id FROM events") == []


async def test_deeply_nested_and_huge_values_never_cause_a_server_error(store: Store) -> None:
    nested: Any = "leaf"
    for _ in range(200):
        nested = {"a": nested}
    huge = error(message="m" * 200_000, stack="s" * 1000)
    body = {"events": [huge, {"type": "error", "ts": now_ms(), "user": nested}]}
    response = await post(app_for(store), body)
    assert response.status_code == 200 and response.json()["invalid"] == 1
    [event] = rows(store.path, "SELECT data FROM events")
    assert len(json.loads(event["data"])["exception"]["values"][-1]["value"]) == 10_000


async def test_allowed_and_loopback_origins_pass_and_others_do_not(store: Store) -> None:
    app = app_for(store, allow_origins=("https://app.example.com",), loopback=False)
    assert (await post(app, {"events": []}, origin="https://app.example.com")).status_code == 200
    assert (await post(app, {"events": []}, origin="http://127.0.0.1:3000")).status_code == 403
    loopback = app_for(store)
    assert (await post(loopback, {"events": []}, origin="http://localhost:3000")).status_code == 200


async def test_a_client_over_its_rate_is_told_when_to_retry(store: Store) -> None:
    app = app_for(store, rate_per_second=1.0, rate_burst=2)
    codes = [(await post(app, {"events": []})).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = await post(app, {"events": []})
    assert int(limited.headers["retry-after"]) >= 1


async def test_cors_preflight_is_answered_for_allowed_origins_only(store: Store) -> None:
    async with asgi_client(app_for(store)) as client:
        ok = await client.options("/iw/ingest", headers={"origin": PAGE})
        evil = await client.options("/iw/ingest", headers={"origin": "https://evil.example"})
    assert ok.headers["access-control-allow-origin"] == PAGE
    assert "access-control-allow-origin" not in evil.headers


async def test_the_built_snippet_is_served(store: Store) -> None:
    async with asgi_client(app_for(store)) as client:
        response = await client.get("/iw/inferwatch.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    dist = Path(__file__).parents[2] / "js_snippet" / "dist" / "inferwatch.min.js"
    assert response.content == snippet_source() == dist.read_bytes()


@respx.mock
async def test_browser_errors_are_forwarded_to_sentry_when_a_dsn_is_set(store: Store) -> None:
    route = respx.post("https://o1.ingest.example.com/api/7/envelope/").mock(
        return_value=httpx.Response(200)
    )
    forwarder = Forwarder("https://pubkey@o1.ingest.example.com/7")
    app = create_app(Collector(store, CollectorConfig(key=KEY), forwarder=forwarder))
    await post(app, {"events": [error(), {"type": "click", "ts": now_ms(), "selector": "a"}]})
    forwarder.close()
    assert route.call_count == 1
    assert b'"platform":"javascript"' in route.calls.last.request.content.replace(b": ", b":")


async def test_the_ingest_route_is_never_reported_by_the_collectors_own_sdk(
    store: Store, tmp_path: Path
) -> None:
    app = app_for(store)
    own = tmp_path / "own-sdk" / "events.db"
    inferwatch.init(app, store=own, environ={})
    await post(app, {"events": [error()]})
    await post(app, {"events": []}, key="wrong")
    inferwatch.flush(5)
    assert rows(own, "SELECT id FROM events") == []
    assert len(rows(store.path, "SELECT id FROM events")) == 1


async def test_a_batch_sent_again_after_a_lost_answer_is_stored_once(store: Store) -> None:
    batch = {"events": [error()]}
    app = app_for(store)
    assert (await post(app, batch)).status_code == 200
    assert (await post(app, batch)).status_code == 200  # the snippet's retry
    assert rows(store.path, "SELECT count FROM issues") == [{"count": 1}]


@pytest.mark.parametrize("clicks", [10, 400], ids=["on-the-event-loop", "on-a-worker-thread"])
async def test_a_small_and_a_large_batch_are_stored_alike(store: Store, clicks: int) -> None:
    events = [error()] + [
        {"type": "click", "ts": now_ms(), "session": "s", "selector": f"button#b{n}"}
        for n in range(clicks)
    ]
    body = {"events": events}
    assert (len(json.dumps(body)) > INLINE_BYTES) == (clicks == 400)
    response = await post(app_for(store), body)
    assert response.json() == {"accepted": clicks + 1, "invalid": 0, "errors": []}
    # committed before the answer
    assert len(rows(store.path, "SELECT id FROM browser_activity")) == clicks
    assert len(rows(store.path, "SELECT id FROM events")) == 1


async def test_lone_surrogates_from_the_page_are_repaired_and_said_in_the_events_errors(
    store: Store,
) -> None:
    collector = Collector(store, CollectorConfig(key=KEY))
    generation = {"type": "generation", "ts": now_ms(), "name": "chat\udfff", "status": "ok"}
    batch = {
        "events": [
            error(
                "half \ud800 a pair",
                breadcrumbs=[{"type": "console", "ts": now_ms(), "message": "\udc00"}],
            ),
            generation,
        ]
    }
    raw = json.dumps(batch).encode()  # ASCII JSON: the surrogates travel as \ud800 escapes
    response = await post(create_app(collector), None, raw=raw)
    assert response.json() == {"accepted": 2, "invalid": 0, "errors": []}
    assert store.flush(5) and store.stats()["dropped"] == {}
    with open_readonly(store.path) as conn:
        [issue] = list_issues(conn)
        saved = latest_event(conn, issue["id"])
    assert saved is not None and issue["title"] == "TypeError: half \ufffd a pair"
    assert saved["breadcrumbs"]["values"][0]["message"] == "\ufffd"
    assert [e["name"] for e in saved["errors"]] == ["message", "breadcrumbs.0.message"]
    assert rows(store.path, "SELECT model FROM generations") == [{"model": "chat\ufffd"}]
    assert collector.counts()["browser_repaired"] == 3


async def test_a_token_count_sqlite_cannot_hold_makes_its_generation_invalid_not_dropped_later(
    store: Store,
) -> None:
    huge = {"type": "generation", "ts": now_ms(), "name": "chat", "status": "ok"}
    batch = {"events": [{**huge, "output_tokens": 10**30}, {**huge, "output_tokens": 12}]}
    response = await post(app_for(store), batch)
    body = response.json()
    assert response.status_code == 200 and (body["accepted"], body["invalid"]) == (1, 1)
    assert body["errors"][0].startswith("event 0: generation.output_tokens: Input should be less")
    assert store.flush(5) and store.stats()["dropped"] == {}  # every accepted row is stored
    assert rows(store.path, "SELECT output_tokens FROM generations") == [{"output_tokens": 12}]
