"""The store's writer thread: it takes the queued rows in batches and commits each batch in one
transaction. A malformed row costs only itself, a locked file is tried again a few times, any
other failure drops the batch's rows and counts them by reason."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _backfill, _schema
from ._insert import IssueChange
from ._tables import INSERTS

logger = logging.getLogger("inferwatch")

Row = tuple[str, dict[str, Any]]
"""A row to store: its kind (`event`, `generation`, `usage`, `request`, `activity`,
`attachment`, `feedback`, `ingest`) and data."""


@dataclass
class Batch:
    rows: list[Row]
    ok: bool = False
    # A thread's batch: what it waits on. A coroutine's: its future, settled on its loop with
    # the other futures of that loop at once.
    done: threading.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[bool] | None = None


class _BadRow(Exception):
    """A row of a batch written without savepoints failed: write the batch carefully."""


STOP = object()
_LOCKED_TRIES = 3  # each waits SQLite's busy timeout (5 s) before the rows are given up
_POLL_SECONDS = 0.1  # how long a row may wait for the next batch when nothing wakes the writer


class Writer:
    """The writer thread's half of `Store`: its loop, its commits, its connection and counts.

    The state is the store's: `Store.__init__` sets it, and sets it again in a forked child.
    """

    path: Path
    listeners: list[Callable[[IssueChange], None]]
    _items: deque[Any]
    _batch_size: int
    _wake: threading.Event
    _counts: Counter[str]
    _lock: threading.Lock
    _logged: set[str]
    _conn: sqlite3.Connection | None
    _file: tuple[int, int] | None
    _locked_tries: int
    _guard: threading.Lock
    _backfilling: bool
    _refused: int
    _last_error: dict[str, Any] | None

    def _run(self) -> None:
        try:
            with self._guard:
                self._connection()  # create the file and schema now, so readers find it
        except (sqlite3.Error, OSError) as exc:
            self._logged.add("open")
            logger.warning("inferwatch: cannot open the store %s yet: %s", self.path, exc)
        while True:
            # Rows nobody waits for (requests, generations) gather for one batch a poll; only
            # a full batch, an event or a waiting caller starts the next one sooner. Taking
            # what came in during the last commit at once had the writer commit every few
            # rows under steady traffic, at five times the CPU a row, competing with the app.
            if len(self._items) < self._batch_size and not self._backfilling:
                self._wake.wait(_POLL_SECONDS)
            self._wake.clear()
            items: list[Any] = []
            while self._items and len(items) < self._batch_size:
                items.append(self._items.popleft())
            if self._backfilling:
                self._backfill_chunk()  # between batches: one chunk, so rows never wait long
            if not items:
                continue
            stop = any(item is STOP for item in items)
            self._write_items([i for i in items if i is not STOP])
            if stop:
                with self._guard:
                    self._close_connection()
                return

    def _write_items(self, items: list[Any]) -> None:
        batches = [i for i in items if isinstance(i, Batch)]
        rows = [i for i in items if isinstance(i, tuple)]
        for batch in batches:
            rows.extend(batch.rows)
        with self._guard:
            ok = self._commit(rows) if rows else True
        if ok is None:  # locked by someone else for longer than the busy timeout: try again
            self._items.extendleft(reversed(items))
            self._wake.wait(_POLL_SECONDS)
            return
        waiting: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool]]] = {}
        for batch in batches:
            batch.ok = ok
            if batch.done is not None:
                batch.done.set()
            if batch.loop is not None and batch.future is not None:
                waiting.setdefault(batch.loop, []).append((batch.future, ok))
        for loop, futures in waiting.items():  # one wake-up a loop, however many batches
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(settle, futures)

    def _commit(self, rows: list[Row]) -> bool | None:
        """Write `rows` in one transaction: True, False (dropped and counted), or None when the
        file stayed locked and the rows should be tried again (a few times, then dropped)."""
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                try:
                    stored, changes = self._insert_all(conn, rows, careful=False)
                except _BadRow:
                    # A row failed half-way: undo the batch, then write it row by row, each in
                    # a savepoint of its own, so that the bad row costs only itself. Batches
                    # seldom hold one, and two statements a row saved are a tenth of a row's cost.
                    conn.execute("ROLLBACK")
                    conn.execute("BEGIN IMMEDIATE")
                    stored, changes = self._insert_all(conn, rows, careful=True)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite has already rolled back after SQLITE_FULL
                    conn.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError) as exc:
            self._close_connection()
            reason = _reason(exc)
            if reason == "locked" and self._locked_tries < _LOCKED_TRIES:
                self._locked_tries += 1
                return None
            self._locked_tries = 0
            self._fail(reason, len(rows), exc)
            return False
        except Exception as exc:  # the writer must outlive any batch, or every later row is lost
            self._close_connection()
            self._fail("write_error", len(rows), exc)
            return False
        self._locked_tries = 0
        self._count("stored", stored)
        self._notify(changes)
        return True

    def _insert_all(
        self, conn: sqlite3.Connection, rows: list[Row], *, careful: bool
    ) -> tuple[int, list[IssueChange]]:
        """Insert `rows`: kind by kind, or (`careful`) row by row, each in a savepoint
        so that a row that fails half-way leaves nothing behind and costs only itself."""
        changes: list[IssueChange] = []
        stored = 0
        runs = [[row] for row in rows] if careful else _by_kind(rows)
        for run in runs:
            kind = run[0][0]
            if careful:
                conn.execute("SAVEPOINT row")
            try:
                insert = INSERTS.get(kind)
                if insert is None:
                    raise ValueError(f"unknown row kind {kind!r}")
                changes += insert(conn, [data for _, data in run])
            except sqlite3.OperationalError:
                raise  # the file, not a row (locked, full, read-only): the batch fails
            except Exception as exc:  # a malformed row costs itself, never its batch or the writer
                if not careful:
                    raise _BadRow from exc
                conn.execute("ROLLBACK TO row")
                conn.execute("RELEASE row")
                self._drop("invalid", 1, exc)
                continue
            if careful:
                conn.execute("RELEASE row")
            if kind != "ingest":  # the collector's own counts are not rows anyone sent
                stored += len(run)
        return stored, changes

    def _backfill_chunk(self) -> None:
        """Roll up one chunk of the rows written before the rollups (see `_backfill`)."""
        with self._guard:
            try:
                self._backfilling = _backfill.backfill_step(self._connection())
                return
            except (sqlite3.Error, OSError) as exc:  # busy, or the file went away: next round
                self._close_connection()
                if "backfill" not in self._logged:
                    self._logged.add("backfill")
                    logger.warning("inferwatch: rollups of %s put off: %s", self.path, exc)
            except Exception:  # a bug must not spin the writer: the pages count new rows only
                self._backfilling = False
                logger.exception("inferwatch: could not roll up the rows of %s", self.path)
        self._wake.wait(_POLL_SECONDS)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and _identity(self.path) != self._file:
            # Deleted or replaced under us: SQLite would go on writing into the unlinked file.
            self._close_connection()
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = _schema.connect(str(self.path), shared=True)  # closed by a fork, see there
            try:
                _schema.create(conn)
                self._backfilling = _backfill.pending(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            self._file = _identity(self.path)
        return self._conn

    def _close_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _notify(self, changes: list[IssueChange]) -> None:
        for change in changes:
            for listener in list(self.listeners):
                try:
                    listener(change)
                except Exception:
                    logger.exception("inferwatch: an issue listener failed")

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def _fail(self, reason: str, n: int, exc: BaseException) -> None:
        """A batch the file refused (not one bad row): `inferwatch.flush` reports False."""
        with self._lock:
            self._refused += 1
        self._drop(reason, n, exc)

    def _drop(self, reason: str, n: int, exc: BaseException | None = None) -> None:
        self._count(f"dropped:{reason}", n)
        self._last_error = {
            "reason": reason,
            "message": str(exc) if exc is not None else None,
            "timestamp": time.time(),
        }
        if reason not in self._logged:
            self._logged.add(reason)
            logger.warning("inferwatch: store %s is dropping rows (%s): %s", self.path, reason, exc)


def _by_kind(rows: list[Row]) -> list[list[Row]]:
    """`rows` grouped by kind, each group in order (kinds go to tables of their own, so the
    order between kinds does not matter, and a request row between two events costs nothing)."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    return list(groups.values())


def settle(futures: list[tuple[asyncio.Future[bool], bool]]) -> None:
    for future, ok in futures:
        if not future.done():
            future.set_result(ok)


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file `path` names now (device and inode), or None when there is none."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _reason(exc: BaseException) -> str:
    text = str(exc).lower()
    for needle, reason in (
        ("locked", "locked"),
        ("busy", "locked"),
        # Another connection (most likely the retention thread) created a new store's schema
        # as the batch went in: a fresh connection writes it, as after a lock.
        ("schema has changed", "locked"),
        ("full", "disk_full"),
        ("readonly", "readonly"),
        ("read-only", "readonly"),
        ("unable to open", "unwritable"),
        ("permission", "unwritable"),
        ("not a directory", "unwritable"),  # a file where the store's folder should be
        ("file exists", "unwritable"),
        ("no such file", "unwritable"),  # a folder that cannot be made (in /proc, say)
    ):
        if needle in text:
            return reason
    return "write_error"
