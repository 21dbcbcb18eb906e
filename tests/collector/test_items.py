"""What a Sentry SDK sends beside its events: attachments and feedback stored, every other item
type counted by outcome, type and reason, in memory, on /metrics and in the store."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from inferwatch._metrics_route import scrape
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store

from tests.collector.test_sentry_ingest import AUTH, KEY, URL, envelope, event, event_item
from tests.conftest import asgi_client, rows


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    store = Store(store_path)
    yield store
    store.close()


def collector_for(store: Store, **config: Any) -> Collector:
    return Collector(store, CollectorConfig(key=KEY, **config))


@pytest.fixture
def collector(store: Store) -> Iterator[Collector]:
    collector = collector_for(store)
    yield collector
    collector.close()


@pytest.fixture
async def client(collector: Collector) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(collector)) as client:
        yield client


def attachment(name: str, data: bytes, **headers: Any) -> tuple[dict[str, Any], bytes]:
    return {"type": "attachment", "filename": name, **headers}, data


async def post(
    client: httpx.AsyncClient, *items: tuple[dict[str, Any], bytes], **header: Any
) -> httpx.Response:
    return await client.post(URL, content=envelope(*items, headers=header), headers=AUTH)


async def test_attachments_are_stored_beside_their_event_as_sent(
    client: httpx.AsyncClient, store: Store, store_path: Path
) -> None:
    data = event("with a log")
    log = b"line 1 bob@example.com\nline 2\x00\xff"
    response = await post(
        client,
        event_item(data),
        attachment("../logs/app.log", log, content_type="text/plain"),
        attachment("dump.dmp", b"MDMP", attachment_type="event.minidump"),
        event_id=data["event_id"],
    )
    assert response.status_code == 200
    store.flush()
    found = rows(
        store_path,
        "SELECT event_id, name, content_type, attachment_type, size, data FROM attachments ORDER BY id",
    )
    assert found == [
        {
            "event_id": data["event_id"],
            "name": "app.log",
            "content_type": "text/plain",
            "attachment_type": "event.attachment",
            "size": len(log),
            "data": log,
        },
        {
            "event_id": data["event_id"],
            "name": "dump.dmp",
            "content_type": None,
            "attachment_type": "event.minidump",
            "size": 4,
            "data": b"MDMP",
        },
    ]


async def test_attachments_over_the_limit_or_without_a_stored_event_are_skipped_and_counted(
    store: Store, store_path: Path
) -> None:
    collector = collector_for(store, max_attachment_bytes=10)
    async with asgi_client(create_app(collector)) as client:
        data = event("small limit")
        await post(
            client,
            event_item(data),
            attachment("big.bin", b"x" * 11),
            attachment("ok.txt", b"fits"),
        )
        transaction = {
            "type": "transaction",
            "start_timestamp": time.time(),
            "timestamp": time.time(),
        }
        await post(
            client,
            ({"type": "transaction"}, json.dumps(transaction).encode()),
            attachment("of-a-transaction.txt", b"t"),
            event_id=uuid.uuid4().hex,
        )
    totals = collector.ingest.totals()
    collector.close()
    store.flush()
    assert [r["name"] for r in rows(store_path, "SELECT name FROM attachments")] == ["ok.txt"]
    assert totals[("skipped", "attachment", "too_large")] == 1
    assert totals[("skipped", "attachment", "no_event")] == 1
    assert totals[("stored", "attachment", "")] == 1


async def test_no_attachment_is_stored_when_the_limit_is_zero(
    store: Store, store_path: Path
) -> None:
    collector = collector_for(store, max_attachment_bytes=0)
    async with asgi_client(create_app(collector)) as client:
        await post(client, event_item(event("none")), attachment("a.txt", b"a"))
    assert collector.ingest.totals()[("skipped", "attachment", "disabled")] == 1
    collector.close()
    store.flush()
    assert rows(store_path, "SELECT id FROM attachments") == []


async def test_user_reports_and_feedback_are_stored_with_the_event_they_are_about(
    client: httpx.AsyncClient, store: Store, store_path: Path
) -> None:
    data = event("checkout failed")
    report = {
        "event_id": data["event_id"],
        "name": "Bob",
        "email": "bob@example.com",
        "comments": "It broke, key sk-abcdefghijklmnopqrstuv",
    }
    feedback = {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "contexts": {
            "feedback": {
                "message": "The answer never came",
                "contact_email": "al@example.com",
                "name": "Al",
                "url": "http://app/chat?token=abc",
                "associated_event_id": data["event_id"],
                "source": "widget",
            }
        },
    }
    await post(client, event_item(data), ({"type": "user_report"}, json.dumps(report).encode()))
    await post(client, ({"type": "feedback"}, json.dumps(feedback).encode()))
    await post(client, ({"type": "user_report"}, json.dumps(report).encode()))  # sent again
    store.flush()
    found = rows(
        store_path, "SELECT event_id, name, email, message, url, source FROM feedback ORDER BY id"
    )
    assert found == [
        {
            "event_id": data["event_id"],
            "name": "Bob",
            "email": "bob@example.com",
            "message": "It broke, key [api_key]",
            "url": None,
            "source": "user_report",
        },
        {
            "event_id": data["event_id"],
            "name": "Al",
            "email": "al@example.com",
            "message": "The answer never came",
            "url": "http://app/chat?token=%5BFiltered%5D",
            "source": "widget",
        },
    ]


async def test_every_item_is_counted_by_outcome_type_and_reason_in_memory_on_metrics_and_in_the_store(
    client: httpx.AsyncClient, collector: Collector, store: Store, store_path: Path
) -> None:
    data = event("counted")
    await post(
        client,
        event_item(data),
        ({"type": "session"}, b'{"sid": "x", "status": "ok"}'),
        ({"type": "check_in"}, b'{"check_in_id": "x", "monitor_slug": "m", "status": "ok"}'),
        ({"type": "client_report"}, b'{"discarded_events": []}'),
        ({"type": "a_type_from_the_future"}, b"{}"),
        ({"type": "event"}, b"[]"),
    )
    await client.post(
        URL,
        content=envelope(event_item(event())),
        headers={"X-Sentry-Auth": "Sentry sentry_key=wrong"},
    )
    expected = {
        ("received", "event", ""): 2,
        ("stored", "event", ""): 1,
        ("refused", "event", "invalid"): 1,
        ("received", "session", ""): 1,
        ("skipped", "session", "not_stored"): 1,
        ("skipped", "check_in", "not_stored"): 1,
        ("skipped", "client_report", "not_stored"): 1,
        ("received", "unknown", ""): 1,
        ("skipped", "unknown", "unknown_type"): 1,
        ("refused", "request", "forbidden"): 1,
    }
    totals = collector.ingest.totals()
    assert {k: totals.get(k) for k in expected} == expected
    exposition = scrape(lambda: (store, None), extra=(collector.ingest,)).decode()
    assert (
        'inferwatch_ingest_items_total{outcome="skipped",reason="not_stored",type="session"} 1.0'
        in exposition
    )
    store.flush()
    stored = {
        (r["outcome"], r["type"], r["reason"]): r["n"]
        for r in rows(
            store_path,
            "SELECT outcome, type, reason, SUM(n) AS n FROM ingest_counts GROUP BY 1, 2, 3",
        )
    }
    assert {k: stored.get(k) for k in expected} == expected
