"""The pages read through indexes, kept counters and rollups: the issues page never scans the
events table, and the Generations page at a million records answers within twice its time at
ten thousand."""

from __future__ import annotations

import re
import sqlite3
import statistics
import time
import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI
from inferwatch.dashboard import Access, dashboard_router
from inferwatch.dashboard._stats import Window
from inferwatch.dashboard._usage_stats import usage_stats
from inferwatch.store import Store, open_readonly
from inferwatch.store import _queries as q
from starlette.testclient import TestClient

from tests.dashboard._records import seed_generations


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "events.db"
    writer = Store(path)
    now = time.time()
    events = [
        {
            "event_id": uuid.uuid4().hex,
            "timestamp": now - i,
            "message": "m",
            "fingerprint": [f"issue-{i % 40}"],
            "tags": {"request_id": f"req-{i}"},
            "environment": "prod",
        }
        for i in range(2000)
    ]
    try:
        assert writer.write([("event", e) for e in events])
    finally:
        writer.close()
    return path


def plans(conn: sqlite3.Connection, statements: list[str]) -> list[str]:
    out = []
    for sql in statements:
        out += [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    return out


def issues_page(conn: sqlite3.Connection, **filters: str) -> list[str]:
    """The statements one view of the issues page runs, as SQLite saw them."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    issues = q.list_issues(conn, limit=51, **filters)
    ids = [i["id"] for i in issues]
    q.issue_hourly(conn, ids, now=time.time())
    q.issue_affected(conn, ids)
    q.issue_facets(conn)
    conn.set_trace_callback(None)
    return seen


@pytest.mark.parametrize(
    "filters",
    [{}, {"status": "unresolved"}, {"environment": "prod"}, {"search": "req-1234"}],
)
def test_the_issues_page_never_scans_events(store: Path, filters: dict[str, str]) -> None:
    with open_readonly(store) as conn:
        statements = issues_page(conn, **filters)
        steps = plans(conn, statements)
    assert statements and steps
    assert not [s for s in steps if s.startswith("SCAN") and "events" in s.split()[1:2]], steps
    if "search" not in filters:  # counts come from the issue rows and the kept counters
        assert not [s for s in steps if " events" in s], steps


def test_counters_match_what_was_stored(store: Path) -> None:
    with open_readonly(store) as conn:
        hourly = q.issue_hourly(conn, [1, 2], now=time.time())
        affected = q.issue_affected(conn, [1, 2])
        counts = dict(conn.execute("SELECT id, count FROM issues WHERE id IN (1, 2)").fetchall())
    assert sum(hourly[1]) == counts[1] == 50 and affected == {1: 50, 2: 50}


def test_the_usage_page_reads_the_traffic_rollups_not_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    writer = Store(path)
    now = time.time()
    rows = [
        (
            "request",
            {
                "timestamp": now - i,
                "method": "GET",
                "route": "/a",
                "status": 200 + i % 400,
                "duration_ms": 10.0,
            },
        )
        for i in range(500)
    ]
    rows += [("usage", {"timestamp": now - i, "endpoint": "/p"}) for i in range(30)]
    try:
        assert writer.write(rows)
    finally:
        writer.close()
    window = Window.named("24h", now)
    with open_readonly(path) as conn:
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        stats = usage_stats(conn, window)
        conn.set_trace_callback(None)
        steps = plans(conn, seen)
    assert not [s for s in steps if " requests" in s or " usage" in s], steps
    (route,) = stats["routes"]
    assert (route["name"], route["n"], route["errors"], route["avg_ms"]) == (
        "GET /a",
        500,
        100,
        10.0,
    )
    assert route["p50"] == pytest.approx(10.0, rel=0.011)
    assert sum(stats["usage"]["/p"]) == 30


def page_ms(client: TestClient, url: str) -> float:
    """The CPU time of one page view (all of this process's threads: the page is served on a
    worker thread), which other processes on a shared machine disturb far less than wall time."""
    start = time.process_time()
    response = client.get(url)
    elapsed = (time.process_time() - start) * 1000
    assert response.status_code == 200
    return elapsed


def calls_shown(html: str) -> int:
    found = re.search(r'Calls</span><span class="tile-value">([\d,]+)<', html)
    assert found, "no Calls tile"
    return int(found.group(1).replace(",", ""))


def test_the_generations_page_at_a_million_records_answers_within_twice_its_time_at_ten_thousand(
    tmp_path: Path,
) -> None:
    sizes = {"10k": 10_000, "1M": 1_000_000}
    clients, calls = {}, {}
    for name, n in sizes.items():
        calls[name] = seed_generations(tmp_path / f"{name}.db", n)
        app = FastAPI()
        access = Access(token=None, loopback=True)
        app.include_router(dashboard_router(tmp_path / f"{name}.db", access))
        clients[name] = TestClient(app, base_url="http://127.0.0.1")
    for name, client in clients.items():  # every record counted, once, at any size
        assert calls_shown(client.get("/generations?range=7d").text) == calls[name]
    for url in ("/generations?range=24h", "/generations?range=7d"):
        times: dict[str, list[float]] = {name: [] for name in sizes}
        for _ in range(2):
            for client in clients.values():
                page_ms(client, url)
        for _ in range(15):  # alternating, so a busy moment of the machine hits both alike
            for name, client in clients.items():
                times[name].append(page_ms(client, url))
        small, large = (statistics.median(times[name]) for name in sizes)
        assert large <= 2 * small, f"{url}: {large:.1f} ms CPU at 1M vs {small:.1f} ms at 10k"
