"""The cap on new issues a minute per key, against `inferwatch serve` on loopback."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store

from tests.conftest import asgi_client, rows
from tests.reliability.conftest import (
    AUTH,
    ENVELOPE_URL,
    INGEST_URL,
    KEY,
    batch,
    browser_error,
    envelope,
    sentry_event,
    served_collector,
)


def of_issue(name: str) -> dict[str, object]:
    return sentry_event(f"failure {name}", fingerprint=[name])


def issue_counts(store: Path) -> dict[str, int]:
    found = rows(store, "SELECT title, count FROM issues ORDER BY id")
    return {r["title"].removeprefix("ValueError: failure "): r["count"] for r in found}


def test_past_the_cap_new_issues_are_dropped_and_known_issues_still_stored(
    store_path: Path,
) -> None:
    seeded = Store(store_path)  # issues known before this collector started
    assert seeded.write([("event", of_issue(f"old{i}")) for i in range(3)])
    seeded.close()
    flags = ("--max-new-issues-per-minute", "5", "--rate-limit", "0")
    with served_collector(store_path, *flags) as (_, url), httpx.Client(base_url=url) as client:
        flood = envelope(*(of_issue(f"new{i}") for i in range(50)))
        assert client.post(ENVELOPE_URL, content=flood, headers=AUTH).status_code == 200
        known = envelope(*(of_issue(name) for name in ("old0", "old1", "old2", "new0", "new4")))
        assert client.post(ENVELOPE_URL, content=known, headers=AUTH).status_code == 200
        more = envelope(of_issue("new10"), of_issue("new0"))
        assert client.post(ENVELOPE_URL, content=more, headers=AUTH).status_code == 200
    counts = issue_counts(store_path)
    assert counts == {"old0": 2, "old1": 2, "old2": 2, **{f"new{i}": 1 for i in range(5)}} | {
        "new0": 3,
        "new4": 2,
    }


def test_browser_errors_past_the_cap_are_dropped_and_said_so(store_path: Path) -> None:
    flags = ("--max-new-issues-per-minute", "2")
    errors = [browser_error(f"render failed in the {word} panel") for word in "abcdef"]
    with served_collector(store_path, *flags) as (_, url), httpx.Client(base_url=url) as client:
        answer = client.post(INGEST_URL, content=batch(*errors)).json()
        again = client.post(INGEST_URL, content=batch(errors[0])).json()
    assert (answer["accepted"], answer["dropped"]) == (2, 4)
    assert again["accepted"] == 1 and "dropped" not in again
    assert rows(store_path, "SELECT count(*) AS n FROM issues") == [{"n": 2}]


async def test_dropped_events_are_counted_and_logged_once_a_minute(
    store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(store_path)
    collector = Collector(store, CollectorConfig(key=KEY, max_new_issues_per_minute=1))
    try:
        with caplog.at_level(logging.WARNING, logger="inferwatch"):
            async with asgi_client(create_app(collector)) as client:
                for n in range(3):
                    body = envelope(of_issue(f"a{n}"), of_issue(f"b{n}"))
                    response = await client.post(ENVELOPE_URL, content=body, headers=AUTH)
                    assert response.status_code == 200
    finally:
        collector.close()
        store.close()
    assert collector.counts()["new_issue_dropped"] == 5
    warnings = [r for r in caplog.records if "--max-new-issues-per-minute" in r.getMessage()]
    assert len(warnings) == 1


async def test_a_cap_of_0_opens_every_issue(store_path: Path) -> None:
    store = Store(store_path)
    collector = Collector(store, CollectorConfig(key=KEY, max_new_issues_per_minute=0))
    try:
        async with asgi_client(create_app(collector)) as client:
            body = envelope(*(of_issue(f"i{n}") for n in range(300)))
            assert (await client.post(ENVELOPE_URL, content=body, headers=AUTH)).status_code == 200
    finally:
        collector.close()
        store.close()
    assert rows(store_path, "SELECT count(*) AS n FROM issues") == [{"n": 300}]
