"""Generation rollups, kept as records are written: exactly what the records add up to, with a
generation the browser and the backend both recorded counted once."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
from inferwatch.store import Store, _schema
from inferwatch.store._histogram import bucket
from inferwatch.store._rollup_tables import GENERATIONS, read

from tests.store._generations import (
    actual,
    as_histograms,
    backend,
    browser,
    expected,
    random_records,
)

NOW = time.time()


def write(path: Path, batches: list[list[dict[str, Any]]]) -> None:
    store = Store(path)
    try:
        for batch in batches:
            assert store.write([("generation", r) for r in batch])
    finally:
        store.close()


def hour_rows(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    conn = _schema.connect(str(path), readonly=True)
    try:
        rollups = read(conn, GENERATIONS, 3600, 0, 2**40)
    finally:
        conn.close()
    return {
        (r.keys["model"], r.keys["source"]): r.counts | {k: v.sparse() for k, v in r.hists.items()}
        for r in rollups
    }


def check(path: Path) -> None:
    conn = _schema.connect(str(path), readonly=True)
    try:
        assert actual(conn) == as_histograms(expected(conn, NOW))
    finally:
        conn.close()


@pytest.mark.parametrize("browser_first", [False, True])
def test_one_generation_seen_by_the_browser_and_the_backend_is_one_call(
    tmp_path: Path, browser_first: bool
) -> None:
    rng = random.Random(1)
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    server = backend(rng, NOW, trace) | {"model": "story-large", "status": "error"}
    server |= {"duration_ms": 812.0, "input_tokens": 12, "output_tokens": 40}
    user = browser(rng, NOW, trace) | {"status": "error", "duration_ms": 1840.0}
    user |= {"output_tokens": 40}
    write(tmp_path / "events.db", [[user], [server]] if browser_first else [[server], [user]])
    rows = hour_rows(tmp_path / "events.db")
    calls = sum(r["calls"] for r in rows.values())
    errors = sum(r["errors"] for r in rows.values())
    tokens = sum(r["output_tokens"] for r in rows.values())
    assert (calls, errors, tokens) == (1, 1, 40)
    assert sum(r["records"] for r in rows.values()) == 2
    # both timings kept, each with its side; the browser's under the backend's model name when
    # the backend's record came first, under its own otherwise
    browser_key = ("story" if browser_first else "story-large", "browser")
    assert list(rows[("story-large", "backend")]["duration"]) == [bucket(812.0)]
    assert list(rows[browser_key]["duration"]) == [bucket(1840.0)]
    check(tmp_path / "events.db")


def test_records_of_one_trace_in_one_batch_are_one_call(tmp_path: Path) -> None:
    rng = random.Random(2)
    trace = "0af7651916cd43dd8448eb211c80319c"
    write(tmp_path / "events.db", [[browser(rng, NOW, trace), backend(rng, NOW, trace)]])
    rows = hour_rows(tmp_path / "events.db")
    assert sum(r["calls"] for r in rows.values()) == 1
    check(tmp_path / "events.db")


def test_rollups_are_what_the_records_add_up_to_in_every_span(tmp_path: Path) -> None:
    rng = random.Random(18)
    records = random_records(rng, 3000, NOW)
    batches, at = [], 0
    while at < len(records):  # batches of every size, as the writer meets them
        size = rng.choice([1, 2, 7, 50, 400])
        batches.append(records[at : at + size])
        at += size
    write(tmp_path / "events.db", batches)
    check(tmp_path / "events.db")


def test_a_browser_record_without_a_trace_is_a_call_of_its_own(tmp_path: Path) -> None:
    rng = random.Random(3)
    write(tmp_path / "events.db", [[browser(rng, NOW, None), backend(rng, NOW, None)]])
    rows = hour_rows(tmp_path / "events.db")
    assert sum(r["calls"] for r in rows.values()) == 2
    check(tmp_path / "events.db")


def test_absurd_token_counts_are_stored_and_counted_within_64_bits(tmp_path: Path) -> None:
    """A client may report any number: 2**63 as a float, or the largest 64-bit integer twice
    in one batch, once failed to bind and the row was dropped."""
    path = tmp_path / "events.db"
    record = {"timestamp": NOW, "source": "backend", "model": "m", "status": "ok"}
    batch = [
        record | {"input_tokens": 9.223372036854776e18},
        record | {"input_tokens": 2**63 - 1},
        record | {"input_tokens": 2**63 - 1, "output_tokens": 3},
    ]
    store = Store(path)
    try:
        assert store.write([("generation", r) for r in batch])
        assert store.stats()["dropped"] == {}
    finally:
        store.close()
    counts = hour_rows(path)[("m", "backend")]
    assert counts["calls"] == 3 and counts["output_tokens"] == 3
    assert counts["input_tokens"] >= 2**53
