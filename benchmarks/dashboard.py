"""The dashboard's issues page over a store seeded with EVENTS events (direct batched SQL into
the real schema, triggers and all), timed through the ASGI app.

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


def main() -> None:
    events, issues, folder = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    path = folder / f"events-{events}.db"
    seconds = seed(path, events, issues) if not path.exists() else 0.0
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse
    from inferwatch.dashboard import Access, dashboard_router

    app = FastAPI()
    app.include_router(dashboard_router(path, Access(token=None, loopback=True)))

    @app.get("/ping")
    def ping() -> HTMLResponse:  # the baseline: a page that reads nothing, served the same way
        return HTMLResponse("<!doctype html><p>ok</p>")

    client = DirectASGI(app)
    out: dict[str, Any] = {"events": events, "issues": issues, "seed_s": seconds}
    for name, url in (
        ("ping", "/ping"),
        ("issues", "/"),
        ("issues_all", "/?status=all&page=3"),
    ):
        client.many("GET", url, b"", 2)
        walls = [client.many("GET", url, b"", 1)[0] / 1000 for _ in range(REQUESTS)]
        out[f"{name}_ms"] = median(walls)
    emit(out)


if __name__ == "__main__":
    main()
