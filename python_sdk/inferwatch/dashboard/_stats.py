"""The numbers behind the Generations and Usage pages, over one time window."""

from __future__ import annotations

import math
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

MAX_ROWS = 50_000  # the newest rows a window is computed from, so a page stays quick
LATENCY_EDGES = (0, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000)


@dataclass(frozen=True)
class Window:
    """A time range cut into equal buckets: `Window.named("24h", now)`."""

    name: str
    start: float
    step: float
    buckets: int

    @classmethod
    def named(cls, name: str, now: float) -> Window:
        step, buckets = {"1h": (300, 12), "7d": (21600, 28)}.get(name, (3600, 24))
        name = name if name in ("1h", "7d") else "24h"
        end = (now // step + 1) * step  # buckets on round times, the last one holds `now`
        return cls(name, end - step * buckets, step, buckets)

    def index(self, ts: float) -> int:
        return min(self.buckets - 1, max(0, int((ts - self.start) // self.step)))

    def labels(self) -> list[str]:
        fmt = "%a %H:%M" if self.step >= 21600 else "%H:%M"
        return [
            datetime.fromtimestamp(self.start + i * self.step, timezone.utc).strftime(fmt)
            for i in range(self.buckets)
        ]


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values.

    >>> percentile([1, 2, 3, 4], 0.5)
    2
    """
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def _rows(conn: sqlite3.Connection, window: Window) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT timestamp, source, model, status, duration_ms, first_chunk_ms, input_tokens,"
        " output_tokens FROM generations WHERE timestamp >= ? ORDER BY timestamp DESC LIMIT ?",
        (window.start, MAX_ROWS),
    ).fetchall()


def generation_stats(conn: sqlite3.Connection, window: Window) -> dict[str, Any]:
    """Latency histogram, percentiles over time, backend vs browser, per-model table."""
    rows = _rows(conn, window)
    backend = [r for r in rows if r["source"] == "backend"]
    browser = [r for r in rows if r["source"] == "browser"]
    return {
        "total": len(rows),
        "capped": len(rows) == MAX_ROWS,
        "histogram": {
            "backend": _histogram([r["duration_ms"] for r in backend]),
            "browser": _histogram([r["duration_ms"] for r in browser]),
        },
        "percentiles": _over_time(backend, window, (0.5, 0.95, 0.99), "duration_ms"),
        "waited": {
            "backend p50": _over_time(backend, window, (0.5,), "duration_ms")["p50"],
            "browser p50": _over_time(browser, window, (0.5,), "duration_ms")["p50"],
        },
        "tiles": _tiles(backend, browser),
        "models": _per_model(rows),
    }


def _sorted(rows: Sequence[sqlite3.Row], column: str) -> list[float]:
    return sorted(float(r[column]) for r in rows if r[column] is not None)


def _histogram(durations: Sequence[float | None]) -> list[tuple[str, int]]:
    counts = [0] * len(LATENCY_EDGES)
    for d in durations:
        if d is not None:
            counts[sum(1 for edge in LATENCY_EDGES[1:] if d >= edge)] += 1
    # Each bar is named by its upper edge ("under 100ms"); the tooltip says the whole range.
    names = [_ms(e) for e in LATENCY_EDGES[1:]] + [f"{_ms(LATENCY_EDGES[-1])}+"]
    return list(zip(names, counts, strict=True))


def _ms(value: float) -> str:
    return f"{value / 1000:g}s" if value >= 1000 else f"{value:g}ms"


def _over_time(
    rows: Sequence[sqlite3.Row], window: Window, qs: Sequence[float], column: str
) -> dict[str, list[float | None]]:
    buckets: dict[int, list[float]] = defaultdict(list)
    for r in rows:
        if r[column] is not None:
            buckets[window.index(r["timestamp"])].append(float(r[column]))
    out: dict[str, list[float | None]] = {}
    for q in qs:
        out[f"p{round(q * 100)}"] = [
            percentile(sorted(buckets[i]), q) if buckets[i] else None for i in range(window.buckets)
        ]
    return out


def _tiles(backend: Sequence[sqlite3.Row], browser: Sequence[sqlite3.Row]) -> dict[str, Any]:
    be, br = _sorted(backend, "duration_ms"), _sorted(browser, "duration_ms")
    first = _sorted(browser, "first_chunk_ms") or _sorted(backend, "first_chunk_ms")
    everything = [*backend, *browser]
    errors = sum(1 for r in everything if r["status"] == "error")
    return {
        "backend_p50": percentile(be, 0.5),
        "backend_p95": percentile(be, 0.95),
        "browser_p50": percentile(br, 0.5),
        "browser_p95": percentile(br, 0.95),
        "first_token_p50": percentile(first, 0.5),
        "error_rate": errors / len(everything) if everything else None,
        "calls": len(everything),
    }


def _per_model(rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
    by_model: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for r in rows:
        by_model[r["model"]].append(r)
    out = []
    for model, group in sorted(by_model.items(), key=lambda kv: -len(kv[1])):
        durations = _sorted([r for r in group if r["source"] == "backend"] or group, "duration_ms")
        statuses = Counter(r["status"] for r in group)
        out.append(
            {
                "model": model,
                "calls": len(group),
                "errors": statuses["error"],
                "abandoned": statuses["abandoned"],
                "error_rate": statuses["error"] / len(group),
                "p50": percentile(durations, 0.5),
                "p95": percentile(durations, 0.95),
                "first_token_p50": percentile(_sorted(group, "first_chunk_ms"), 0.5),
                "input_tokens": sum(r["input_tokens"] or 0 for r in group),
                "output_tokens": sum(r["output_tokens"] or 0 for r in group),
            }
        )
    return out


def usage_stats(conn: sqlite3.Connection, window: Window, *, top: int = 6) -> dict[str, Any]:
    """Requests per route (middleware) and `log_usage` calls per endpoint, bucketed.

    Read from the five-minute `traffic` counters, never from the rows themselves.
    """
    rows = conn.execute(
        "SELECT kind, name, CAST((bucket * 300 - ?) / ? AS INTEGER) AS b, SUM(n) AS n,"
        " SUM(errors) AS errors, SUM(total_ms) AS total_ms FROM traffic"
        " WHERE kind IN ('request', 'usage') AND bucket >= ? GROUP BY kind, name, b",
        (window.start, window.step, int(window.start // 300)),
    ).fetchall()
    requests = [r for r in rows if r["kind"] == "request"]
    return {
        "requests": _stacks(requests, window, top),
        "usage": _stacks([r for r in rows if r["kind"] == "usage"], window, top),
        "routes": _route_table(requests),
    }


def _stacks(rows: Sequence[sqlite3.Row], window: Window, top: int) -> dict[str, list[int]]:
    totals: Counter[str] = Counter()
    for r in rows:
        totals[r["name"]] += r["n"]
    keep = [name for name, _ in totals.most_common(top)]
    stacks = {name: [0] * window.buckets for name in keep}
    for r in rows:
        name = r["name"] if r["name"] in stacks else "other"
        stacks.setdefault(name, [0] * window.buckets)[min(r["b"], window.buckets - 1)] += r["n"]
    return stacks


def _route_table(rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = table.setdefault(r["name"], {"name": r["name"], "n": 0, "errors": 0, "ms": 0.0})
        entry["n"] += r["n"]
        entry["errors"] += r["errors"] or 0
        entry["ms"] += r["total_ms"] or 0
    for entry in table.values():
        entry["avg_ms"] = entry.pop("ms") / entry["n"]
    return sorted(table.values(), key=lambda e: -e["n"])
