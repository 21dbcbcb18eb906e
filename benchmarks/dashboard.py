"""The dashboard's pages over a store seeded with EVENTS events (direct batched SQL into the
real schema, triggers and all), EVENTS generation records and EVENTS requests (through the
writer's own inserts, rollups and all), timed through the ASGI app: the issues page, the
Generations page on its 24 h and 7 d ranges, the Usage page on 24 h.

The generation records and requests are spread over the last 6.5 days, so the 7 d range holds
every one of them and the 24 h range a seventh; a third of the generations are seen by both the
browser and the backend (one trace, two records).

    python benchmarks/dashboard.py EVENTS ISSUES STORE_DIR
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from _common import DirectASGI, emit, median

REQUESTS = 15


def seed(path: Path, events: int, issues: int) -> float:
    from inferwatch.store import _schema

    start = time.perf_counter()
    conn = _schema.connect(str(path))
    _schema.create(conn)
    now = time.time()
    rng = random.Random(7)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO issues (id, fingerprint, title, culprit, platform, environment, release,"
        " count, first_seen, last_seen, last_event_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                i,
                uuid.uuid4().hex,
                f"ValueError: lookup {i} failed for <n> users",
                f"app/module_{i % 40}.py in handler",
                "javascript" if i % 3 == 0 else "python",
                "prod" if i % 4 else "staging",
                f"1.{i % 7}.0",
                0,
                now - 30 * 86400,
                now,
                None,
            )
            for i in range(1, issues + 1)
        ],
    )
    conn.execute("COMMIT")
    sql = (
        "INSERT INTO events (event_id, issue_id, timestamp, platform, level, environment, release,"
        " request_id, trace_id, session_id, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    )
    body = json.dumps(
        {
            "exception": {"values": [{"type": "ValueError", "value": "lookup failed"}]},
            "level": "error",
        }
    )
    for at in range(0, events, 50_000):
        rows: list[tuple[Any, ...]] = []
        for n in range(at, min(events, at + 50_000)):
            issue = 1 + int(rng.paretovariate(1.2)) % issues  # a few loud issues, a long tail
            rows.append(
                (
                    uuid.UUID(int=n).hex,
                    issue,
                    now - rng.random() * 30 * 86400,
                    "python",
                    "error",
                    "prod",
                    "1.0.0",
                    f"req-{n}",
                    None,
                    f"sess-{n % 5000}",
                    body,
                )
            )
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    conn.execute(
        "UPDATE issues SET count = (SELECT count(*) FROM events WHERE issue_id = issues.id),"
        " last_event_id = (SELECT max(event_id) FROM events WHERE issue_id = issues.id)"
    )
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - start


MODELS = ("story-ngram", "story-large", "sentiment", "gpt-4o-mini", "claude-haiku")


def seed_records(path: Path, n: int) -> float:
    """`n` generation records and `n` requests, inserted as the store's writer inserts them
    (batches of 10,000, rollups kept as they go), oldest first as they would have arrived."""
    from inferwatch.store import _schema
    from inferwatch.store._tables import INSERTS

    start = time.perf_counter()
    conn = _schema.connect(str(path))
    now = time.time()
    rng = random.Random(18)
    times = sorted(now - rng.random() * 6.5 * 86400 for _ in range(n))
    for at in range(0, n, 10_000):
        chunk = times[at : at + 10_000]
        conn.execute("BEGIN IMMEDIATE")
        INSERTS["generation"](conn, generations(rng, chunk))
        INSERTS["request"](conn, [request(rng, ts) for ts in chunk])
        conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - start


def generations(rng: random.Random, times: list[float]) -> list[dict[str, Any]]:
    """Records at `times`: every third a browser record of the backend record before it."""
    out: list[dict[str, Any]] = []
    for ts in times:
        if len(out) % 3 == 2:
            out.append(
                {
                    "timestamp": ts,
                    "source": "browser",
                    "model": "story",
                    "status": "ok",
                    "duration_ms": float(round(out[-1]["duration_ms"] + rng.expovariate(1 / 80))),
                    "first_chunk_ms": float(rng.randint(80, 900)),
                    "trace_id": out[-1]["trace_id"],
                }
            )
            continue
        out.append(
            {
                "timestamp": ts,
                "source": "backend",
                "model": rng.choice(MODELS),
                "status": "error" if rng.random() < 0.02 else "ok",
                "duration_ms": rng.lognormvariate(6, 0.8),
                "first_chunk_ms": rng.lognormvariate(5, 0.6),
                "input_tokens": rng.randint(20, 4000),
                "output_tokens": rng.randint(20, 900),
                "trace_id": f"{rng.getrandbits(128):032x}",
            }
        )
    return out


def request(rng: random.Random, ts: float) -> dict[str, Any]:
    route = rng.choice(["/api/generate", "/api/classify", "/api/image", "/health", "/metrics"])
    return {
        "timestamp": ts,
        "method": "GET" if route in ("/health", "/metrics") else "POST",
        "route": route,
        "status": 500 if rng.random() < 0.01 else 200,
        "duration_ms": rng.lognormvariate(3, 1),
    }


def main() -> None:
    events, issues, folder = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    path = folder / f"events-{events}.db"
    seconds = records_s = 0.0
    if not path.exists():
        seconds = seed(path, events, issues)
        records_s = seed_records(path, events)
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse
    from inferwatch.dashboard import Access, dashboard_router

    app = FastAPI()
    app.include_router(dashboard_router(path, Access(token=None, loopback=True)))

    @app.get("/ping")
    def ping() -> HTMLResponse:  # the baseline: a page that reads nothing, served the same way
        return HTMLResponse("<!doctype html><p>ok</p>")

    client = DirectASGI(app)
    out: dict[str, Any] = {
        "events": events,
        "issues": issues,
        "seed_s": seconds,
        "records": events,
        "records_seed_s": records_s,
    }
    for name, url in (
        ("ping", "/ping"),
        ("issues", "/"),
        ("issues_all", "/?status=all&page=3"),
        ("generations", "/generations?range=24h"),
        ("generations_7d", "/generations?range=7d"),
        ("usage", "/usage?range=24h"),
    ):
        client.many("GET", url, b"", 2)
        walls = [client.many("GET", url, b"", 1)[0] / 1000 for _ in range(REQUESTS)]
        out[f"{name}_ms"] = median(walls)
    emit(out)


if __name__ == "__main__":
    main()
