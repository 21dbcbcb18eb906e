"""`inferwatch stats [--json]`: the collector's counts and what the store holds, in a documented
format; and `inferwatch prune` keeps an old event the collector stored at its arrival."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from inferwatch.cli import main
from inferwatch.serve import ServeConfig, build

from tests.conftest import LiveServer, free_port, rows

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    app = build(ServeConfig(store=tmp_path / "events.db", port=port, key=KEY))
    try:
        with LiveServer(app.app, port) as server:
            yield server.url, app.config.store
    finally:
        app.close()


def send(url: str, *items: tuple[str, dict[str, object]]) -> None:
    lines = [b"{}"]
    for kind, payload in items:
        lines += [json.dumps({"type": kind}).encode(), json.dumps(payload).encode()]
    response = httpx.post(f"{url}/api/1/envelope/?sentry_key={KEY}", content=b"\n".join(lines))
    assert response.status_code == 200, response.text


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_stats_prints_what_was_received_stored_skipped_and_refused(
    served: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = served
    send(url, ("event", {"message": "hello"}), ("session", {"sid": "s", "status": "ok"}))
    httpx.post(f"{url}/api/1/envelope/?sentry_key=wrong", content=b"{}\n")
    httpx.get(f"{url}/metrics")  # a scrape must not count as anything
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = json.loads(run(capsys, "stats", "--store", str(store), "--json"))
        if stats["ingest"]["totals"]["refused"] == 1:
            break
        time.sleep(0.05)
    assert set(stats) == {"store", "ingest", "held"}
    assert stats["store"] == str(store.resolve())
    ingest = stats["ingest"]
    assert set(ingest) == {"since", "totals", "last_24h", "items"}
    assert ingest["totals"] == {"received": 2, "stored": 1, "skipped": 1, "refused": 1}
    assert ingest["last_24h"] == ingest["totals"]
    assert {
        "outcome": "skipped",
        "type": "session",
        "reason": "not_stored",
        "count": 1,
        "last_24h": 1,
    } in ingest["items"]
    assert {
        "outcome": "refused",
        "type": "request",
        "reason": "forbidden",
        "count": 1,
        "last_24h": 1,
    } in ingest["items"]
    assert all(
        set(i) == {"outcome", "type", "reason", "count", "last_24h"} for i in ingest["items"]
    )
    assert stats["held"] == {
        "issues": 1,
        "events": 1,
        "attachments": 0,
        "attachment_bytes": 0,
        "feedback": 0,
        "generations": 0,
    }
    text = run(capsys, "stats", "--store", str(store))
    assert "2 received" in text and "not_stored" in text


def test_an_event_40_days_old_is_still_there_after_prune(
    served: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = served
    event_id = uuid.uuid4().hex
    send(
        url,
        ("event", {"event_id": event_id, "message": "late", "timestamp": time.time() - 40 * 86400}),
    )
    deleted = json.loads(run(capsys, "prune", "--store", str(store), "--json"))
    assert deleted["age"] == 0
    [kept] = rows(store, "SELECT event_id, data FROM events")
    assert kept["event_id"] == event_id
    assert json.loads(kept["data"])["errors"][0]["type"] == "past_timestamp"
    issue = json.loads(run(capsys, "issues", "--store", str(store), "--json"))[0]
    assert issue["count"] == 1 and issue["title"] == "late"
