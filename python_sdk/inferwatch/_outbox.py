"""The durable outbox: envelopes waiting for Sentry, in a SQLite file that survives `kill -9`.

Its own file (`outbox.db` beside the store) rather than a table in the store: rows are inserted
and deleted all day by the forwarder's threads, which would otherwise contend with the store's
writer for the one write lock and keep the store's WAL busy; and a user can delete the outbox
without touching the crash reports.

Rows are kept per target (a Sentry project's envelope URL, without the key), so several
forwarders, in one process or several, can share one file. A sender *claims* rows for the time of
one request, so two processes never send the same envelope at once, and a crashed sender's
claims expire.

>>> outbox = Outbox(tmp_path / "outbox.db")                  # doctest: +SKIP
>>> outbox.put("https://o1.ingest.sentry.io/api/1/envelope/", [(body, "error")])  # doctest: +SKIP
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import _fork

OUTBOX_FILE = "outbox.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    body BLOB NOT NULL,
    categories TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_until REAL NOT NULL DEFAULT 0
);
-- size is in the index so the bound is checked without reading the bodies
CREATE INDEX IF NOT EXISTS outbox_by_target ON outbox (target, id, size);
"""


@dataclass(frozen=True)
class Entry:
    """One envelope waiting to be sent."""

    id: int
    body: bytes
    categories: frozenset[str]
    attempts: int


class Outbox:
    """Envelopes per target, oldest first, bounded in count and bytes per target.

    Thread-safe: one connection behind a lock, and every call is one short transaction.
    Fork-safe: a forked child opens its own connection on first use (an outbox in memory
    starts empty there: what it held is the parent's to send).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        max_envelopes: int = 10_000,
        max_bytes: int = 100 * 1024 * 1024,
        timeout: float = 5.0,
    ) -> None:
        self.path = str(path)
        self.max_envelopes, self.max_bytes = max_envelopes, max_bytes
        self._timeout = timeout
        self._conn: sqlite3.Connection | None = self._open()
        self._lock = threading.Lock()
        self._guarded = False
        _fork.register(
            before=self._before_fork,
            after_in_parent=self._after_fork_in_parent,
            after_in_child=self._after_fork,
        )

    def __repr__(self) -> str:
        return f"Outbox({self.path!r})"

    def _open(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a commit survives the process being killed (not a power cut).
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def _db(self) -> sqlite3.Connection:
        """The connection, opened again in a forked child (callers hold `_lock`)."""
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _before_fork(self) -> None:
        # Every call is one transaction under the lock: once it is ours, none is in flight.
        # A file's connection is closed (opened again on next use), so that the child inherits
        # no SQLite state of the file (see `_fork`); one in memory has no file to share.
        self._guarded = self._lock.acquire(timeout=_fork.WAIT_SECONDS)
        if self._guarded and self.path != ":memory:" and self._conn is not None:
            self._conn.close()
            self._conn = None

    def _after_fork_in_parent(self) -> None:
        if self._guarded:
            self._guarded = False
            self._lock.release()

    def _after_fork(self) -> None:
        # In memory, what the outbox held is the parent's to send: the child's starts empty.
        _fork.set_aside(self._conn)
        self._conn = None
        self._lock, self._guarded = threading.Lock(), False

    def put(self, target: str, envelopes: Sequence[tuple[bytes, str]], now: float) -> int:
        """Store `(body, categories)` pairs; returns how many of the oldest were dropped to fit."""
        with self._lock, self._transaction():
            self._db.executemany(
                "INSERT INTO outbox (target, body, categories, size, created) VALUES (?,?,?,?,?)",
                [(target, body, cats, len(body), now) for body, cats in envelopes],
            )
            return self._evict(target)

    def claim(self, target: str, now: float, lease: float, limit: int = 20) -> list[Entry]:
        """The oldest unclaimed envelopes, claimed until `now + lease`."""
        with self._lock, self._transaction():
            rows = self._db.execute(
                "SELECT id, body, categories, attempts FROM outbox"
                " WHERE target = ? AND claimed_until <= ? ORDER BY id LIMIT ?",
                (target, now, limit),
            ).fetchall()
            self._db.executemany(
                "UPDATE outbox SET claimed_until = ? WHERE id = ?",
                [(now + lease, row[0]) for row in rows],
            )
        return [Entry(r[0], r[1], frozenset(filter(None, r[2].split(","))), r[3]) for r in rows]

    def delete(self, entry_id: int) -> None:
        """Forget an envelope: Sentry took it, or rejected it for good."""
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))

    def release(self, ids: Sequence[int], *, attempted: bool) -> None:
        """Give claimed envelopes back, to be sent later."""
        with self._lock, self._transaction():
            self._db.executemany(
                "UPDATE outbox SET claimed_until = 0, attempts = attempts + ? WHERE id = ?",
                [(int(attempted), i) for i in ids],
            )

    def pending(self, target: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM outbox WHERE target = ?", (target,)
            ).fetchone()
        return int(row[0])

    def next_claimable(self, target: str) -> float | None:
        """When the next envelope of `target` can be claimed (None: there is none)."""
        with self._lock:
            row = self._db.execute(
                "SELECT min(claimed_until) FROM outbox WHERE target = ?", (target,)
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:  # a forked child's, if it ever opened one
                self._conn.close()

    def _evict(self, target: str) -> int:
        count, size = self._db.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM outbox WHERE target = ?", (target,)
        ).fetchone()
        if count <= self.max_envelopes and size <= self.max_bytes:
            return 0
        last, dropped = None, 0
        # Oldest first, reading only as many index entries as must go.
        for entry_id, entry_size in self._db.execute(
            "SELECT id, size FROM outbox WHERE target = ? ORDER BY id", (target,)
        ):
            if count - dropped <= self.max_envelopes and size <= self.max_bytes:
                break
            last, dropped, size = entry_id, dropped + 1, size - entry_size
        if last is not None:
            self._db.execute("DELETE FROM outbox WHERE target = ? AND id <= ?", (target, last))
        return dropped

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """`BEGIN IMMEDIATE` ... `COMMIT`, or `ROLLBACK` on error (the connection is in autocommit)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
