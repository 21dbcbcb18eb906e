"""The issues page reads through indexes and kept counters: it never scans the events table."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from inferwatch.dashboard._stats import Window, usage_stats
from inferwatch.store import Store, open_readonly
from inferwatch.store import _queries as q


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


def test_the_usage_page_reads_the_traffic_counters_not_the_rows(tmp_path: Path) -> None:
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
    assert stats["routes"] == [{"name": "GET /a", "n": 500, "errors": 100, "avg_ms": 10.0}]
    assert sum(stats["usage"]["/p"]) == 30
