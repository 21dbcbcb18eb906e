"""How each kind of row goes in: events through `_insert`, every other kind into its own table
with one multi-row INSERT a batch (see `_insert` for why).

Attachments and feedback sent again (a retry after a lost answer) are stored once; ingest counts
add up, one row per hour, outcome, item type and reason.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from typing import Any

from .. import _json
from ._generation_rollups import add_batch as add_generations
from ._insert import Inserter, IssueChange, event_values, insert_events, insert_rows
from ._timestamps import stored_timestamp
from ._traffic_rollups import add_requests, add_usage

_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "generation": (
        "generations",
        (
            "timestamp",
            "source",
            "model",
            "version",
            "status",
            "duration_ms",
            "first_chunk_ms",
            "input_tokens",
            "output_tokens",
            "error_type",
            "request_id",
            "trace_id",
            "session_id",
        ),
    ),
    "usage": ("usage", ("timestamp", "endpoint", "request_id", "data")),
    "request": (
        "requests",
        ("timestamp", "method", "route", "status", "duration_ms", "request_id"),
    ),
    "activity": ("browser_activity", ("timestamp", "type", "session_id", "url", "data")),
    "attachment": (
        "attachments",
        ("timestamp", "event_id", "name", "content_type", "attachment_type", "size", "data"),
    ),
    "feedback": (
        "feedback",
        (
            "timestamp",
            "feedback_id",
            "event_id",
            "name",
            "email",
            "message",
            "url",
            "source",
            "data",
        ),
    ),
}
_ONCE = frozenset(["attachment", "feedback"])  # a unique index says what "again" means
# Rolled up as they are written, from the ids the batch's rows were given on
_ROLLUPS: dict[str, Callable[[sqlite3.Connection, int], None]] = {
    "generation": add_generations,
    "request": add_requests,
    "usage": add_usage,
}
COUNT_KEYS = ("outcome", "type", "reason")


def column_values(kind: str, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The values the writer binds for one row of `kind`, by table and column (for an event,
    its issue's too, but not its JSON, which is always text): what `unstorable` checks."""
    if kind == "event":
        return event_values(data)
    if kind == "ingest":
        return {"ingest_counts": {k: str(data.get(k) or "") for k in COUNT_KEYS}}
    if kind not in _TABLES:
        raise ValueError(f"unknown row kind {kind!r}")
    table, names = _TABLES[kind]
    return {table: dict(zip(names, _values(names, data), strict=True))}


def _values(names: tuple[str, ...], data: dict[str, Any]) -> list[Any]:
    # isinstance with a tuple, not a union: a request row a request, on the writer thread
    out = [_json.dumps(v) if isinstance(v, (dict, list)) else v for v in map(data.get, names)]
    out[0] = stored_timestamp(out[0])  # every table's first column is its timestamp
    return out


def _columns(kind: str) -> Inserter:
    table, names = _TABLES[kind]
    verb = "INSERT OR IGNORE" if kind in _ONCE else "INSERT"
    rollup = _ROLLUPS.get(kind)

    def insert(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[IssueChange]:
        values = [_values(names, data) for data in rows]
        if rollup is None:
            insert_rows(conn, table, names, values, verb=verb)
            return []
        # Rows are given the ids after the largest (no AUTOINCREMENT, and the writer holds
        # the write lock), so the batch's rows are those from this id on.
        first = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]
        insert_rows(conn, table, names, values, verb=verb)
        rollup(conn, first)
        return []

    return insert


def insert_ingest_counts(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[IssueChange]:
    """Add up the counts of a batch, then one UPSERT a distinct hour, outcome, type and reason
    (a busy collector queues a row of counts a request; a batch holds hundreds)."""
    totals: Counter[tuple[int, str, str, str]] = Counter()
    for row in rows:
        hour = int(stored_timestamp(row.get("timestamp")) // 3600)
        outcome, item_type, reason = (str(row.get(k) or "") for k in COUNT_KEYS)
        totals[hour, outcome, item_type, reason] += int(row.get("n") or 0)
    for (hour, outcome, item_type, reason), n in totals.items():
        conn.execute(
            "INSERT INTO ingest_counts (hour, outcome, type, reason, n) VALUES (?,?,?,?,?)"
            " ON CONFLICT (hour, outcome, type, reason) DO UPDATE SET n = n + excluded.n",
            (hour, outcome, item_type, reason, n),
        )
    return []


INSERTS: dict[str, Inserter] = {
    "event": insert_events,
    "ingest": insert_ingest_counts,
    **{kind: _columns(kind) for kind in _TABLES},
}
