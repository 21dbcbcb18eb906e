"""Generation records for the rollup tests, and what their rollups must be, worked out the slow
way from the records themselves."""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from typing import Any

from inferwatch.store import _histogram as h
from inferwatch.store._rollup_tables import FINE_KEEP, GENERATIONS, SPANS, kept_since, read

MODELS = ("story-ngram", "sentiment", "gpt-x")
COUNTERS = GENERATIONS.counts


def random_records(rng: random.Random, n: int, now: float) -> list[dict[str, Any]]:
    """`n` records over the last eight days, in the order they are written: backend records,
    browser records of their own, and pairs of one trace stored in either order."""
    out: list[dict[str, Any]] = []
    while len(out) < n:
        ts = now - rng.random() * 8 * 86400
        if any(abs(ts - (now - keep)) < 600 for keep in FINE_KEEP.values()):
            continue  # the edge of what a fine span keeps moves while the test runs
        trace = f"{rng.getrandbits(128):032x}" if rng.random() < 0.9 else None
        kind = rng.random()
        if kind < 0.45:
            out.append(backend(rng, ts, trace))
        elif kind < 0.6:
            out.append(browser(rng, ts, trace))
        else:  # one generation, seen by both; the browser's record is stored first a third of the time
            pair = [backend(rng, ts, trace), browser(rng, ts + rng.random(), trace)]
            out += reversed(pair) if rng.random() < 0.33 else pair
    return out[:n]


def backend(rng: random.Random, ts: float, trace: str | None) -> dict[str, Any]:
    return {
        "timestamp": ts,
        "source": "backend",
        "model": rng.choice(MODELS),
        "status": rng.choice(["ok"] * 8 + ["error"]),
        "duration_ms": rng.choice([rng.lognormvariate(5, 1), 0.017, None]),
        "first_chunk_ms": rng.choice([rng.lognormvariate(4, 1), None]),
        "input_tokens": rng.choice([rng.randint(0, 4000), None]),
        "output_tokens": rng.choice([rng.randint(0, 900), None]),
        "trace_id": trace,
    }


def browser(rng: random.Random, ts: float, trace: str | None) -> dict[str, Any]:
    return {
        "timestamp": ts,
        "source": "browser",
        "model": "story",  # what the page called it: the backend knows the model's name
        "status": rng.choice(["ok"] * 6 + ["error", "abandoned"]),
        "duration_ms": float(rng.randint(0, 9000)),
        "first_chunk_ms": rng.choice([float(rng.randint(0, 900)), None]),
        "output_tokens": rng.choice([rng.randint(0, 900), None]),
        "trace_id": trace,
    }


Key = tuple[int, int, str, str]


def expected(conn: sqlite3.Connection, now: float) -> dict[Key, dict[str, Any]]:
    """The rollups of the stored records: each backend record is a call; a browser record is
    one only when no backend record shares its trace, and is filed under the model of the first
    backend record of its trace stored before it. The fine spans keep only the last hours."""
    rows = conn.execute("SELECT * FROM generations ORDER BY id").fetchall()
    backends: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for r in rows:
        if r["source"] != "browser" and r["trace_id"]:
            backends[r["trace_id"]].append(r)
    out: dict[Key, dict[str, Any]] = {}
    for r in rows:
        model, counted = r["model"], True
        if r["source"] == "browser" and r["trace_id"]:
            counted = not backends[r["trace_id"]]
            earlier = [b for b in backends[r["trace_id"]] if b["id"] < r["id"]]
            model = earlier[0]["model"] if earlier else model
        for span, since in kept_since(now):
            if r["timestamp"] // span < since:
                continue
            key = (span, int(r["timestamp"] // span), model, r["source"])
            entry = out.setdefault(key, {c: 0 for c in COUNTERS} | {"duration": [], "first": []})
            entry["records"] += 1
            entry["abandoned"] += r["status"] == "abandoned"
            for column, values in (("duration_ms", "duration"), ("first_chunk_ms", "first")):
                if r[column] is not None:
                    entry[values].append(r[column])
            if counted:
                entry["calls"] += 1
                entry["errors"] += r["status"] == "error"
                for side in ("input", "output"):
                    if r[f"{side}_tokens"] is not None:
                        entry[f"{side}_tokens"] += r[f"{side}_tokens"]
                        entry[f"{side}_reported"] += 1
    return out


def actual(conn: sqlite3.Connection) -> dict[Key, dict[str, Any]]:
    out: dict[Key, dict[str, Any]] = {}
    for span in SPANS:
        for r in read(conn, GENERATIONS, span, -(2**62), 2**62):
            key = (span, r.period, r.keys["model"], r.keys["source"])
            out[key] = {c: r.counts[c] for c in COUNTERS}
            for name, column in (("duration", "duration"), ("first", "first_chunk")):
                counts = r.hists[column]
                out[key][name] = counts.sparse()
                out[key][f"{name}_range"] = (counts.low, counts.high) if counts.total else None
    return out


def as_histograms(rollups: dict[Key, dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """`expected` with its value lists made histograms, to compare with `actual`."""
    out = {}
    for key, entry in rollups.items():
        out[key] = dict(entry)
        for name in ("duration", "first"):
            hist: h.Histogram = {}
            for value in entry[name]:
                h.add(hist, value)
            out[key][name] = hist
            out[key][f"{name}_range"] = (min(entry[name]), max(entry[name])) if hist else None
    return out
