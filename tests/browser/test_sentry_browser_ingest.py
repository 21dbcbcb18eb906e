"""A page on another origin posts envelopes the way @sentry/browser does, in real Chromium.

@sentry/browser's fetch transport sends the envelope as a string body (so `text/plain`, no
preflight) with the key in the query string; a page can also send `X-Sentry-Auth` (which needs a
preflight), or use the tunnel. Each must pass the browser's own CORS checks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from inferwatch._envelope import parse
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store
from playwright.sync_api import Browser

from tests.conftest import LiveServer, rows

KEY = "9a8b7c6d5e4f3a2b"
UPSTREAM_DSN = "https://b5d4c3b2a1f0e9d8@o77.ingest.sentry.io/4242"
UPSTREAM = "https://o77.ingest.sentry.io/api/4242/envelope/"

pytestmark = pytest.mark.browser


def envelope_text(message: str, dsn: str | None = None) -> str:
    """An envelope as @sentry/browser serializes one: event items without `length`."""
    event_id = uuid.uuid4().hex
    header: dict[str, Any] = {"event_id": event_id, "sent_at": "2026-11-27T10:00:00.000Z"}
    if dsn:
        header["dsn"] = dsn
    event = {
        "event_id": event_id,
        "platform": "javascript",
        "level": "error",
        "exception": {"values": [{"type": "Error", "value": message}]},
        "breadcrumbs": [{"category": "ui.click", "message": "button#send"}],
        "tags": {"page": "chat"},
    }
    return "\n".join([json.dumps(header), '{"type":"event"}', json.dumps(event)])


@pytest.fixture
def collector(store_path: Path) -> Iterator[tuple[Collector, LiveServer]]:
    store = Store(store_path)
    collector = Collector(store, CollectorConfig(key=KEY, tunnel_dsns=(UPSTREAM_DSN,)))
    with LiveServer(create_app(collector)) as server:
        yield collector, server
    collector.close()
    store.close()


@pytest.fixture
def page_origin() -> Iterator[str]:
    app = FastAPI()

    @app.get("/")
    async def index() -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>chat</title><p>chat</p>")

    with LiveServer(app) as server:
        yield f"http://localhost:{server.port}"  # another origin than the collector's


def post_from_page(browser: Browser, origin: str, url: str, body: str, headers: Any) -> Any:
    page = browser.new_page()
    try:
        page.goto(origin + "/")
        return page.evaluate(
            """async ([url, body, headers]) => {
                const r = await fetch(url, {method: "POST", body, headers,
                                            referrerPolicy: "strict-origin", keepalive: true});
                return {status: r.status, body: await r.json()};
            }""",
            [url, body, headers],
        )
    finally:
        page.close()


def test_a_page_on_another_origin_can_post_like_sentry_browser(
    browser: Browser,
    collector: tuple[Collector, LiveServer],
    page_origin: str,
    store_path: Path,
) -> None:
    col, server = collector
    base = f"http://127.0.0.1:{server.port}/api/1/envelope/"
    simple = post_from_page(
        browser,
        page_origin,
        f"{base}?sentry_key={KEY}&sentry_version=7&sentry_client=sentry.javascript.browser%2F9.0.0",
        envelope_text("from the query-string key"),
        {},
    )
    preflighted = post_from_page(
        browser,
        page_origin,
        base,
        envelope_text("from the auth header"),
        {"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=7"},
    )
    assert simple["status"] == 200 and simple["body"]["id"]
    assert preflighted["status"] == 200
    col.store.flush()
    titles = sorted(r["title"] for r in rows(store_path, "SELECT title FROM issues"))
    assert titles == ["Error: from the auth header", "Error: from the query-string key"]


def test_a_page_can_use_the_tunnel_and_its_error_is_kept_locally(
    browser: Browser,
    collector: tuple[Collector, LiveServer],
    page_origin: str,
    store_path: Path,
) -> None:
    col, server = collector
    body = envelope_text("through the tunnel", dsn=UPSTREAM_DSN)
    with respx.mock(assert_all_called=False) as sentry:  # Sentry is outside the machine
        route = sentry.post(UPSTREAM).mock(return_value=httpx.Response(200))
        answer = post_from_page(
            browser, page_origin, f"http://127.0.0.1:{server.port}/iw/tunnel", body, {}
        )
        assert col.tunnel_forwarder(UPSTREAM_DSN).flush(5)
    # Forwarded rebuilt (each JSON item redacted, here with nothing to take out): the same header
    # and the same event, written again.
    assert route.call_count == 1
    forwarded = parse(route.calls.last.request.content)
    header, _, event = body.split("\n")
    assert forwarded.headers == json.loads(header)
    assert [(i.type, i.json()) for i in forwarded.items] == [("event", json.loads(event))]
    refused = post_from_page(
        browser,
        page_origin,
        f"http://127.0.0.1:{server.port}/iw/tunnel",
        envelope_text("to somewhere else", dsn="https://b5d4c3b2a1f0e9d8@evil.example/4242"),
        {},
    )
    assert answer["status"] == 200
    assert refused["status"] == 403
    col.store.flush()
    assert [r["title"] for r in rows(store_path, "SELECT title FROM issues")] == [
        "Error: through the tunnel"
    ]
