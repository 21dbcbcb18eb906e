"""Rollups: counters and latency histograms per period, kept as rows are written, so that the
Generations and Usage pages read a few hundred rows however many records their range holds.

Each rollup row covers one period of one span (a minute, five minutes, an hour or six hours: the
bucket of each range the pages offer) and one key (a model and source, or a route). Its counters
add up exactly; its histograms (`_histogram`) give percentiles within 1.08%. A batch of rows
changes each row it touches once: the changes are added up first (`Deltas`), then each rollup
row is read, added to and written back, in the writer's transaction.

The two finer spans serve only the short ranges, so they are kept a day or two (`FINE_KEEP`);
the others are kept as long as retention keeps records, and deleted a whole period at a time:
a rollup counts what was written in its period.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _histogram as h

SPANS = (60, 300, 3600, 21600)
FINE_KEEP = {60: 2 * 3600.0, 300: 2 * 86400.0}  # seconds a fine span is kept; others: retention


@dataclass(frozen=True)
class RollupTable:
    """A rollup table: its key columns (after `span` and `period`), counters and histograms."""

    name: str
    keys: tuple[str, ...]
    counts: tuple[str, ...]  # the first counts the rows rolled up
    hists: tuple[str, ...]

    def ddl(self) -> list[str]:
        columns = [
            "span INTEGER NOT NULL",
            "period INTEGER NOT NULL",
            *(f"{k} TEXT NOT NULL" for k in self.keys),
            *(f"{c} NUMERIC NOT NULL DEFAULT 0" for c in self.counts),
            *(f"{c} BLOB" for c in self.hists),
        ]
        key = ", ".join(("span", "period", *self.keys))
        return [
            f"CREATE TABLE IF NOT EXISTS {self.name} ({', '.join(columns)}, PRIMARY KEY ({key}))"
        ]


GENERATIONS = RollupTable(
    "generation_rollups",
    keys=("model", "source"),
    # records: rows stored; calls: generations, a browser+backend pair counted once (by the
    # backend's row); errors, tokens and *_reported (calls that said their tokens) of those calls
    counts=(
        "records",
        "calls",
        "errors",
        "abandoned",
        "input_tokens",
        "output_tokens",
        "input_reported",
        "output_reported",
    ),
    hists=("duration", "first_chunk"),
)
TRAFFIC = RollupTable(
    "traffic_rollups",
    keys=("kind", "name"),  # ("request", "GET /route") or ("usage", endpoint)
    counts=("n", "errors", "total_ms"),
    hists=("duration",),
)

Key = tuple[Any, ...]
"""span, period and the table's key columns."""


@dataclass
class Delta:
    """What a batch adds to one rollup row: counts, and values in histograms (with the
    smallest and largest of each)."""

    counts: defaultdict[str, float] = field(default_factory=lambda: defaultdict(int))
    hists: dict[str, h.Histogram] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)

    def value(self, column: str, value: float) -> None:
        """Count `value` in the histogram of `column`."""
        hist = self.hists.get(column)
        if hist is None:
            hist = self.hists[column] = {}
        index = h.bucket(value)
        hist[index] = hist.get(index, 0) + 1
        low, high = self.bounds.get(column, (value, value))
        self.bounds[column] = (min(low, value), max(high, value))

    def add(self, other: Delta) -> None:
        for name, n in other.counts.items():
            self.counts[name] += n
        for column, hist in other.hists.items():
            mine = self.hists.get(column)
            if mine is None:
                mine = self.hists[column] = {}
            for index, n in hist.items():
                mine[index] = mine.get(index, 0) + n
            low, high = other.bounds[column]
            mine_low, mine_high = self.bounds.get(column, (low, high))
            self.bounds[column] = (min(low, mine_low), max(high, mine_high))

    def counted(self, column: str) -> h.Counts:
        return h.Counts.of(
            self.hists.get(column, {}), *self.bounds.get(column, (math.inf, -math.inf))
        )


class Deltas:
    """The changes of one batch: each row added up in the finest span that still keeps its
    time (a batch's rows share few minutes; an old row skips the fine spans, which no longer
    keep its period, see `kept_since`), then spread to every coarser span (`rows`)."""

    def __init__(self, now: float | None = None) -> None:
        self.base: dict[Key, Delta] = {}
        self.since = kept_since(time.time() if now is None else now)

    def at(self, ts: float, *keys: str) -> Delta:
        """The delta of the finest period that holds the time `ts`, for these key columns."""
        for span, first in self.since:
            period = int(ts // span)
            if period >= first:
                break
        key = (span, period, *keys)
        delta = self.base.get(key)
        if delta is None:
            delta = self.base[key] = Delta()
        return delta

    def rows(self) -> dict[Key, Delta]:
        """The deltas by rollup row: span, period and key columns."""
        out: dict[Key, Delta] = {}
        for (base, base_period, *keys), delta in self.base.items():
            for span, first in self.since:
                period = base_period * base // span
                if span >= base and period >= first:
                    key = (span, period, *keys)
                    target = out.get(key)
                    if target is None:
                        target = out[key] = Delta()
                    target.add(delta)
        return out


def kept_since(now: float, cutoff: float | None = None) -> list[tuple[int, int]]:
    """Each span, finest first, and its first period still kept at `now`: a fine span's periods
    go once they end more than `FINE_KEEP` ago, every span's once they end before `cutoff`
    (retention; with none, the coarsest span keeps every period)."""
    out = []
    for span in SPANS:
        edge = max(now - FINE_KEEP[span], cutoff or 0.0) if span in FINE_KEEP else cutoff or 0.0
        out.append((span, int(edge // span)))
    return out


def number(value: Any) -> float | None:
    """A finite number read from the store, or None."""
    kind = type(value)  # not isinstance: a bool is no duration, and this runs for every row
    if (kind is float or kind is int) and math.isfinite(value):
        return float(value)
    return None


def apply(conn: sqlite3.Connection, table: RollupTable, deltas: Deltas) -> None:
    """Add `deltas` to their rollup rows (a read and a write a row, in the caller's transaction)."""
    where = " AND ".join(f"{k} = ?" for k in ("span", "period", *table.keys))
    read = f"SELECT {', '.join(table.hists)} FROM {table.name} WHERE {where}"
    columns = ("span", "period", *table.keys, *table.counts, *table.hists)
    sets = [f"{c} = {c} + excluded.{c}" for c in table.counts]
    sets += [f"{c} = coalesce(excluded.{c}, {c})" for c in table.hists]
    write = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})"
        f" ON CONFLICT ({', '.join(columns[: 2 + len(table.keys)])}) DO UPDATE SET"
        f" {', '.join(sets)}"
    )
    update = (
        f"UPDATE {table.name} SET {', '.join(f'{c} = {c} + ?' for c in table.counts)} WHERE {where}"
    )
    rows, updates = [], []
    for key, delta in deltas.rows().items():
        if not delta.counts[table.counts[0]]:  # a count taken back: never a row of its own
            updates.append([*(delta.counts[c] for c in table.counts), *key])
            continue
        blobs: Sequence[bytes | None] = [None] * len(table.hists)
        if any(delta.hists.values()):
            found = conn.execute(read, key).fetchone()
            blobs = [
                _added(found[i] if found else None, delta, c) for i, c in enumerate(table.hists)
            ]
        rows.append([*key, *(delta.counts[c] for c in table.counts), *blobs])
    if rows:
        conn.executemany(write, rows)
    if updates:
        conn.executemany(update, updates)


def _added(blob: bytes | None, delta: Delta, column: str) -> bytes | None:
    if not delta.hists.get(column):
        return blob
    total = h.Counts.decode(blob)
    total.add(delta.counted(column))
    return total.encode()


@dataclass
class Rollup:
    """One rollup row as read back: its key columns, counters and decoded histograms."""

    period: int
    keys: dict[str, str]
    counts: dict[str, float]
    hists: dict[str, h.Counts]


def read(
    conn: sqlite3.Connection, table: RollupTable, span: int, first: int, last: int, **where: str
) -> list[Rollup]:
    """The rollup rows of `span` from period `first` to `last` (both included)."""
    columns = ("period", *table.keys, *table.counts, *table.hists)
    sql = f"SELECT {', '.join(columns)} FROM {table.name} WHERE span = ? AND period BETWEEN ? AND ?"
    sql += "".join(f" AND {k} = ?" for k in where)
    n_keys, n_counts = len(table.keys), len(table.counts)
    out = []
    for row in conn.execute(sql, (span, first, last, *where.values())):
        counts = row[1 + n_keys : 1 + n_keys + n_counts]
        out.append(
            Rollup(
                period=row[0],
                keys=dict(zip(table.keys, row[1 : 1 + n_keys], strict=True)),
                counts=dict(zip(table.counts, counts, strict=True)),
                hists={
                    c: h.Counts.decode(blob)
                    for c, blob in zip(table.hists, row[1 + n_keys + n_counts :], strict=True)
                },
            )
        )
    return out


def trim(conn: sqlite3.Connection, cutoff: float, now: float) -> None:
    """Delete the rollup periods that ended before `cutoff` (the fine spans sooner)."""
    for table in (GENERATIONS, TRAFFIC):
        for span, since in kept_since(now, cutoff):
            conn.execute(f"DELETE FROM {table.name} WHERE span = ? AND period < ?", (span, since))


def exists(conn: sqlite3.Connection, names: Iterable[str]) -> bool:
    """Whether every table of `names` is in the store (a store no writer has opened since an
    upgrade has none of the new ones yet)."""
    names = list(names)
    marks = ",".join("?" * len(names))
    sql = f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ({marks})"
    return bool(conn.execute(sql, names).fetchone()[0] == len(names))


# -- rows written before the rollups existed -------------------------------------------------

BACKFILL_STATE = (
    "CREATE TABLE IF NOT EXISTS rollup_backfill (source TEXT PRIMARY KEY, below INTEGER NOT NULL)"
)


def pending_below(conn: sqlite3.Connection, source: str) -> int:
    """The rows of `source` with an id below this one are not rolled up yet (0: none)."""
    row = conn.execute("SELECT below FROM rollup_backfill WHERE source = ?", (source,)).fetchone()
    return int(row[0]) if row else 0
