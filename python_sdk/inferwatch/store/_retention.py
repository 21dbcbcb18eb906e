"""Retention: keep the store bounded by a maximum age and per-issue and total event caps.

Events, and old generation, usage, request and browser activity rows, are deleted; issues are
kept with their counts while the cap allows one event each. When the total cap is passed, the
busiest issues lose their oldest events first, so a flood of one error never pushes out the only
event of another. When even one event an issue is more than the cap (a flood of distinct
errors), whole issues go, the oldest last activity first: their events, counters and rows.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .._errors import ConfigError
from . import _rollup_tables, _schema

logger = logging.getLogger("inferwatch")
_CHUNK = 5000  # rows deleted a transaction, so ingest never waits long for the write lock
_SIDE_TABLES = ("generations", "usage", "requests", "browser_activity", "feedback")
_ORPHAN_GRACE = 3600.0  # an attachment may come before its event; an hour later it is an orphan


@dataclass(frozen=True, kw_only=True)
class Retention:
    """How much the store keeps.

    `max_attachment_bytes` bounds all the attachments together; the oldest go first.

    >>> Retention(max_events=100_000, max_events_per_issue=500, max_age_days=14)
    Retention(max_events=100000, max_events_per_issue=500, max_age_days=14, max_attachment_bytes=268435456)
    """

    max_events: int = 200_000
    max_events_per_issue: int = 1_000
    max_age_days: float = 30.0
    max_attachment_bytes: int = 256 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_events", "max_events_per_issue", "max_age_days", "max_attachment_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"inferwatch: retention {name} must be positive, got {value!r}")


def apply_retention(
    path: str | Path, policy: Retention, *, now: float | None = None
) -> dict[str, int]:
    """Delete what `policy` does not keep; returns the rows deleted by reason.

    `total` counts the events of deleted issues too; `issues` the issues deleted whole;
    `attachments` those deleted with their event, by age, or past `max_attachment_bytes`.

    >>> apply_retention(".inferwatch/events.db", Retention())  # doctest: +SKIP
    {'age': 0, 'per_issue': 12, 'total': 0, 'side_rows': 0, 'issues': 0, 'attachments': 0}
    """
    cutoff = now_or(now) - policy.max_age_days * 86400
    conn = _schema.connect(str(path))
    try:
        _schema.create(conn)
        deleted = {
            "age": _delete_old_events(conn, cutoff),
            "per_issue": _cap_each_issue(conn, policy.max_events_per_issue),
        }
        deleted["total"], issues = _cap_total(conn, policy.max_events)
        deleted["side_rows"] = _delete_old_side_rows(conn, cutoff)
        deleted["issues"] = issues
        deleted["attachments"] = _trim_attachments(
            conn, cutoff, now_or(now), policy.max_attachment_bytes
        )
        _trim_counters(conn, cutoff, policy.max_events_per_issue)
        _rollup_tables.trim(conn, cutoff, now_or(now))
    finally:
        conn.close()
    if any(deleted.values()):
        logger.info("inferwatch: retention deleted %s", deleted)
    return deleted


def _delete_in_chunks(conn: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> int:
    """Run a `DELETE ... WHERE id IN (SELECT id ... LIMIT ?)` until nothing is left."""
    total = 0
    while True:
        n = conn.execute(sql, (*args, _CHUNK)).rowcount
        total += n
        if n < _CHUNK:
            return total


def _delete_old_events(conn: sqlite3.Connection, cutoff: float) -> int:
    return _delete_in_chunks(
        conn,
        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE timestamp < ? LIMIT ?)",
        (cutoff,),
    )


def _stored_counts(conn: sqlite3.Connection) -> Counter[int]:
    return Counter(
        dict(conn.execute("SELECT issue_id, COUNT(*) FROM events GROUP BY issue_id").fetchall())
    )


def _drop_oldest(conn: sqlite3.Connection, issue_id: int, keep: int) -> int:
    """Delete the events of one issue but its newest `keep`, a chunk a transaction: one long
    delete would hold the write lock past the store writer's busy timeout."""
    edge = conn.execute(
        "SELECT timestamp, id FROM events WHERE issue_id = ?"
        " ORDER BY timestamp DESC, id DESC LIMIT 1 OFFSET ?",
        (issue_id, max(keep - 1, 0)),
    ).fetchone()
    if edge is None:
        return 0
    older = "timestamp < ? OR (timestamp = ? AND id < ?)" if keep else "timestamp <= ?"
    args = (issue_id, edge[0], edge[0], edge[1]) if keep else (issue_id, edge[0])
    return _delete_in_chunks(
        conn,
        f"DELETE FROM events WHERE id IN (SELECT id FROM events WHERE issue_id = ? AND ({older})"
        " LIMIT ?)",
        args,
    )


def _cap_each_issue(conn: sqlite3.Connection, cap: int) -> int:
    # `count` on the issue row is every event ever seen, an upper bound of what is stored.
    busy = [r[0] for r in conn.execute("SELECT id FROM issues WHERE count > ?", (cap,))]
    return sum(_drop_oldest(conn, issue_id, cap) for issue_id in busy)


def _cap_total(conn: sqlite3.Connection, cap: int) -> tuple[int, int]:
    """The events deleted to bring the total under `cap`, and the issues deleted whole."""
    counts = _stored_counts(conn)
    if sum(counts.values()) <= cap:
        return 0, 0
    deleted, issues = 0, 0
    if len(counts) > cap:  # even one event an issue is too many: the least recent issues go
        oldest = _least_recent(conn, set(counts), len(counts) - cap)
        for chunk in _chunks_of_events(oldest, counts):
            deleted += _delete_issues(conn, chunk)
        issues = len(oldest)
        for issue_id in oldest:
            del counts[issue_id]
    level = _water_level(sorted(counts.values(), reverse=True), cap)
    deleted += sum(_drop_oldest(conn, i, level) for i, n in counts.items() if n > level)
    return deleted, issues


def _least_recent(conn: sqlite3.Connection, with_events: set[int], n: int) -> list[int]:
    """The `n` issues of `with_events` whose last event is the oldest (ties: the oldest id)."""
    oldest: list[int] = []
    for (issue_id,) in conn.execute("SELECT id FROM issues ORDER BY last_seen, id"):
        if issue_id in with_events:
            oldest.append(issue_id)
            if len(oldest) == n:
                break
    return oldest


def _chunks_of_events(issue_ids: list[int], counts: Counter[int]) -> Iterator[list[int]]:
    """`issue_ids` in runs of about `_CHUNK` events (a run is one transaction)."""
    run: list[int] = []
    events = 0
    for issue_id in issue_ids:
        run.append(issue_id)
        events += counts[issue_id]
        if events >= _CHUNK:
            yield run
            run, events = [], 0
    if run:
        yield run


def _delete_issues(conn: sqlite3.Connection, issue_ids: list[int]) -> int:
    """Delete these issues, their events and counters in one transaction, so the store's writer
    never stores an event under an issue deleted half-way."""
    deleted = 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for start in range(0, len(issue_ids), 500):  # values a statement
            chunk = issue_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"DELETE FROM events WHERE issue_id IN ({marks})"
            deleted += conn.execute(sql, chunk).rowcount
            for table in ("issue_hours", "issue_keys", "issue_stats"):
                conn.execute(f"DELETE FROM {table} WHERE issue_id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM issues WHERE id IN ({marks})", chunk)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return deleted


def _water_level(sizes: list[int], cap: int) -> int:
    """The largest per-issue level L with sum(min(n, L)) <= cap (at least 1 event an issue).

    >>> _water_level([10, 5, 1], 10)
    4
    """
    low, high = 1, max(sizes)
    while low < high:
        mid = (low + high + 1) // 2
        if sum(min(n, mid) for n in sizes) <= cap:
            low = mid
        else:
            high = mid - 1
    return low


def _trim_counters(conn: sqlite3.Connection, cutoff: float, per_issue: int) -> None:
    """Bound the dashboard's counter tables the same way as the events they count."""
    conn.execute("DELETE FROM issue_hours WHERE hour < ?", (int(cutoff // 3600),))
    conn.execute("DELETE FROM ingest_counts WHERE hour < ?", (int(cutoff // 3600),))
    _delete_in_chunks(
        conn,
        "DELETE FROM issue_keys WHERE (issue_id, key) IN"
        " (SELECT issue_id, key FROM issue_keys WHERE seen < ? LIMIT ?)",
        (cutoff,),
    )
    busy = [r[0] for r in conn.execute("SELECT id FROM issues WHERE count > ?", (per_issue,))]
    for issue_id in busy:
        conn.execute(
            "DELETE FROM issue_keys WHERE issue_id = ? AND key IN (SELECT key FROM issue_keys"
            " WHERE issue_id = ? ORDER BY seen DESC LIMIT -1 OFFSET ?)",
            (issue_id, issue_id, per_issue),
        )


def _delete_old_side_rows(conn: sqlite3.Connection, cutoff: float) -> int:
    total = 0
    for table in _SIDE_TABLES:
        total += _delete_in_chunks(
            conn,
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE timestamp < ? LIMIT ?)",
            (cutoff,),
        )
    return total


def now_or(now: float | None) -> float:
    return time.time() if now is None else now


def _trim_attachments(conn: sqlite3.Connection, cutoff: float, now: float, cap: int) -> int:
    """Attachments older than `cutoff`, those whose event is gone, then the oldest past `cap`
    bytes in all."""
    deleted = _delete_in_chunks(
        conn,
        "DELETE FROM attachments WHERE id IN (SELECT a.id FROM attachments a"
        " LEFT JOIN events e ON e.event_id = a.event_id"
        " WHERE a.timestamp < ? OR (e.id IS NULL AND a.timestamp < ?) LIMIT ?)",
        (cutoff, now - _ORPHAN_GRACE),
    )
    total = conn.execute("SELECT coalesce(sum(size), 0) FROM attachments").fetchone()[0]
    while total > cap:
        oldest = conn.execute(
            "SELECT id, size FROM attachments ORDER BY timestamp, id LIMIT 100"
        ).fetchall()
        if not oldest:
            break
        over, ids = total - cap, []
        for row_id, size in oldest:
            if over <= 0:
                break
            ids.append(row_id)
            over -= size
            total -= size
        conn.execute(f"DELETE FROM attachments WHERE id IN ({','.join('?' * len(ids))})", ids)
        deleted += len(ids)
    return deleted
