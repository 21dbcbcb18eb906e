"""The tunnel: @sentry/browser envelopes forwarded, redacted, to an allowlisted Sentry, and no other;
byte for byte only with the collector's `tunnel_verbatim` option."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from inferwatch._envelope import parse
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


async def test_an_allowed_dsn_is_forwarded_and_a_copy_is_stored(
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
    forwarded = parse(sent.content)
    assert forwarded.headers == json.loads(body.split(b"\n")[0])  # the DSN, id and time as sent
    [item] = forwarded.items
    assert item.type == "event" and item.json() == json.loads(body.split(b"\n")[2])
    assert "sentry_key=b5d4c3b2a1f0e9d8" in sent.headers["x-sentry-auth"]
    [issue] = rows(store_path, "SELECT title, platform FROM issues")
    assert issue == {"title": "TypeError: x is undefined", "platform": "javascript"}
    outbox = Outbox(collector.outbox_path)
    assert outbox.pending(UPSTREAM) == 0  # it went through the outbox, and was deleted on 2xx
    outbox.close()


SECRETS = [
    "bob@example.com",
    "4111 1111 1111 1111",
    "4242424242424242",
    "hunter2-very-secret",
    "alice@example.org",
    "abc123secret",
]


def leaky_envelope() -> bytes:
    """An error, a transaction and a log from a page that saw an email, a card and a password."""
    event_id = uuid.uuid4().hex
    event = {
        "event_id": event_id,
        "platform": "javascript",
        "message": "contact bob@example.com about the order",
        "exception": {"values": [{"type": "TypeError", "value": "x is undefined"}]},
        "extra": {"card": "4111 1111 1111 1111", "note": "paid with 4242424242424242"},
        "request": {
            "url": "https://shop.example/pay?token=abc123secret",
            "data": {"password": "hunter2-very-secret"},
        },
        "breadcrumbs": [{"category": "console", "message": "login as alice@example.org"}],
    }
    transaction = {
        "type": "transaction",
        "transaction": "/pay",
        "request": {"url": "https://shop.example/pay?token=abc123secret"},
        "contexts": {
            "trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"}
        },
    }
    logs = {
        "items": [
            {"level": "info", "body": "card 4111 1111 1111 1111 declined for alice@example.org"}
        ]
    }
    header = {
        "event_id": event_id,
        "sent_at": "2026-11-27T10:00:00.000Z",
        "dsn": DSN,
        "trace": {
            "public_key": "b5d4c3b2a1f0e9d8",
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "transaction": "/pay?token=abc123secret",
        },
    }
    lines = [json.dumps(header)]
    for item_type, payload, extra in (
        ("event", event, {}),
        ("transaction", transaction, {}),
        ("log", logs, {"item_count": 1, "content_type": "application/vnd.sentry.items.log+json"}),
    ):
        lines += [json.dumps({"type": item_type, **extra}), json.dumps(payload)]
    return "\n".join(lines).encode()


def outbox_bytes(collector: Collector) -> bytes:
    """The outbox file as it is on disk, with its write-ahead log."""
    files = [
        collector.outbox_path,
        collector.outbox_path.with_name(collector.outbox_path.name + "-wal"),
    ]
    return b"".join(f.read_bytes() for f in files if f.exists())


async def test_emails_cards_and_passwords_reach_neither_sentry_nor_the_outbox(
    sentry: respx.MockRouter, client: httpx.AsyncClient, collector: Collector, store_path: Path
) -> None:
    # Sentry is down at first: the envelope waits in the outbox, where it is looked at.
    route = sentry.post(UPSTREAM).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={})]
    )
    body = leaky_envelope()
    assert all(secret.encode() in body for secret in SECRETS)
    response = await client.post("/iw/tunnel", content=body, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    forwarder = collector.tunnel_forwarder(DSN)
    assert forwarder.persist(5)
    waiting = outbox_bytes(collector)
    assert b"x is undefined" in waiting and b"shop.example/pay" in waiting  # it can be seen
    assert not [s for s in SECRETS if s.encode() in waiting]
    assert forwarder.flush(10) and route.call_count == 2
    sent = route.calls.last.request.content
    assert not [s for s in SECRETS if s.encode() in sent]
    assert [item.type for item in parse(sent).items] == ["event", "transaction", "log"]
    header = parse(sent).headers
    assert header["dsn"] == DSN and header["trace"]["public_key"] == "b5d4c3b2a1f0e9d8"
    event = parse(sent).items[0].json()
    assert event["request"]["data"]["password"] == "[Filtered]"
    assert event["exception"]["values"][0]["value"] == "x is undefined"
    stored = rows(store_path, "SELECT data FROM events")
    assert not [s for s in SECRETS if s in stored[0]["data"]]


async def test_items_that_cannot_be_redacted_are_dropped_and_counted(
    sentry: respx.MockRouter, client: httpx.AsyncClient, collector: Collector
) -> None:
    route = sentry.post(UPSTREAM).mock(return_value=httpx.Response(200, json={}))
    secret = b"hunter2-very-secret in a screenshot"
    body = (
        browser_envelope(DSN)
        + b"\n"
        + b"\n".join(
            [
                json.dumps(
                    {"type": "attachment", "length": len(secret), "filename": "a.txt"}
                ).encode(),
                secret,
                json.dumps({"type": "replay_recording", "length": 4}).encode(),
                b"\x00\x01\x02\x03",
                json.dumps({"type": "event"}).encode(),
                b"not json at all",
                json.dumps({"type": "made_up"}).encode(),
                b"{}",
            ]
        )
    )
    response = await client.post("/iw/tunnel", content=body, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert collector.tunnel_forwarder(DSN).flush(5)
    sent = route.calls.last.request.content
    assert secret not in sent and b"\x00\x01" not in sent
    assert [item.type for item in parse(sent).items] == ["event"]
    counts = collector.counts()
    assert (
        counts["tunnel_dropped_attachment"] == 1 and counts["tunnel_dropped_replay_recording"] == 1
    )
    assert counts["tunnel_dropped_event"] == 1 and counts["tunnel_dropped_unknown"] == 1


async def test_an_envelope_with_nothing_redactable_is_not_forwarded(
    sentry: respx.MockRouter, client: httpx.AsyncClient, collector: Collector
) -> None:
    route = sentry.route().mock(return_value=httpx.Response(200))
    header = json.dumps({"dsn": DSN}).encode()
    item = json.dumps({"type": "attachment", "length": 3}).encode()
    response = await client.post(
        "/iw/tunnel", content=b"\n".join([header, item, b"abc"]), headers={"Origin": ORIGIN}
    )
    assert response.status_code == 200
    assert route.call_count == 0 and collector.counts()["tunnel_dropped_attachment"] == 1
    assert "tunnel_forwarded" not in collector.counts() and not collector.outbox_path.exists()


async def test_with_tunnel_verbatim_the_envelope_is_forwarded_byte_for_byte(
    sentry: respx.MockRouter, store_path: Path
) -> None:
    route = sentry.post(UPSTREAM).mock(return_value=httpx.Response(200, json={}))
    store = Store(store_path)
    config = CollectorConfig(
        key="collectorkey1", allow_origins=(ORIGIN,), tunnel_dsns=(DSN,), tunnel_verbatim=True
    )
    collector = Collector(store, config)
    body = leaky_envelope()
    try:
        async with asgi_client(create_app(collector)) as client:
            response = await client.post("/iw/tunnel", content=body, headers={"Origin": ORIGIN})
        assert response.status_code == 200
        assert collector.tunnel_forwarder(DSN).flush(5)
    finally:
        collector.close()
        store.close()
    assert route.calls.last.request.content == body
    stored = rows(store_path, "SELECT data FROM events")  # the local copy is redacted all the same
    assert not [s for s in SECRETS if s in stored[0]["data"]]


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
