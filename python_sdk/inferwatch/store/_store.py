"""The local store: a SQLite file written by one thread from a bounded queue.

Capturing never waits for the disk: `add` puts a row on the queue or counts it dropped. The
writer thread commits rows in batches (WAL), so a row is durable once its batch is committed.
Failures are counted by reason and logged once; nothing raises into the app.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .. import _fork
from ._insert import IssueChange
from ._writer import STOP, Batch, Row, Writer, settle

logger = logging.getLogger("inferwatch")

_EXIT_SECONDS = 5.0  # how long a forked child's exit waits for its rows


class Store(Writer):
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
        self._backfilling = False
        self._refused = 0
        self._last_error: dict[str, Any] | None = None
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

    def add_counts(self, counts: Iterable[dict[str, Any]]) -> None:
        """Queue the collector's ingest counts (each `outcome`, `type`, `reason`, `n`,
        `timestamp`) without waiting; not rows anyone sent, so not counted as accepted, and
        dropped silently when the queue is full."""
        if self._closed or len(self._items) >= self._queue_size:
            return
        if self._thread is None:
            self._start_writer()
        self._items.extend(("ingest", row) for row in counts)

    def write(self, rows: Iterable[Row], timeout: float = 10.0) -> bool:
        """Store `rows` and wait until they are committed (the collector acknowledges after)."""
        done = threading.Event()
        batch = self._enqueue(Batch(list(rows), done=done))
        return batch is not None and done.wait(timeout) and batch.ok

    async def write_async(self, rows: Iterable[Row], timeout: float = 10.0) -> bool:
        """`write` for a coroutine: the event loop serves other requests while the rows commit,
        and no worker thread waits for them."""
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[bool] = loop.create_future()
        batch = Batch(list(rows), loop=loop, future=committed)
        if self._enqueue(batch, wake=False) is None:
            return False
        # The writer is woken once the loop has run what is ready now: the other requests
        # already in hand queue their rows first and share the commit (a commit of one 5 KB
        # event costs about what a commit of five does: the same index pages go to the WAL).
        loop.call_soon(self._wake_writer)
        timer = loop.call_later(timeout, settle, [(committed, False)])
        try:
            return await committed
        finally:
            timer.cancel()

    def _enqueue(self, batch: Batch, *, wake: bool = True) -> Batch | None:
        if self._closed or len(self._items) >= self._queue_size:
            self._drop("closed" if self._closed else "queue_full", len(batch.rows))
            return None
        if self._thread is None:
            self._start_writer()
        self._items.append(batch)
        if wake:
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
        or dropped and counted), or `timeout` passes; False on the timeout. Whether rows
        were dropped meanwhile: `take_refusals()`, and `stats()` for why."""
        if self._thread is None or not self._thread.is_alive():
            return not self._items
        done = threading.Event()
        self._items.append(Batch([], done=done))
        self._wake.set()
        return done.wait(timeout)

    def take_refusals(self) -> int:
        """How many batches the file refused since the last call (it could not be created or
        opened, was read-only or full, or stayed locked), and count again from 0. Their rows
        are dropped and counted by reason in `stats()`, whose `last_error` says why; a
        malformed row, which costs only itself, is no refusal."""
        with self._lock:
            refused, self._refused = self._refused, 0
        return refused

    def close(self, timeout: float = 5.0) -> None:
        """Drain the queue, then stop the writer thread."""
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        if self._thread is None:  # a forked child that never wrote: nothing to stop
            return
        self._items.append(STOP)
        self._wake.set()
        self._thread.join(timeout)

    def stats(self) -> dict[str, Any]:
        """Counts: accepted, stored, dropped by reason, the queue depth, and the last reason
        rows were dropped (`last_error`: reason, message, timestamp; None while none was)."""
        with self._lock:
            counts = dict(self._counts)
        dropped = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("dropped:")}
        return {
            "store": str(self.path),
            "accepted": counts.get("accepted", 0),
            "stored": counts.get("stored", 0),
            "dropped": dropped,
            "queue_depth": len(self._items),
            "last_error": self._last_error,
        }

    # -- starting the writer, and starting over after a fork ------------------------------

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
        self._backfilling = False
        self._refused = 0
        self._last_error = None
        self._thread = None
        self._forked = True
