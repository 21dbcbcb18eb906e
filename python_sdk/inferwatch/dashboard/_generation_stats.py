"""The numbers of the Generations page over one window, read from the generation rollups.

Calls, errors and tokens are exact, and count a generation that both the browser and the backend
recorded once (see `store._generation_rollups`). Percentiles are read from latency histograms:
within `RELATIVE_ERROR` (1.08%) of the exact nearest-rank value of the same records.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..store import _histogram as h
from ..store._backfill import pending
from ..store._rollup_tables import GENERATIONS, Rollup, exists, read
from ._stats import Window

RELATIVE_ERROR = h.RELATIVE_ERROR
LATENCY_EDGES = (0, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000)
SIDES = ("backend", "browser")


def side(source: str) -> str:
    """The browser's records are what the user waited; every other source timed the backend."""
    return "browser" if source == "browser" else "backend"


@dataclass
class _Model:
    """What one model's rollups in the window add up to."""

    counts: dict[str, float] = field(default_factory=dict)
    duration: dict[str, h.Counts] = field(default_factory=lambda: {s: h.Counts() for s in SIDES})
    first_chunk: dict[str, h.Counts] = field(default_factory=lambda: {s: h.Counts() for s in SIDES})

    def add(self, rollup: Rollup) -> None:
        for name, n in rollup.counts.items():
            self.counts[name] = self.counts.get(name, 0) + n
        where = side(rollup.keys["source"])
        self.duration[where].add(rollup.hists["duration"])
        self.first_chunk[where].add(rollup.hists["first_chunk"])


def generation_stats(conn: sqlite3.Connection, window: Window) -> dict[str, Any]:
    """Latency histogram, percentiles over time, backend beside browser, per-model table."""
    ready = exists(conn, [GENERATIONS.name, "rollup_backfill"])  # no writer opened it yet
    rollups = (
        read(conn, GENERATIONS, window.step, window.first_period, window.last_period)
        if ready
        else []
    )
    models: dict[str, _Model] = {}
    # the duration histogram of each bucket, by side
    buckets = {s: [h.Counts() for _ in range(window.buckets)] for s in SIDES}
    for rollup in rollups:
        models.setdefault(rollup.keys["model"], _Model()).add(rollup)
        buckets[side(rollup.keys["source"])][rollup.period - window.first_period].add(
            rollup.hists["duration"]
        )
    total = _Model()
    for model in models.values():
        _add_model(total, model)
    backend_q = [hist.quantiles((0.5, 0.95, 0.99)) for hist in buckets["backend"]]
    browser_q = [hist.quantiles((0.5,))[0] for hist in buckets["browser"]]
    return {
        "total": int(total.counts.get("calls", 0)),
        "records": {s: _records(rollups, s) for s in SIDES},
        # browser records whose call the backend's record counted: one call, two timings
        "paired": _records(rollups, "browser") - _browser_calls(rollups),
        "histogram": {s: _coarse(total.duration[s]) for s in SIDES},
        "percentiles": {
            name: [q[i] for q in backend_q] for i, name in enumerate(("p50", "p95", "p99"))
        },
        "waited": {"backend p50": [q[0] for q in backend_q], "browser p50": browser_q},
        "tiles": _tiles(total),
        "models": sorted(
            (_model_row(name, m) for name, m in models.items()),
            key=lambda row: (-row["calls"], row["model"]),
        ),
        "backfilling": ready and pending(conn),
    }


def _add_model(total: _Model, model: _Model) -> None:
    for name, n in model.counts.items():
        total.counts[name] = total.counts.get(name, 0) + n
    for s in SIDES:
        total.duration[s].add(model.duration[s])
        total.first_chunk[s].add(model.first_chunk[s])


def _records(rollups: Sequence[Rollup], where: str) -> int:
    return int(sum(r.counts["records"] for r in rollups if side(r.keys["source"]) == where))


def _browser_calls(rollups: Sequence[Rollup]) -> int:
    return int(sum(r.counts["calls"] for r in rollups if side(r.keys["source"]) == "browser"))


def _coarse(hist: h.Counts) -> list[tuple[str, int]]:
    """The latency histogram's bars, counted from the fine buckets (each where its midpoint
    falls: a record within 1.08% of an edge may be counted in the bar beside)."""
    counts = [0] * len(LATENCY_EDGES)
    for value, n in hist.buckets():
        counts[bisect.bisect_right(LATENCY_EDGES, value) - 1] += n
    # Each bar is named by its upper edge ("under 100ms"); the tooltip says the whole range.
    names = [_ms(e) for e in LATENCY_EDGES[1:]] + [f"{_ms(LATENCY_EDGES[-1])}+"]
    return list(zip(names, counts, strict=True))


def _ms(value: float) -> str:
    return f"{value / 1000:g}s" if value >= 1000 else f"{value:g}ms"


def _first_token(model: _Model) -> h.Counts:
    """The user's time to first token when the browser timed it, else the backend's."""
    browser = model.first_chunk["browser"]
    return browser if browser.total else model.first_chunk["backend"]


def _tiles(total: _Model) -> dict[str, Any]:
    backend_p50, backend_p95 = total.duration["backend"].quantiles((0.5, 0.95))
    browser_p50, browser_p95 = total.duration["browser"].quantiles((0.5, 0.95))
    calls = int(total.counts.get("calls", 0))
    return {
        "backend_p50": backend_p50,
        "backend_p95": backend_p95,
        "browser_p50": browser_p50,
        "browser_p95": browser_p95,
        "first_token_p50": _first_token(total).quantiles((0.5,))[0],
        "error_rate": total.counts.get("errors", 0) / calls if calls else None,
        "calls": calls,
    }


def _model_row(name: str, model: _Model) -> dict[str, Any]:
    counts = model.counts
    calls = int(counts.get("calls", 0))
    p50, p95 = model.duration["backend"].quantiles((0.5, 0.95))
    return {
        "model": name,
        "calls": calls,
        "errors": int(counts.get("errors", 0)),
        "abandoned": int(counts.get("abandoned", 0)),
        "error_rate": counts.get("errors", 0) / calls if calls else None,
        "p50": p50,
        "p95": p95,
        "waited_p50": model.duration["browser"].quantiles((0.5,))[0],
        "first_token_p50": _first_token(model).quantiles((0.5,))[0],
        # "—" rather than 0 when no call of the model said how many tokens it used
        "input_tokens": int(counts["input_tokens"]) if counts.get("input_reported") else None,
        "output_tokens": int(counts["output_tokens"]) if counts.get("output_reported") else None,
    }
