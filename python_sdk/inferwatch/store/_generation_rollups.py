"""The Generations page's rollups, with one generation counted once when the browser and the
backend both recorded it.

The snippet times a request with a W3C `traceparent`, and the middleware puts that trace id on
the backend's records, so a browser record and the backend records of its trace are one
generation seen twice: the backend's duration and the user's wait. Every record adds its timings
to the histograms of its own source; only the backend's record counts the call, its status and
its tokens. A browser record whose trace has no backend record counts as a call of its own, until
a backend record of its trace arrives (the order the two are stored in is not known): then its
count is taken back. Its timings are filed under the backend's model name when the backend's
record was stored first (the usual order), as the backend knows which model ran.

>>> add_batch(conn, first_id=1201)  # in the writer's transaction, after the INSERT  # doctest: +SKIP
"""

from __future__ import annotations

import sqlite3
from typing import Any, NamedTuple

from ._rollup_tables import GENERATIONS, Delta, Deltas, apply, number, pending_below

_COLUMNS = (
    "id, timestamp, source, model, status, duration_ms, first_chunk_ms, input_tokens,"
    " output_tokens, trace_id"
)
_IN_CHUNK = 500


class _Record(NamedTuple):
    id: int
    timestamp: float
    source: str
    model: str
    status: str
    duration_ms: Any
    first_chunk_ms: Any
    input_tokens: Any
    output_tokens: Any
    trace_id: str | None

    @property
    def browser(self) -> bool:
        return self.source == "browser"


def add_batch(conn: sqlite3.Connection, first_id: int) -> None:
    """Roll up the records from `first_id` on (a batch just inserted): their own counts, and the
    browser records stored earlier that this batch's backend records pair with."""
    batch = _records(conn, "id >= ?", (first_id,))
    traces = _traces(conn, batch)
    deltas = Deltas()
    _roll_up(batch, traces, deltas)
    below = pending_below(conn, "generations")  # rows under it: the backfill counts them later
    paired = [i for i in _newly_paired(batch, traces, first_id) if i >= below]
    for start in range(0, len(paired), _IN_CHUNK):
        chunk = paired[start : start + _IN_CHUNK]
        for record in _records(conn, f"id IN ({','.join('?' * len(chunk))})", tuple(chunk)):
            _count_call(deltas.at(record.timestamp, record.model, record.source), record, -1)
    apply(conn, GENERATIONS, deltas)


def add_range(conn: sqlite3.Connection, low: int, high: int) -> None:
    """Roll up the records with ids from `low` up to `high` (excluded): the backfill's chunk."""
    records = _records(conn, "id >= ? AND id < ?", (low, high))
    deltas = Deltas()
    # only a browser record needs its trace here: to know whether the backend counted its call
    _roll_up(records, _traces(conn, [r for r in records if r.browser]), deltas)
    apply(conn, GENERATIONS, deltas)


def _records(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[_Record]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM generations WHERE {where}", args)
    return list(map(_Record._make, rows))


class _Member(NamedTuple):
    """A record of a trace, as much of it as pairing needs."""

    id: int
    browser: bool
    model: str


def _traces(conn: sqlite3.Connection, records: list[_Record]) -> dict[str, list[_Member]]:
    """Every stored record of the traces of `records`, oldest first, by trace id."""
    ids = sorted({r.trace_id for r in records if r.trace_id})
    out: dict[str, list[_Member]] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        sql = (
            "SELECT id, source = 'browser', model, trace_id FROM generations"
            f" WHERE trace_id IN ({','.join('?' * len(chunk))}) ORDER BY id"
        )
        for row_id, browser, model, trace in conn.execute(sql, chunk):
            out.setdefault(trace, []).append(_Member(row_id, bool(browser), model))
    return out


def _roll_up(records: list[_Record], traces: dict[str, list[_Member]], deltas: Deltas) -> None:
    for record in records:
        model, counted = record.model, True
        if record.browser and record.trace_id:
            backends = [r for r in traces.get(record.trace_id, ()) if not r.browser]
            counted = not backends
            earlier = [r for r in backends if r.id < record.id]
            model = earlier[0].model if earlier else model
        delta = deltas.at(record.timestamp, model, record.source)
        delta.counts["records"] += 1
        delta.counts["abandoned"] += record.status == "abandoned"
        _add(delta, "duration", record.duration_ms)
        _add(delta, "first_chunk", record.first_chunk_ms)
        if counted:
            _count_call(delta, record, 1)


def _add(delta: Delta, column: str, value: Any) -> None:
    ms = number(value)
    if ms is not None:
        delta.value(column, ms)


def _count_call(delta: Delta, record: _Record, sign: int) -> None:
    """Count `record` as a call (sign 1), or take that count back (sign -1)."""
    counts = delta.counts
    counts["calls"] += sign
    counts["errors"] += sign * (record.status == "error")
    for side, value in (("input", record.input_tokens), ("output", record.output_tokens)):
        tokens = _tokens(value)
        if tokens is not None:
            counts[f"{side}_tokens"] += sign * tokens
            counts[f"{side}_reported"] += sign


# A token count past this is nobody's; clamped, a batch's sum still binds as a 64-bit integer.
_MAX_TOKENS = 2**53


def _tokens(value: Any) -> int | None:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    count = value if is_int else number(value)
    if count is None:
        return None
    return int(max(-_MAX_TOKENS, min(count, _MAX_TOKENS)))


def _newly_paired(
    batch: list[_Record], traces: dict[str, list[_Member]], first_id: int
) -> list[int]:
    """The ids of the browser records stored before this batch that were counted as calls of
    their own, and whose trace gets its first backend record in this batch."""
    out = []
    for trace in {r.trace_id for r in batch if not r.browser and r.trace_id}:
        earlier = [r for r in traces[trace] if r.id < first_id]
        if not any(not r.browser for r in earlier):
            out += [r.id for r in earlier if r.browser]
    return sorted(out)
