"""Connections to the store file, each closed by its one owner.

sqlite3's own `with conn:` ends the transaction and leaves the file open until the garbage
collector closes it, with a `ResourceWarning` on Python 3.13 and later. A store connection's
`with` block closes it: `with open_readonly(path) as conn:` reads and lets go.
"""

from __future__ import annotations

import sqlite3
from types import TracebackType
from typing import Literal


class Connection(sqlite3.Connection):
    """A store connection owned by its `with` block: leaving the block commits (or rolls
    back) as sqlite3's does, then closes the connection.

    >>> with connect(".inferwatch/events.db", readonly=True) as conn:  # doctest: +SKIP
    ...     conn.execute("SELECT count(*) FROM events").fetchone()
    """

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        try:
            super().__exit__(kind, value, traceback)
        finally:
            self.close()
        return False


def connect(
    path: str, *, readonly: bool = False, timeout: float = 5.0, shared: bool = False
) -> Connection:
    """A connection in WAL mode; `readonly` opens the file without creating it. Close it, or
    use it as a `with` block, which closes it.

    `shared`: usable from any thread, for an owner that serializes its use with a lock of its
    own. The store's writer needs it: a fork closes the writer's connection from the thread that
    forks, and sqlite3 refuses, by default, to close a connection from another thread than the
    one that opened it (the connection then stayed open in the child, see `_fork`)."""
    if readonly:
        uri = f"file:{path}?mode=ro"
        conn = sqlite3.connect(
            uri, uri=True, timeout=timeout, factory=Connection, check_same_thread=not shared
        )
    else:
        conn = sqlite3.connect(
            path,
            timeout=timeout,
            isolation_level=None,
            factory=Connection,
            check_same_thread=not shared,
        )
    try:
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.row_factory = sqlite3.Row
    except BaseException:
        conn.close()  # a file that is no database, or a read-only one: not left to the GC
        raise
    return conn
