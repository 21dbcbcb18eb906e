"""Creating the rollup tables, and filling them from the rows a store held before they existed.

Whoever creates the tables (the first process to open the store with this version) notes, in
the same transaction, where each source table's rows end: the rows below are the backfill's, the
rows after are rolled up as they are written. The store's writer thread then rolls the old rows
up a chunk a transaction (`CHUNK` rows, the newest first), between its batches, so that writing
never waits long; several processes writing to one store share the work, each chunk claimed in
its own transaction. Until it is done, the pages count only the rows it has reached.

>>> create(conn)                    # in `_schema.create`, on every open  # doctest: +SKIP
>>> while backfill_step(conn): ...  # the writer's loop, a chunk an iteration  # doctest: +SKIP
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from . import _generation_rollups, _traffic_rollups
from ._rollup_tables import BACKFILL_STATE, GENERATIONS, TRAFFIC, RollupTable, exists

CHUNK = 20_000
_SOURCES: dict[str, tuple[RollupTable, Callable[[sqlite3.Connection, int, int], None]]] = {
    "generations": (GENERATIONS, _generation_rollups.add_range),
    "requests": (TRAFFIC, _traffic_rollups.requests_range),
    "usage": (TRAFFIC, _traffic_rollups.usage_range),
}


def create(conn: sqlite3.Connection) -> None:
    """Create the rollup tables that are missing, and claim the backfill of their sources."""
    names = ["rollup_backfill", GENERATIONS.name, TRAFFIC.name]
    if exists(conn, names):
        return
    conn.execute("BEGIN IMMEDIATE")  # of two processes opening the store, one creates them
    try:
        conn.execute(BACKFILL_STATE)
        for table in (GENERATIONS, TRAFFIC):
            if exists(conn, [table.name]):
                continue
            for ddl in table.ddl():
                conn.execute(ddl)
            for source in (s for s, (t, _) in _SOURCES.items() if t is table):
                conn.execute(
                    f"INSERT OR REPLACE INTO rollup_backfill (source, below)"
                    f" SELECT ?, max(id) + 1 FROM {source} HAVING max(id) IS NOT NULL",
                    (source,),
                )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def pending(conn: sqlite3.Connection) -> bool:
    """Whether rows written before the rollups are still to be rolled up."""
    return conn.execute("SELECT 1 FROM rollup_backfill LIMIT 1").fetchone() is not None


def backfill_step(conn: sqlite3.Connection, chunk: int = CHUNK) -> bool:
    """Roll up one chunk of old rows, in one transaction; False once nothing is left."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT source, below FROM rollup_backfill LIMIT 1").fetchone()
        if row is not None:
            _step(conn, str(row[0]), int(row[1]), chunk)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return row is not None


def _step(conn: sqlite3.Connection, source: str, below: int, chunk: int) -> None:
    if source not in _SOURCES:  # written by a later version: not ours to fill
        conn.execute("DELETE FROM rollup_backfill WHERE source = ?", (source,))
        return
    edge = conn.execute(
        f"SELECT id FROM {source} WHERE id < ? ORDER BY id DESC LIMIT 1 OFFSET ?",
        (below, chunk - 1),
    ).fetchone()
    low = int(edge[0]) if edge else 0
    _SOURCES[source][1](conn, low, below)
    if edge is None:
        conn.execute("DELETE FROM rollup_backfill WHERE source = ?", (source,))
    else:
        conn.execute("UPDATE rollup_backfill SET below = ? WHERE source = ?", (low, source))


def backfill(conn: sqlite3.Connection) -> None:
    """Do the whole backfill now (for `inferwatch prune`, tests and benchmarks)."""
    while backfill_step(conn):
        pass
