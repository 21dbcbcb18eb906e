"""The time ranges of the Generations and Usage pages, and which one a page opens on.

Each range is cut into equal buckets, and each bucket is one period of the rollups of its span
(`store._rollup_tables`), so a range reads a few rows per bucket, never the records themselves.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

# name: (seconds a bucket, buckets); the smallest first
RANGES = {"15m": (60, 15), "1h": (300, 12), "24h": (3600, 24), "7d": (21600, 28)}
DEFAULT = "24h"


@dataclass(frozen=True)
class Window:
    """A time range cut into equal buckets: `Window.named("24h", now)`."""

    name: str
    start: float
    step: int
    buckets: int

    @classmethod
    def named(cls, name: str, now: float) -> Window:
        name = name if name in RANGES else DEFAULT
        step, buckets = RANGES[name]
        end = (now // step + 1) * step  # buckets on round times, the last one holds `now`
        return cls(name, end - step * buckets, step, buckets)

    @property
    def first_period(self) -> int:
        """The rollup period (of span `step`) of the first bucket."""
        return int(self.start // self.step)

    @property
    def last_period(self) -> int:
        return self.first_period + self.buckets - 1

    def labels(self) -> list[str]:
        fmt = "%a %H:%M" if self.step >= 21600 else "%H:%M"
        return [
            datetime.fromtimestamp(self.start + i * self.step, timezone.utc).strftime(fmt)
            for i in range(self.buckets)
        ]


def opening_range(conn: sqlite3.Connection, tables: Iterable[str], now: float) -> str:
    """The range a page opens on: the smallest that holds everything recorded in the last day
    (so that an app started a few minutes ago fills a chart, rather than making one bar at the
    right edge of 24 hours), 7d when the last day is empty but the week is not, else 24h.

    Read through the tables' timestamp indexes: a few index steps, however many rows.
    """
    day, week = Window.named("24h", now), Window.named("7d", now)
    oldest = _oldest(conn, tables, day.start)
    if oldest is None:
        return "7d" if _oldest(conn, tables, week.start) is not None else DEFAULT
    return next(name for name in RANGES if Window.named(name, now).start <= oldest)


def _oldest(conn: sqlite3.Connection, tables: Iterable[str], since: float) -> float | None:
    found = [
        conn.execute(
            f"SELECT min(timestamp) FROM {table} WHERE timestamp >= ?", (since,)
        ).fetchone()[0]
        for table in tables
    ]
    times = [t for t in found if t is not None]
    return min(times) if times else None
