"""The Generations page's numbers against the exact numbers of the same records: counts equal,
percentiles within the stated error."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from inferwatch.dashboard._generation_stats import RELATIVE_ERROR, generation_stats
from inferwatch.dashboard._stats import Window
from inferwatch.store import Store, _schema
from inferwatch.store._histogram import rank

from tests.store._generations import backend, browser

NOW = time.time()


def exact(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return ordered[rank(q, len(ordered)) - 1] if ordered else None


def close_to(estimate: float | None, truth: float | None) -> bool:
    if truth is None:
        return estimate is None
    return estimate is not None and abs(estimate - truth) <= RELATIVE_ERROR * truth + 1e-9


@pytest.fixture
def records(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A day of records: backend calls, browser-only calls, and pairs of one trace."""
    rng = random.Random(42)
    out: list[dict[str, Any]] = []
    for i in range(1500):
        ts = NOW - rng.random() * 20 * 3600
        trace = f"{i:032x}"
        kind = i % 3
        if kind == 0:
            out.append(backend(rng, ts, trace))
        elif kind == 1:
            out.append(browser(rng, ts, trace))
        else:
            out += [backend(rng, ts, trace), browser(rng, ts + 1, trace)]
    for r in out:  # nothing below a millisecond here: the exact values are easy to compare
        if r["duration_ms"] is not None:
            r["duration_ms"] = max(r["duration_ms"], 1.0)
    path = tmp_path / "events.db"
    store = Store(path)
    try:
        assert store.write([("generation", r) for r in out])
    finally:
        store.close()
    return path, out


def test_the_page_counts_each_generation_once_and_reads_percentiles_within_the_bound(
    records: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, rows = records
    with closing(_schema.connect(str(path), readonly=True)) as conn:
        stats = generation_stats(conn, Window.named("24h", NOW))
    paired = {r["trace_id"] for r in rows if r["source"] == "backend"}
    calls = [r for r in rows if r["source"] == "backend" or r["trace_id"] not in paired]
    assert stats["total"] == len(calls)
    tiles = stats["tiles"]
    assert tiles["error_rate"] == pytest.approx(
        sum(r["status"] == "error" for r in calls) / len(calls)
    )
    assert stats["paired"] == sum(
        1 for r in rows if r["source"] == "browser" and r["trace_id"] in paired
    )
    durations = defaultdict(list)
    for r in rows:
        if r["duration_ms"] is not None:
            durations[r["source"]].append(r["duration_ms"])
    for side in ("backend", "browser"):
        for q in (0.5, 0.95):
            assert close_to(tiles[f"{side}_p{round(q * 100)}"], exact(durations[side], q))
        assert sum(n for _, n in stats["histogram"][side]) == len(durations[side])


def test_each_model_row_adds_up_its_calls_and_says_dash_for_tokens_nobody_reported(
    records: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, rows = records
    with closing(_schema.connect(str(path), readonly=True)) as conn:
        stats = generation_stats(conn, Window.named("24h", NOW))
    by_model = {m["model"]: m for m in stats["models"]}
    backend_models = {r["trace_id"]: r["model"] for r in rows if r["source"] == "backend"}
    for name, row in by_model.items():
        mine = [r for r in rows if r["source"] == "backend" and r["model"] == name]
        if name == "story":  # the browser's own name: only calls the backend never saw
            mine = [
                r for r in rows if r["source"] == "browser" and r["trace_id"] not in backend_models
            ]
        assert row["calls"] == len(mine)
        assert row["errors"] == sum(r["status"] == "error" for r in mine)
        said = [r["input_tokens"] for r in mine if r.get("input_tokens") is not None]
        assert row["input_tokens"] == (sum(said) if said else None)
        backend_ms = [
            r["duration_ms"] for r in mine if r["source"] == "backend" and r["duration_ms"]
        ]
        assert close_to(row["p50"], exact(backend_ms, 0.5))
    assert by_model["story"]["input_tokens"] is None  # the browser never knows them: "—"
