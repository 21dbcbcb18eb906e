"""The tunnel: @sentry/browser envelopes forwarded unchanged to an allowlisted Sentry, and no other."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from inferwatch._outbox import Outbox
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store

from tests.conftest import asgi_client, rows

DSN = "https://b5d4c3b2a1f0e9d8@o77.ingest.sentry.io/4242"
UPSTREAM = "https://o77.ingest.sentry.io/api/4242/envelope/"
ORIGIN = "https://shop.example"


def browser_envelope(dsn: Any, message: str = "x is undefined") -> bytes:
    """What @sentry/browser posts to its tunnel: the DSN rides in the envelope header."""
    event_id = uuid.uuid4().hex
    event = {
        "event_id": event_id,
        "platform": "javascript",
        "exception": {"values": [{"type": "TypeError", "value": message}]},
        "breadcrumbs": [{"category": "ui.click", "message": "button#buy"}],
    }
    header = {"event_id": event_id, "sent_at": "2026-11-27T10:00:00.000Z", "dsn": dsn}
    item = json.dumps(event, separators=(",", ":"))
    return "\n".join([json.dumps(header), json.dumps({"type": "event"}), item]).encode()


@pytest.fixture
def sentry() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def collector(store_path: Path) -> Iterator[Collector]:
    store = Store(store_path)
    config = CollectorConfig(key="collectorkey1", allow_origins=(ORIGIN,), tunnel_dsns=(DSN,))
    collector = Collector(store, config)
    yield collector
    collector.close()
    store.close()


@pytest.fixture
async def client(collector: Collector) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(collector)) as client:
        yield client


async def test_an_allowed_dsn_is_forwarded_byte_for_byte_and_a_copy_is_stored(
    sentry: respx.MockRouter, client: httpx.AsyncClient, collector: Collector, store_path: Path
) -> None:
    route = sentry.post(UPSTREAM).mock(return_value=httpx.Response(200, json={}))
    body = browser_envelope(DSN)
    response = await client.post(
        "/iw/tunnel",
        content=body,
        headers={"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert collector.tunnel_forwarder(DSN).flush(5)
    assert route.call_count == 1
    sent = route.calls.last.request
    assert sent.content == body
    assert "sentry_key=b5d4c3b2a1f0e9d8" in sent.headers["x-sentry-auth"]
    [issue] = rows(store_path, "SELECT title, platform FROM issues")
    assert issue == {"title": "TypeError: x is undefined", "platform": "javascript"}
    outbox = Outbox(collector.outbox_path)
    assert outbox.pending(UPSTREAM) == 0  # it went through the outbox, and was deleted on 2xx
    outbox.close()


@pytest.mark.parametrize(
    "dsn",
    [
        "https://b5d4c3b2a1f0e9d8@evil.example/4242",  # another host
        "https://b5d4c3b2a1f0e9d8@o77.ingest.sentry.io/9999",  # another project
        "https://0000000000000000@o77.ingest.sentry.io/4242",  # another key
        "https://b5d4c3b2a1f0e9d8@o77.ingest.sentry.io/4242/",  # not exactly the same text
        "https://b5d4c3b2a1f0e9d8@o77.ingest.sentry.io.evil.example/4242",
        None,
        42,
    ],
)
async def test_a_dsn_not_on_the_list_is_refused_and_nothing_is_sent(
    sentry: respx.MockRouter, client: httpx.AsyncClient, collector: Collector, dsn: Any
) -> None:
    route = sentry.route().mock(return_value=httpx.Response(200))
    response = await client.post(
        "/iw/tunnel", content=browser_envelope(dsn), headers={"Origin": ORIGIN}
    )
    assert response.status_code == 403
    assert "tunnel list" in response.json()["detail"]
    assert collector.counts()["tunnel_refused_403"] == 1
    assert route.call_count == 0
    assert not collector.outbox_path.exists()  # no forwarder was even made


async def test_a_page_on_an_origin_not_allowed_cannot_use_the_tunnel(
    sentry: respx.MockRouter, client: httpx.AsyncClient
) -> None:
    route = sentry.route().mock(return_value=httpx.Response(200))
    response = await client.post(
        "/iw/tunnel", content=browser_envelope(DSN), headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert route.call_count == 0


async def test_a_body_that_is_not_an_envelope_is_400_and_nothing_is_sent(
    sentry: respx.MockRouter, client: httpx.AsyncClient
) -> None:
    route = sentry.route().mock(return_value=httpx.Response(200))
    response = await client.post("/iw/tunnel", content=b"GET / HTTP/1.1\r\n\r\n")
    assert response.status_code == 400
    assert route.call_count == 0


def test_a_tunnel_dsn_that_is_not_a_dsn_is_a_config_error() -> None:
    from inferwatch import ConfigError

    with pytest.raises(ConfigError, match="not a valid Sentry DSN"):
        CollectorConfig(key="k", tunnel_dsns=("o77.ingest.sentry.io/4242",))
