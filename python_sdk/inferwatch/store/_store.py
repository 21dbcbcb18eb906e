"""The local store: a SQLite file written by one thread from a bounded queue.

Capturing never waits for the disk: `add` puts a row on the queue or counts it dropped. The
writer thread commits rows in batches (WAL), so a row is durable once its batch is committed.
Failures are counted by reason and logged once; nothing raises into the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _fork
from . import _schema
from ._insert import INSERTS, IssueChange

logger = logging.getLogger("inferwatch")

Row = tuple[str, dict[str, Any]]
"""A row to store: its kind (`event`, `generation`, `usage`, `request`, `activity`) and data."""


@dataclass
class _Batch:
    rows: list[Row]
    ok: bool = False
    # A thread's batch: what it waits on. A coroutine's: its future, settled on its loop with
    # the other futures of that loop at once.
    done: threading.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[bool] | None = None


class _BadRow(Exception):
    """A row of a batch written without savepoints failed: write the batch carefully."""


_STOP = object()
_LOCKED_TRIES = 3  # each waits SQLite's busy timeout (5 s) before the rows are given up
_POLL_SECONDS = 0.1  # how long a row may wait for the next batch when nothing wakes the writer
_EXIT_SECONDS = 5.0  # how long a forked child's exit waits for its rows


class Store:
    """Writes events, generation records, usage and requests to one SQLite file.

    Fork-safe: a forked child (a gunicorn `--preload` worker, a prefork pool's process) starts
    its own writer on its first row, with its own connection and an empty queue; the rows the
    parent queued before the fork are the parent's to write.

    >>> store = Store(tmp_path / "events.db")      # doctest: +SKIP
    >>> store.add("event", event); store.flush(5)  # doctest: +SKIP
    """

    def __init__(self, path: str | Path, *, queue_size: int = 10_000, batch_size: int = 500):
        self.path = Path(path)
        self.listeners: list[Callable[[IssueChange], None]] = []
        # A deque, not a queue.Queue: appending never takes a lock or wakes the writer, which
        # polls; on a busy request path that was most of the cost of recording a request.
        self._items: deque[Any] = deque()
        self._queue_size = queue_size
        self._batch_size = batch_size
        self._wake = threading.Event()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._logged: set[str] = set()
        self._conn: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None
        self._closed = False
        self._locked_tries = 0
        self._forked = False
        self._start_lock = threading.Lock()
        # Held by the writer while it uses the connection, and by a fork while it closes it.
        self._guard = threading.Lock()
        self._guarded = False
        self._thread: threading.Thread | None = None
        self._start_writer()
        _fork.register(
            before=self._before_fork,
            after_in_parent=self._after_fork_in_parent,
            after_in_child=self._after_fork,
        )

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def add(self, kind: str, data: dict[str, Any]) -> bool:
        """Queue one row without waiting; False (and counted) when it cannot be taken."""
        if self._closed:
            self._drop("closed", 1)
            return False
        if len(self._items) >= self._queue_size:
            self._drop("queue_full", 1)
            return False
        if self._thread is None:  # the first row of a forked child
            self._start_writer()
        self._items.append((kind, data))
        self._count("accepted")
        if kind == "event":
            self._wake_writer()  # errors are rare and people wait to see them
        return True

    def write(self, rows: Iterable[Row], timeout: float = 10.0) -> bool:
        """Store `rows` and wait until they are committed (the collector acknowledges after)."""
        done = threading.Event()
        batch = self._enqueue(_Batch(list(rows), done=done))
        return batch is not None and done.wait(timeout) and batch.ok

    async def write_async(self, rows: Iterable[Row], timeout: float = 10.0) -> bool:
        """`write` for a coroutine: the event loop serves other requests while the rows commit,
        and no worker thread waits for them."""
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[bool] = loop.create_future()
        if self._enqueue(_Batch(list(rows), loop=loop, future=committed)) is None:
            return False
        timer = loop.call_later(timeout, _settle, [(committed, False)])
        try:
            return await committed
        finally:
            timer.cancel()

    def _enqueue(self, batch: _Batch) -> _Batch | None:
        if self._closed or len(self._items) >= self._queue_size:
            self._drop("closed" if self._closed else "queue_full", len(batch.rows))
            return None
        if self._thread is None:
            self._start_writer()
        self._items.append(batch)
        self._wake_writer()
        self._count("accepted", len(batch.rows))
        return batch

    def _wake_writer(self) -> None:
        # Set only when clear: the writer clears it before it takes the queued items, so an
        # item queued while it is set is taken in that round. Setting it takes a lock.
        if not self._wake.is_set():
            self._wake.set()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the writer got through every row queued before this call (committed,
        or dropped and counted), or `timeout` passes; False on the timeout."""
        if self._thread is None or not self._thread.is_alive():
            return not self._items
        done = threading.Event()
        self._items.append(_Batch([], done=done))
        self._wake.set()
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Drain the queue, then stop the writer thread."""
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        if self._thread is None:  # a forked child that never wrote: nothing to stop
            return
        self._items.append(_STOP)
        self._wake.set()
        self._thread.join(timeout)

    def stats(self) -> dict[str, Any]:
        """Counts: accepted, stored, dropped by reason, and the queue depth."""
        with self._lock:
            counts = dict(self._counts)
        dropped = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("dropped:")}
        return {
            "accepted": counts.get("accepted", 0),
            "stored": counts.get("stored", 0),
            "dropped": dropped,
            "queue_depth": len(self._items),
        }

    # -- the writer thread, and starting over after a fork ------------------------------

    def _start_writer(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._run, name="inferwatch-store", daemon=True)
            try:
                thread.start()
            except RuntimeError as exc:  # the interpreter is shutting down: no new threads
                if "no_writer" not in self._logged:
                    self._logged.add("no_writer")
                    logger.warning("inferwatch: cannot start the store's writer: %s", exc)
                return
            self._thread = thread
        if self._forked:
            # gunicorn's workers end with sys.exit (atexit); multiprocessing's with os._exit.
            _fork.at_exit(self._drain_at_exit)

    def _drain_at_exit(self) -> None:
        self.flush(_EXIT_SECONDS)

    def _before_fork(self) -> None:
        """Wait for the batch being committed, then close the connection (the writer opens it
        again at its next batch), so that the child inherits no SQLite state of the file."""
        self._guarded = self._guard.acquire(timeout=_fork.WAIT_SECONDS)
        if self._guarded:
            self._close_connection()

    def _after_fork_in_parent(self) -> None:
        if self._guarded:
            self._guarded = False
            self._guard.release()

    def _after_fork(self) -> None:
        """In a forked child: its own queue, locks, counts and (on first use) connection and
        writer. A connection still open (the fork did not wait) is set aside, never closed."""
        _fork.set_aside(self._conn)
        self._conn, self._file = None, None
        self._items = deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._guard, self._guarded = threading.Lock(), False
        self._counts = Counter()
        self._logged = set()
        self._locked_tries = 0
        self._thread = None
        self._forked = True

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
            if len(self._items) < self._batch_size:
                self._wake.wait(_POLL_SECONDS)
            self._wake.clear()
            items: list[Any] = []
            while self._items and len(items) < self._batch_size:
                items.append(self._items.popleft())
            if not items:
                continue
            stop = any(item is _STOP for item in items)
            self._write_items([i for i in items if i is not _STOP])
            if stop:
                with self._guard:
                    self._close_connection()
                return

    def _write_items(self, items: list[Any]) -> None:
        batches = [i for i in items if isinstance(i, _Batch)]
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
                loop.call_soon_threadsafe(_settle, futures)

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
            self._drop(reason, len(rows), exc)
            return False
        except Exception as exc:  # the writer must outlive any batch, or every later row is lost
            self._close_connection()
            self._drop("write_error", len(rows), exc)
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
            stored += len(run)
        return stored, changes

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and _identity(self.path) != self._file:
            # Deleted or replaced under us: SQLite would go on writing into the unlinked file.
            self._close_connection()
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = _schema.connect(str(self.path))
            try:
                _schema.create(conn)
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

    def _drop(self, reason: str, n: int, exc: BaseException | None = None) -> None:
        self._count(f"dropped:{reason}", n)
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


def _settle(futures: list[tuple[asyncio.Future[bool], bool]]) -> None:
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
        ("full", "disk_full"),
        ("readonly", "readonly"),
        ("read-only", "readonly"),
        ("unable to open", "unwritable"),
        ("permission", "unwritable"),
    ):
        if needle in text:
            return reason
    return "write_error"
