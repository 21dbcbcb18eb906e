"""A store of N generation records over the last six and a half days (all in the 7d range),
written as a store of the previous version held them (the rows alone) and then opened by this
one, which rolls them up: quick to make at a million, and the rollups are the writer's own code
(`_backfill` runs `add_range`)."""

from __future__ import annotations

import random
import time
from pathlib import Path

from inferwatch.store import _schema
from inferwatch.store._backfill import backfill

MODELS = ("story-ngram", "story-large", "sentiment", "gpt-4o-mini")


def seed_generations(path: Path, n: int) -> int:
    """`n` records, oldest first; every third is the browser's record of the backend record
    before it (one trace). Returns the calls they are: the backend's records."""
    rng = random.Random(n)
    now = time.time()
    rows = []
    for i, ts in enumerate(sorted(now - rng.random() * 6.5 * 86400 for _ in range(n))):
        browser = i % 3 == 2
        rows.append(
            (
                ts,
                "browser" if browser else "backend",
                "story" if browser else MODELS[i % 4],
                "error" if i % 50 == 0 else "ok",
                rng.lognormvariate(6, 0.8),
                rng.lognormvariate(5, 0.6),
                None if browser else rng.randint(20, 4000),
                f"{i - i % 3:032x}",
            )
        )
    conn = _schema.connect(str(path))
    try:
        conn.executescript(_schema.SCHEMA)  # the tables of any version, without the rollups
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO generations (timestamp, source, model, status, duration_ms,"
            " first_chunk_ms, input_tokens, trace_id) VALUES (?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.execute("COMMIT")
        _schema.create(conn)  # this version: the rollup tables, and their backfill claimed
        backfill(conn)
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return sum(1 for r in rows if r[1] == "backend")
