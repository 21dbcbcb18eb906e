"""Retention: the store stays bounded by age and by per-issue and total caps; issues are kept
while one event each fits the total cap, and go whole, least recent first, when it does not."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from inferwatch import ConfigError
from inferwatch.cli import main
from inferwatch.store import Store
from inferwatch.store._pruner import Pruner
from inferwatch.store._retention import Retention, apply_retention

from tests.conftest import rows

NOW = 1_780_000_000.0  # in the past: the store takes a time far ahead as arrival time


def event(issue: str, ts: float) -> dict[str, object]:
    return {"event_id": uuid.uuid4().hex, "timestamp": ts, "message": issue, "fingerprint": [issue]}


def seed(path: Path, events: list[dict[str, object]], **side: list[dict[str, object]]) -> None:
    store = Store(path)
    try:
        batch = [("event", e) for e in events]
        for kind, items in side.items():
            batch += [(kind, item) for item in items]
        assert store.write(batch)
    finally:
        store.close()


def stored(path: Path) -> dict[str, int]:
    found = rows(
        path,
        "SELECT i.title, COUNT(e.id) AS n FROM issues i LEFT JOIN events e ON e.issue_id = i.id"
        " GROUP BY i.id",
    )
    return {r["title"]: r["n"] for r in found}


def test_events_older_than_the_maximum_age_go_and_their_issues_stay(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    old, new = NOW - 40 * 86400, NOW - 3600
    seed(
        path,
        [event("old", old), event("mixed", old), event("mixed", new)],
        generation=[{"timestamp": old, "source": "backend", "model": "m", "status": "ok"}],
        usage=[{"timestamp": old, "endpoint": "/x"}, {"timestamp": new, "endpoint": "/x"}],
    )
    deleted = apply_retention(path, Retention(max_age_days=30), now=NOW)
    assert deleted["age"] == 2 and deleted["side_rows"] == 2
    assert stored(path) == {"old": 0, "mixed": 1}
    assert [r["count"] for r in rows(path, "SELECT count FROM issues ORDER BY id")] == [1, 2]
    assert rows(path, "SELECT COUNT(*) AS n FROM generations")[0]["n"] == 0
    assert rows(path, "SELECT COUNT(*) AS n FROM generation_rollups")[0]["n"] == 0
    kept = rows(path, "SELECT span, n FROM traffic_rollups ORDER BY span")
    # the new usage row, in the hour and six hours that hold it (the minute and five-minute
    # rollups keep only the last hours, and NOW is long past)
    assert kept == [{"span": s, "n": 1} for s in (3600, 21600)]


def test_a_busy_issue_keeps_only_its_newest_events(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    seed(path, [event("busy", NOW - i) for i in range(30)] + [event("quiet", NOW)])
    apply_retention(path, Retention(max_events_per_issue=10), now=NOW)
    assert stored(path) == {"busy": 10, "quiet": 1}
    newest = rows(path, "SELECT MIN(timestamp) AS t FROM events WHERE data LIKE '%busy%'")
    assert newest[0]["t"] == NOW - 9


def test_a_very_busy_issue_is_trimmed_in_chunks_to_its_newest_events(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    same_second = [event("busy", NOW) for _ in range(3)]  # ties are broken by row id
    seed(path, [event("busy", NOW - 1 - i) for i in range(12_000)] + same_second)
    deleted = apply_retention(path, Retention(max_events_per_issue=4), now=NOW)
    assert deleted["per_issue"] == 12_000 - 1 and stored(path) == {"busy": 4}
    assert [r["timestamp"] for r in rows(path, "SELECT timestamp FROM events")] == [
        NOW - 1,
        NOW,
        NOW,
        NOW,
    ]


def test_over_the_total_cap_busy_issues_lose_their_oldest_events_first(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    events = [event("flood", NOW - i) for i in range(50)]
    events += [event("steady", NOW - i) for i in range(8)] + [event("rare", NOW - 99)]
    seed(path, events)
    deleted = apply_retention(path, Retention(max_events=20), now=NOW)
    assert deleted["total"] == 39
    counts = stored(path)
    assert counts["rare"] == 1 and counts["steady"] == 8 and counts["flood"] == 11
    assert sum(counts.values()) == 20


def test_retention_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="max_events"):
        Retention(max_events=0)


def test_the_dashboard_counters_are_bounded_and_their_totals_kept(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    now = time.time()
    events = [{**event("busy", now - i), "tags": {"request_id": f"req-{i}"}} for i in range(5)]
    seed(path, events)
    apply_retention(path, Retention(max_events_per_issue=2))
    assert rows(path, "SELECT SUM(count) AS n FROM issue_hours")[0]["n"] == 5
    assert rows(path, "SELECT affected FROM issue_stats")[0]["affected"] == 5
    keys = rows(path, "SELECT key FROM issue_keys ORDER BY seen DESC")
    assert [k["key"] for k in keys] == ["req-0", "req-1"]


def test_a_pruner_on_a_locked_store_waits_its_turn_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.db"
    seed(path, [event("old", NOW - 90 * 86400)])
    locker = sqlite3.connect(path, isolation_level=None, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")  # longer than the pruner's busy timeout
    with caplog.at_level(logging.WARNING, logger="inferwatch"):
        pruner = Pruner(path, Retention(), every=0.2)
        time.sleep(6)
        locker.execute("ROLLBACK")
        time.sleep(1)
        pruner.close()
    locker.close()
    put_off = [r for r in caplog.records if "retention put off" in r.getMessage()]
    assert put_off and all(r.levelno == logging.WARNING and not r.exc_info for r in put_off)
    assert stored(path) == {"old": 0}  # done once the lock was gone


def test_single_event_issues_past_the_cap_go_whole_the_least_recent_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, now = tmp_path / "events.db", time.time()
    events = [
        {**event(f"flood-{i}", now - 3000 + i), "tags": {"session_id": f"s{i}"}}
        for i in range(3000)
    ]
    seed(path, events)
    assert main(["prune", "--store", str(path), "--max-events", "1000", "--json"]) == 0
    deleted = json.loads(capsys.readouterr().out)
    assert deleted["issues"] == 2000 and deleted["total"] == 2000
    assert rows(path, "SELECT count(*) AS n FROM events") == [{"n": 1000}]
    kept = rows(path, "SELECT title FROM issues ORDER BY last_seen")
    assert [r["title"] for r in kept] == [f"flood-{i}" for i in range(2000, 3000)]
    for table in ("issue_hours", "issue_keys", "issue_stats"):  # no counters of deleted issues
        orphans = rows(
            path, f"SELECT count(*) AS n FROM {table} WHERE issue_id NOT IN (SELECT id FROM issues)"
        )
        assert orphans == [{"n": 0}], table


def test_whole_issues_go_only_when_one_event_each_is_past_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    events = [event("busy", NOW - i) for i in range(20)]
    events += [event(f"rare-{i}", NOW - 100 - i) for i in range(4)]
    seed(path, events)
    deleted = apply_retention(path, Retention(max_events=6), now=NOW)
    assert deleted["issues"] == 0
    assert stored(path) == {"busy": 2, **{f"rare-{i}": 1 for i in range(4)}}
    deleted = apply_retention(path, Retention(max_events=3), now=NOW)
    assert deleted["issues"] == 2  # the two least recent; the rest keep one event each
    assert stored(path) == {"busy": 1, "rare-0": 1, "rare-1": 1}


def test_attachments_go_with_their_event_by_age_and_past_their_total(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    old, new = NOW - 40 * 86400, NOW - 7200
    kept, gone = event("kept", new), event("gone", new)

    def attachment(of: dict[str, object], ts: float, size: int, name: str) -> dict[str, object]:
        data = b"x" * size
        return {
            "timestamp": ts,
            "event_id": of["event_id"],
            "name": name,
            "size": size,
            "data": data,
        }

    seed(
        path,
        [kept],
        attachment=[
            attachment(kept, new, 10, "newest.txt"),
            attachment(kept, new - 60, 10, "older.txt"),
            attachment(kept, old, 10, "too-old.txt"),
            attachment(gone, new, 10, "orphan.txt"),  # its event was never stored
        ],
        feedback=[
            {"timestamp": old, "feedback_id": "f1", "message": "old", "source": "user_report"},
            {"timestamp": new, "feedback_id": "f2", "message": "new", "source": "user_report"},
        ],
    )
    deleted = apply_retention(path, Retention(max_age_days=30, max_attachment_bytes=15), now=NOW)
    assert deleted["attachments"] == 3  # too old, orphaned, and the oldest past 15 bytes
    assert [r["name"] for r in rows(path, "SELECT name FROM attachments")] == ["newest.txt"]
    assert [r["message"] for r in rows(path, "SELECT message FROM feedback")] == ["new"]
