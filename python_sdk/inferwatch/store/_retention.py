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
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .. import _fork
from .._errors import ConfigError
from . import _schema

logger = logging.getLogger("inferwatch")
_CHUNK = 5000  # rows deleted a transaction, so ingest never waits long for the write lock
_SIDE_TABLES = ("generations", "usage", "requests", "browser_activity")


@dataclass(frozen=True, kw_only=True)
class Retention:
    """How much the store keeps.

    >>> Retention(max_events=100_000, max_events_per_issue=500, max_age_days=14)
    Retention(max_events=100000, max_events_per_issue=500, max_age_days=14)
    """

    max_events: int = 200_000
    max_events_per_issue: int = 1_000
    max_age_days: float = 30.0

    def __post_init__(self) -> None:
        for name in ("max_events", "max_events_per_issue", "max_age_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"inferwatch: retention {name} must be positive, got {value!r}")


def apply_retention(
    path: str | Path, policy: Retention, *, now: float | None = None
) -> dict[str, int]:
    """Delete what `policy` does not keep; returns the rows deleted by reason.

    `total` counts the events of deleted issues too; `issues` the issues deleted whole.

    >>> apply_retention(".inferwatch/events.db", Retention())  # doctest: +SKIP
    {'age': 0, 'per_issue': 12, 'total': 0, 'side_rows': 0, 'issues': 0}
    """
    cutoff = (time.time() if now is None else now) - policy.max_age_days * 86400
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
        _trim_counters(conn, cutoff, policy.max_events_per_issue)
    finally:
        conn.close()
    if any(deleted.values()):
        logger.info("inferwatch: retention deleted %s", deleted)
    return deleted


class Pruner:
    """Applies `policy` to the store at `path` at start and then every `every` seconds, from a
    daemon thread; a busy or broken store is logged and tried again, never raised.

    One process prunes: a forked child (a gunicorn `--preload` worker, a prefork pool's process)
    does not start a pruner of its own. The parent that made this one goes on pruning the same
    file for as long as its workers live (gunicorn's and Celery's masters, a multiprocessing
    parent), and every pruner would delete the same rows: `apply_retention` is safe from several
    processes at once (its own connection, short transactions), but N workers doing the same
    scan every ten minutes only compete with the writers for the lock.

    >>> pruner = Pruner(Path(".inferwatch/events.db"), Retention())  # doctest: +SKIP
    >>> pruner.close()                                               # doctest: +SKIP
    """

    def __init__(self, path: Path, policy: Retention, *, every: float = 600.0) -> None:
        self.path, self.policy, self.every = path, policy, every
        self._stop = threading.Event()
        self._pruning = threading.Lock()  # held for a run: a fork waits for it to end
        self._guarded = False
        self._thread = threading.Thread(target=self._run, name="inferwatch-retention", daemon=True)
        self._thread.start()
        _fork.register(
            before=self._before_fork,
            after_in_parent=self._after_fork_in_parent,
            after_in_child=self._after_fork,
        )

    def _before_fork(self) -> None:
        # A run's connection open at the fork would leave the child SQLite's record of its
        # locks (see `_fork`); runs are short, chunked transactions.
        self._guarded = self._pruning.acquire(timeout=_fork.WAIT_SECONDS)

    def _after_fork_in_parent(self) -> None:
        if self._guarded:
            self._guarded = False
            self._pruning.release()

    def _after_fork(self) -> None:
        # The parent's thread is not here, and its locks may be held for ever: `close` in the
        # child then stops nothing and waits for nothing.
        self._stop, self._pruning, self._guarded = threading.Event(), threading.Lock(), False

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._pruning:
                    apply_retention(self.path, self.policy)
            except sqlite3.OperationalError as exc:  # busy or locked: the writers go first
                logger.warning("inferwatch: retention put off (%s); will try again", exc)
            except Exception:
                logger.exception("inferwatch: retention failed; will try again")
            self._stop.wait(self.every)


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
    conn.execute("DELETE FROM traffic WHERE bucket < ?", (int(cutoff // 300),))
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
