"""The store: batched writes, issue rows, counted failures, durability across processes."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import inferwatch
import pytest
from fastapi import FastAPI
from inferwatch.store import Store, list_issues, open_readonly

from tests.conftest import asgi_client, rows


def event(value: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": extra.pop("timestamp", "2026-11-20T10:00:00Z"),
        "platform": "python",
        "exception": {"values": [{"type": "ValueError", "value": value}]},
        **extra,
    }


def test_events_become_issues_with_counts_and_first_and_last_seen(store_path: Path) -> None:
    store = Store(store_path)
    store.add("event", event("user 1 missing", timestamp="2026-11-20T10:00:00Z"))
    store.add("event", event("user 2 missing", timestamp="2026-11-20T11:00:00Z"))
    store.add("event", event("disk full"))
    store.close()
    with open_readonly(store_path) as conn:
        issues = {i["title"]: i for i in list_issues(conn)}
    first = issues["ValueError: user 1 missing"]
    assert first["count"] == 2 and first["status"] == "unresolved"
    assert (first["first_seen"], first["last_seen"]) == (
        "2026-11-20T10:00:00.000Z",
        "2026-11-20T11:00:00.000Z",
    )
    assert issues["ValueError: disk full"]["count"] == 1


def test_a_resolved_issue_that_recurs_reopens_as_a_regression(store_path: Path) -> None:
    store = Store(store_path)
    store.add("event", event("boom"))
    store.flush()
    with closing(sqlite3.connect(store_path)) as conn, conn:  # closed, and committed first
        conn.execute("UPDATE issues SET status = 'resolved'")
    changes: list[str] = []
    store.listeners.append(lambda change: changes.append(change.kind))
    store.add("event", event("boom"))
    store.close()
    [issue] = rows(store_path, "SELECT status, regressed, count FROM issues")
    assert issue == {"status": "unresolved", "regressed": 1, "count": 2}
    assert changes == ["regression"]


def test_the_same_event_delivered_twice_is_stored_once(store_path: Path) -> None:
    store = Store(store_path)
    once = event("boom")
    assert store.write([("event", once), ("event", once)])
    store.close()
    assert rows(store_path, "SELECT count FROM issues") == [{"count": 1}]


def test_a_store_that_cannot_be_written_does_not_break_the_app(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store's folder should be")
    app = FastAPI()
    inferwatch.init(app, store=blocker / "events.db", environ={})

    @app.get("/")
    async def index() -> dict[str, str]:
        inferwatch.capture_exception(ValueError("while the disk is broken"))
        return {"ok": "yes"}

    import asyncio

    async def call() -> int:
        async with asgi_client(app) as client:
            return (await client.get("/")).status_code

    assert asyncio.run(call()) == 200
    inferwatch.flush(5)
    from inferwatch import _runtime

    runtime = _runtime.current()
    assert runtime is not None and runtime.store is not None
    assert sum(runtime.store.stats()["dropped"].values()) >= 1


def test_a_flood_past_the_queue_is_counted_as_dropped_and_the_rest_is_stored(
    store_path: Path,
) -> None:
    Store(store_path).close()  # create the file
    locker = sqlite3.connect(store_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # the writer thread now waits on the lock
    store = Store(store_path, queue_size=10)
    accepted = sum(store.add("event", event(f"n {i}")) for i in range(100))
    locker.execute("ROLLBACK")
    locker.close()
    assert store.flush(10)
    stats = store.stats()
    store.close()
    assert stats["dropped"]["queue_full"] == 100 - accepted > 0
    assert stats["stored"] == accepted
    assert rows(store_path, "SELECT count FROM issues") == [{"count": accepted}]


def test_a_store_locked_by_another_process_for_a_while_loses_nothing(store_path: Path) -> None:
    Store(store_path).close()
    locker = sqlite3.connect(store_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # e.g. retention, or someone's sqlite3 shell
    store = Store(store_path)
    store.add("event", event("while locked"))
    # the writer waits out SQLite's busy timeout once, keeps the rows, and tries again
    assert not store.flush(6)
    locker.execute("ROLLBACK")
    locker.close()
    store.add("event", event("after the lock"))
    assert store.flush(15)
    store.close()
    assert store.stats()["dropped"] == {}
    assert [r["title"] for r in rows(store_path, "SELECT title FROM issues ORDER BY id")] == [
        "ValueError: while locked",
        "ValueError: after the lock",
    ]


def test_after_flush_a_fresh_process_sees_every_accepted_event_even_after_kill_9(
    store_path: Path,
) -> None:
    child = textwrap.dedent(
        f"""
        import os, signal, inferwatch
        inferwatch.init(store={str(store_path)!r}, environ={{}})
        for i in range(200):
            try:
                raise ValueError(f"failure {{i}}")
            except ValueError as exc:
                inferwatch.capture_exception(exc)
        assert inferwatch.flush(10)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", child], env={**os.environ, "SENTRY_DSN": ""}, timeout=60, check=False
    )
    assert result.returncode == -9
    assert rows(store_path, "SELECT count(*) AS n FROM events") == [{"n": 200}]
    assert rows(store_path, "SELECT count FROM issues") == [{"count": 200}]


def test_a_process_that_exits_without_flushing_still_stores_what_it_captured(
    store_path: Path,
) -> None:
    child = textwrap.dedent(
        f"""
        import inferwatch
        inferwatch.init(store={str(store_path)!r}, environ={{}})
        for i in range(300):
            inferwatch.capture_exception(ValueError(f"failure {{i}}"))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", child], env={**os.environ, "SENTRY_DSN": ""}, timeout=60, check=False
    )
    assert result.returncode == 0
    assert rows(store_path, "SELECT count(*) AS n FROM events") == [{"n": 300}]


async def test_write_async_answers_once_the_rows_are_committed(store_path: Path) -> None:
    store = Store(store_path)
    events = [event(f"async {n}") for n in range(3)]
    assert await asyncio.gather(*(store.write_async([("event", e)]) for e in events)) == [True] * 3
    # committed when it answered: another connection sees every row
    assert len(rows(store_path, "SELECT event_id FROM events")) == 3
    store.close()
    assert not await store.write_async([("event", event("after close"))])
    assert store.stats()["dropped"] == {"closed": 1}


async def test_write_async_gives_up_waiting_on_a_locked_file_and_keeps_the_rows(
    store_path: Path,
) -> None:
    Store(store_path).close()
    locker = sqlite3.connect(store_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    store = Store(store_path)
    assert not await store.write_async([("event", event("while locked"))], timeout=0.3)
    locker.execute("ROLLBACK")
    locker.close()
    assert store.flush(15)  # accepted before the answer: still stored once the lock is gone
    store.close()
    assert [r["title"] for r in rows(store_path, "SELECT title FROM issues")] == [
        "ValueError: while locked"
    ]


async def test_requests_in_hand_at_once_share_a_commit(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A collector under load has several requests ready on its loop. Waking the writer at the
    # first one's rows had it commit nearly every event alone (1.07 events a commit in the
    # ingest bench), each commit writing the same index pages to the WAL again: a commit of one
    # 5 KB event cost 430 µs of CPU, one of four 74 µs an event.
    monkeypatch.setattr("inferwatch.store._writer._POLL_SECONDS", 60.0)
    store = Store(store_path)
    assert store.write([("event", event("opens the store"))])
    commit = store._commit
    committed: list[int] = []

    def counted(batch: list[Any]) -> bool | None:
        committed.append(len(batch))
        return commit(batch)

    store._commit = counted  # type: ignore[method-assign]

    async def request(n: int) -> bool:
        time.sleep(0.002)  # the request's own work, which lets the writer thread run
        return await store.write_async([("event", event(f"request {n}"))])

    assert await asyncio.gather(*(request(n) for n in range(8))) == [True] * 8
    assert committed == [8]
    store.close()


def test_rows_nobody_waits_for_gather_until_the_next_poll_or_event(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under steady traffic, request rows queued while a batch commits wait for the next poll
    # instead of making a batch of a few rows each: committing that often cost five times the
    # writer's CPU a row, taken from the app it shares the GIL with.
    monkeypatch.setattr("inferwatch.store._writer._POLL_SECONDS", 60.0)
    store = Store(store_path)
    commit = store._commit
    committed: list[int] = []

    def commit_while_a_request_comes_in(batch: list[Any]) -> bool | None:
        if not committed:
            store.add("request", {"method": "GET", "route": "/", "status": 200, "duration_ms": 1})
        committed.append(len(batch))
        return commit(batch)

    store._commit = commit_while_a_request_comes_in  # type: ignore[method-assign]
    store.add("event", event("wakes the writer"))
    deadline = time.monotonic() + 10
    while store.stats()["stored"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert committed == [1] and store.stats()["queue_depth"] == 1
    store.add("event", event("an error is written at once, with the rows that waited"))
    assert store.flush(10)
    assert committed == [1, 2]
    store.close()
    assert len(rows(store_path, "SELECT id FROM requests")) == 1


def test_a_row_that_fails_half_way_costs_only_itself(store_path: Path) -> None:
    store = Store(store_path)
    good = [event("before"), event("after")]
    # an issue row is written before the event's data fails to serialize: nothing of it may stay
    bad = event("half-way", extra={"cycle": []})
    bad["extra"]["cycle"].append(bad)
    assert store.write([("event", good[0]), ("event", bad), ("nonsense", {}), ("event", good[1])])
    store.close()
    assert store.stats()["dropped"] == {"invalid": 2}
    assert store.stats()["stored"] == 2
    titles = [r["title"] for r in rows(store_path, "SELECT title FROM issues ORDER BY id")]
    assert titles == ["ValueError: before", "ValueError: after"]
    assert len(rows(store_path, "SELECT id FROM events")) == 2


@pytest.mark.parametrize("careful", [False, True], ids=["one-batch", "row-by-row"])
def test_a_batch_with_many_events_of_few_issues_counts_each_event_once(
    store_path: Path, careful: bool
) -> None:
    store = Store(store_path)
    store.add("event", event("old", environment="prod"))
    store.flush()
    with closing(sqlite3.connect(store_path)) as conn, conn:  # closed, and committed first
        conn.execute("UPDATE issues SET status = 'resolved'")
    changes: list[tuple[str, str]] = []
    store.listeners.append(lambda c: changes.append((c.kind, c.title)))
    batch = [
        event("old", timestamp="2026-11-20T12:00:00Z", release="2"),
        event("new", timestamp="2026-11-20T10:00:00Z"),
        event("old", timestamp="2026-11-20T11:00:00Z", environment="staging"),
        event("new", timestamp="2026-11-20T13:00:00Z", environment="dev"),
        event("new", timestamp="2026-11-20T09:00:00Z"),
    ]
    batch.append(batch[1])  # delivered twice in one batch
    if careful:  # a bad row sends the whole batch down the row-by-row path
        batch.append(event("bad", extra={"cycle": (cycle := [])}))
        cycle.append(cycle)
    assert store.write([("event", e) for e in batch])
    store.close()
    assert changes == [
        ("regression", "ValueError: old"),
        ("new", "ValueError: new"),
        ("recurrence", "ValueError: old"),
        ("recurrence", "ValueError: new"),
        ("recurrence", "ValueError: new"),
    ]
    with open_readonly(store_path) as conn:
        issues = {i["title"]: i for i in list_issues(conn)}
    old, new = issues["ValueError: old"], issues["ValueError: new"]
    assert (old["count"], old["status"]) == (3, "unresolved")
    assert (old["environment"], old["release"]) == ("staging", "2")
    assert old["last_seen"] == "2026-11-20T12:00:00.000Z"
    assert (new["count"], new["environment"]) == (3, "dev")
    assert (new["first_seen"], new["last_seen"]) == (
        "2026-11-20T10:00:00.000Z",
        "2026-11-20T13:00:00.000Z",
    )
    assert rows(store_path, "SELECT last_event_id FROM issues ORDER BY id") == [
        {"last_event_id": batch[2]["event_id"]},
        {"last_event_id": batch[4]["event_id"]},
    ]
    assert len(rows(store_path, "SELECT id FROM events")) == 6
    assert rows(store_path, "SELECT sum(count) AS n FROM issue_hours") == [{"n": 6}]


def test_a_clock_far_ahead_is_stored_at_arrival_and_a_little_ahead_is_kept(
    store_path: Path,
) -> None:
    now = time.time()
    store = Store(store_path)
    ahead = [("event", event("slightly ahead", timestamp=now + 30))]
    ahead += [("event", event("years ahead", timestamp=now + 5 * 365 * 86400))]
    ahead += [("activity", {"timestamp": now + 86400, "type": "click", "session_id": "s"})]
    assert store.write(ahead)
    store.close()
    times = {
        r["title"]: r["last_seen"] for r in rows(store_path, "SELECT title, last_seen FROM issues")
    }
    assert times["ValueError: slightly ahead"] == pytest.approx(now + 30)
    assert now <= times["ValueError: years ahead"] <= time.time()
    [activity] = rows(store_path, "SELECT timestamp FROM browser_activity")
    assert now <= activity["timestamp"] <= time.time()
    # the event keeps the time its client sent, for whoever looks into the clock
    data = [json.loads(r["data"]) for r in rows(store_path, "SELECT data FROM events")]
    assert max(d["timestamp"] for d in data) == pytest.approx(now + 5 * 365 * 86400)


def test_a_batch_the_file_refuses_is_counted_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("where the store's folder should be")
    store = Store(tmp_path / "file" / "events.db")
    assert store.stats()["last_error"] is None
    store.add("event", event("lost"))
    assert store.flush(5)  # the writer got through it: it dropped the row
    assert store.take_refusals() == 1 and store.take_refusals() == 0
    stats = store.stats()
    store.close()
    assert stats["dropped"] == {"unwritable": 1} and stats["stored"] == 0
    assert stats["last_error"]["reason"] == "unwritable" and stats["last_error"]["message"]


def test_a_malformed_row_is_dropped_on_its_own_and_is_no_refusal(store_path: Path) -> None:
    store = Store(store_path)
    store.add("event", event("fine"))
    store.add("nonsense", {})
    assert store.flush(5)
    stats = store.stats()
    assert store.take_refusals() == 0
    store.close()
    assert stats["stored"] == 1 and stats["dropped"] == {"invalid": 1}
    assert stats["last_error"]["reason"] == "invalid"
