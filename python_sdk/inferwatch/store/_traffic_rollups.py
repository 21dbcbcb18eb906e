"""The Usage page's rollups: requests per route (with their latency histogram) and
`log_usage` calls per endpoint, per period.

>>> add_requests(conn, first_id=88)  # in the writer's transaction, after the INSERT  # doctest: +SKIP
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ._rollup_tables import TRAFFIC, Deltas, apply, number


def add_requests(conn: sqlite3.Connection, first_id: int) -> None:
    """Roll up the request rows from `first_id` on (a batch just inserted)."""
    requests_range(conn, first_id, None)


def requests_range(conn: sqlite3.Connection, low: int, high: int | None) -> None:
    """Roll up the request rows with ids from `low` up to `high` (excluded; None: the last)."""
    deltas = Deltas()
    for ts, method, route, status, duration_ms in _rows(
        conn, "timestamp, method, route, status, duration_ms", "requests", low, high
    ):
        ms = number(duration_ms)
        delta = deltas.at(ts, "request", f"{method} {route}")
        delta.counts["n"] += 1
        delta.counts["errors"] += (number(status) or 0) >= 500
        if ms is not None:
            delta.counts["total_ms"] += ms
            delta.value("duration", ms)
    apply(conn, TRAFFIC, deltas)


def add_usage(conn: sqlite3.Connection, first_id: int) -> None:
    """Roll up the `log_usage` rows from `first_id` on (a batch just inserted)."""
    usage_range(conn, first_id, None)


def usage_range(conn: sqlite3.Connection, low: int, high: int | None) -> None:
    deltas = Deltas()
    for ts, endpoint in _rows(conn, "timestamp, endpoint", "usage", low, high):
        deltas.at(ts, "usage", endpoint).counts["n"] += 1
    apply(conn, TRAFFIC, deltas)


def _rows(
    conn: sqlite3.Connection, columns: str, table: str, low: int, high: int | None
) -> list[Any]:
    if high is None:
        return conn.execute(f"SELECT {columns} FROM {table} WHERE id >= ?", (low,)).fetchall()
    sql = f"SELECT {columns} FROM {table} WHERE id >= ? AND id < ?"
    return conn.execute(sql, (low, high)).fetchall()
