"""The numbers of the Usage page over one window, read from the traffic rollups: requests per
route (exact counts, percentiles within 1.08%) and `log_usage` calls per endpoint."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..store import _histogram as h
from ..store._backfill import pending
from ..store._rollup_tables import TRAFFIC, Rollup, exists, read
from ._stats import Window


def usage_stats(conn: sqlite3.Connection, window: Window, *, top: int = 6) -> dict[str, Any]:
    """Requests per route (middleware) and `log_usage` calls per endpoint, bucketed, and the
    routes with their counts, 5xx and latency."""
    ready = exists(conn, [TRAFFIC.name, "rollup_backfill"])  # no writer opened it yet
    rollups = (
        read(conn, TRAFFIC, window.step, window.first_period, window.last_period) if ready else []
    )
    requests = [r for r in rollups if r.keys["kind"] == "request"]
    return {
        "requests": _stacks(requests, window, top),
        "usage": _stacks([r for r in rollups if r.keys["kind"] == "usage"], window, top),
        "routes": _route_table(requests),
        "backfilling": ready and pending(conn),
    }


def _stacks(rollups: Sequence[Rollup], window: Window, top: int) -> dict[str, list[int]]:
    """Counts per bucket of the `top` busiest names, the rest as "other"."""
    totals: Counter[str] = Counter()
    for r in rollups:
        totals[r.keys["name"]] += int(r.counts["n"])
    keep = [name for name, _ in totals.most_common(top)]
    stacks = {name: [0] * window.buckets for name in keep}
    for r in rollups:
        name = r.keys["name"] if r.keys["name"] in stacks else "other"
        stacks.setdefault(name, [0] * window.buckets)[r.period - window.first_period] += int(
            r.counts["n"]
        )
    return stacks


def _route_table(rollups: Sequence[Rollup]) -> list[dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for r in rollups:
        name = r.keys["name"]
        entry = table.setdefault(
            name, {"name": name, "n": 0, "errors": 0, "ms": 0.0, "hist": h.Counts()}
        )
        entry["n"] += int(r.counts["n"])
        entry["errors"] += int(r.counts["errors"])
        entry["ms"] += r.counts["total_ms"]
        entry["hist"].add(r.hists["duration"])
    for entry in table.values():
        entry["avg_ms"] = entry.pop("ms") / entry["n"] if entry["n"] else None
        entry["p50"], entry["p95"], entry["p99"] = entry.pop("hist").quantiles((0.5, 0.95, 0.99))
    return sorted(table.values(), key=lambda e: (-e["n"], e["name"]))
