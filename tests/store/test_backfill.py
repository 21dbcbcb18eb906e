"""A store written before the rollups existed gets them from its rows, a chunk at a time, while
new rows go on being written and counted once."""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

from inferwatch.store import Store, _schema
from inferwatch.store._backfill import backfill_step, pending
from inferwatch.store._rollup_tables import SPANS, TRAFFIC, kept_since, read
from inferwatch.store._tables import INSERTS

from tests.store._generations import (
    actual,
    as_histograms,
    backend,
    browser,
    expected,
    random_records,
)

NOW = time.time()
# What a store of the previous version had instead of the rollups
OLD_TRAFFIC = """
CREATE TABLE traffic (kind TEXT NOT NULL, bucket INTEGER NOT NULL, name TEXT NOT NULL,
    n INTEGER NOT NULL, errors INTEGER NOT NULL, total_ms REAL NOT NULL,
    PRIMARY KEY (kind, bucket, name)) WITHOUT ROWID;
CREATE TRIGGER requests_count AFTER INSERT ON requests BEGIN
    INSERT INTO traffic (kind, bucket, name, n, errors, total_ms)
    VALUES ('request', CAST(NEW.timestamp / 300 AS INTEGER), NEW.method || ' ' || NEW.route, 1,
            NEW.status >= 500, NEW.duration_ms)
    ON CONFLICT (kind, bucket, name) DO UPDATE SET n = n + 1;
END;
"""


def insert(conn: sqlite3.Connection, kind: str, rows: list[dict[str, Any]]) -> None:
    """A batch as the writer inserts it, in its own transaction (another process's writer)."""
    conn.execute("BEGIN IMMEDIATE")
    INSERTS[kind](conn, rows)
    conn.execute("COMMIT")


def old_store(path: Path, records: list[dict[str, Any]], requests: list[dict[str, Any]]) -> None:
    """A store with these rows and no rollups, as the previous version left it."""
    conn = _schema.connect(str(path))
    _schema.create(conn)
    insert(conn, "generation", records)
    insert(conn, "request", requests)
    conn.executescript(
        "DROP TABLE generation_rollups; DROP TABLE traffic_rollups; DROP TABLE rollup_backfill;"
        + OLD_TRAFFIC
    )
    conn.close()


def request_rows(rng: random.Random, n: int) -> list[dict[str, Any]]:
    ages = [a for a in (rng.random() * 86400 for _ in range(2 * n)) if abs(a - 7200) > 600]
    return [
        {
            "timestamp": NOW - ages[i],
            "method": "POST",
            "route": rng.choice(["/api/generate", "/api/classify"]),
            "status": rng.choice([200, 200, 200, 503]),
            "duration_ms": rng.lognormvariate(3, 1),
        }
        for i in range(n)
    ]


def traffic_expected(conn: sqlite3.Connection, now: float) -> Counter[tuple[int, int, str]]:
    out: Counter[tuple[int, int, str]] = Counter()
    for r in conn.execute("SELECT timestamp, method, route FROM requests"):
        for span, since in kept_since(now):
            if r[0] // span >= since:
                out[span, int(r[0] // span), f"{r[1]} {r[2]}"] += 1
    return out


def traffic_actual(conn: sqlite3.Connection) -> Counter[tuple[int, int, str]]:
    out: Counter[tuple[int, int, str]] = Counter()
    for span in SPANS:
        for r in read(conn, TRAFFIC, span, 0, 2**40, kind="request"):
            out[span, r.period, r.keys["name"]] = int(r.counts["n"])
    return out


def test_the_writer_rolls_up_the_rows_of_a_store_written_before_the_rollups(
    tmp_path: Path,
) -> None:
    rng = random.Random(5)
    path = tmp_path / "events.db"
    old_store(path, random_records(rng, 2000, NOW), request_rows(rng, 500))
    store = Store(path)
    try:
        assert store.flush(10)  # the writer has opened the store (and claimed the backfill)
        deadline = time.monotonic() + 60  # only catches a hang
        while True:
            with closing(_schema.connect(str(path), readonly=True)) as conn:
                if not pending(conn):
                    break
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        store.close()
    with closing(_schema.connect(str(path), readonly=True)) as conn:
        assert actual(conn) == as_histograms(expected(conn, NOW))
        assert traffic_actual(conn) == traffic_expected(conn, NOW)
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'traffic'").fetchone()


def test_rows_written_while_the_backfill_runs_are_counted_once(tmp_path: Path) -> None:
    rng = random.Random(6)
    path = tmp_path / "events.db"
    old = random_records(rng, 3000, NOW)
    old_store(path, old, [])
    conn = _schema.connect(str(path))
    try:
        _schema.create(conn)  # claims the backfill
        alone = [r for r in old if r["trace_id"]]
        rng.shuffle(alone)
        steps = 0
        while backfill_step(conn, chunk=137):
            steps += 1
            # another writer's batch: new records, some of the traces of old ones (rolled up
            # already or not yet), the other side of the generation
            batch = [
                (backend if r["source"] == "browser" else browser)(rng, NOW - 60, r["trace_id"])
                for r in alone[steps * 5 : steps * 5 + 5]
            ]
            batch += random_records(rng, 20, NOW)
            insert(conn, "generation", batch)
        assert steps > 20
        assert actual(conn) == as_histograms(expected(conn, NOW))
    finally:
        conn.close()
