"""Stored events rewritten after the fact (their frames resolved through source maps that came
later), and their issues grouped again with the one grouping function.

An issue takes the fingerprint of its newest rewritten event, so the next event of the same bug,
resolved when it arrives, joins it. When another issue already has that fingerprint (a resolved
twin that arrived meanwhile, or the same bug from another build), the two merge into the older:
its id, status and history stay; the younger's events, counts, hourly counts and affected
sessions move into it, and the younger issue is deleted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from .. import _json
from .._types import Event
from . import _grouping, _schema, _titles


def rewrite_events(path: str | Path, events: Iterable[tuple[int, Event]]) -> int:
    """Store the new JSON of events (by row id) and group their issues again, in one
    transaction; returns the events rewritten."""
    conn = _schema.connect(str(path))
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            newest: dict[int, Event] = {}
            n = 0
            for rowid, event in events:
                issue = conn.execute(
                    "SELECT issue_id FROM events WHERE id = ?", (rowid,)
                ).fetchone()
                if issue is None:  # deleted by retention meanwhile
                    continue
                conn.execute("UPDATE events SET data = ? WHERE id = ?", (_json.dumps(event), rowid))
                newest.setdefault(issue["issue_id"], event)  # events come newest first
                n += 1
            merged: dict[int, int] = {}  # an issue merged away -> the one it went into
            for issue_id, event in newest.items():
                while issue_id in merged:
                    issue_id = merged[issue_id]
                gone = regroup(conn, issue_id, event)
                if gone is not None:
                    merged[gone[0]] = gone[1]
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return n
    finally:
        conn.close()


def regroup(conn: sqlite3.Connection, issue_id: int, event: Event) -> tuple[int, int] | None:
    """Give issue `issue_id` the fingerprint and culprit of `event`, merging it with the issue
    that has that fingerprint already; returns (the issue merged away, the one it went into)."""
    fingerprint, culprit = _grouping.fingerprint(event), _titles.culprit(event)
    other = conn.execute("SELECT id FROM issues WHERE fingerprint = ?", (fingerprint,)).fetchone()
    if other is None or other["id"] == issue_id:
        conn.execute(
            "UPDATE issues SET fingerprint = ?, culprit = ? WHERE id = ?",
            (fingerprint, culprit, issue_id),
        )
        return None
    kept, gone = sorted((issue_id, int(other["id"])))
    merge(conn, kept, gone)
    conn.execute(
        "UPDATE issues SET fingerprint = ?, culprit = ? WHERE id = ?", (fingerprint, culprit, kept)
    )
    return gone, kept


def merge(conn: sqlite3.Connection, kept: int, gone: int) -> None:
    """Move everything of issue `gone` into issue `kept`, then delete `gone`."""
    conn.execute("UPDATE events SET issue_id = ? WHERE issue_id = ?", (kept, gone))
    conn.execute(
        "INSERT INTO issue_hours (issue_id, hour, count)"
        " SELECT ?, hour, count FROM issue_hours WHERE issue_id = ? AND true"
        " ON CONFLICT (issue_id, hour) DO UPDATE SET count = count + excluded.count",
        (kept, gone),
    )
    conn.execute(
        "INSERT OR IGNORE INTO issue_keys (issue_id, key, seen)"
        " SELECT ?, key, seen FROM issue_keys WHERE issue_id = ?",
        (kept, gone),
    )
    conn.execute(
        "INSERT OR REPLACE INTO issue_stats (issue_id, affected)"
        " SELECT ?, COUNT(*) FROM issue_keys WHERE issue_id = ?",
        (kept, kept),
    )
    conn.execute(
        "UPDATE issues SET count = issues.count + g.count, first_seen = min(issues.first_seen,"
        " g.first_seen), last_seen = max(issues.last_seen, g.last_seen),"
        " last_event_id = coalesce((SELECT event_id FROM events WHERE issue_id = issues.id"
        "   ORDER BY timestamp DESC, id DESC LIMIT 1), issues.last_event_id),"
        " environment = coalesce(g.environment, issues.environment),"
        " release = coalesce(g.release, issues.release)"
        " FROM (SELECT count, first_seen, last_seen, environment, release FROM issues"
        "   WHERE id = ?) AS g WHERE issues.id = ?",
        (gone, kept),
    )
    for table in ("issue_hours", "issue_keys", "issue_stats"):
        conn.execute(f"DELETE FROM {table} WHERE issue_id = ?", (gone,))
    conn.execute("DELETE FROM issues WHERE id = ?", (gone,))
