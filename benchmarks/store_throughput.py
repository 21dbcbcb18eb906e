"""Store throughput: ~5 KB events a second through `Store.add`, against raw batched `sqlite3`
inserts of the same rows into the same schema (the ceiling), in one process.

    python benchmarks/store_throughput.py api|raw EVENTS
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _common import emit


def event(i: int) -> dict[str, Any]:
    """About 5 KB: a 20-frame stack, a model context, breadcrumbs; 50 different issues."""
    frames = [
        {
            "filename": f"app/module_{f}.py",
            "function": f"handler_{f}",
            "lineno": 10 + f,
            "in_app": f > 10,
            "context_line": f"    result = step_{f}(payload, options)",
        }
        for f in range(20)
    ]
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "python",
        "level": "error",
        "environment": "prod",
        "release": "1.4.2",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"kind {i % 50}: no choices",
                    "stacktrace": {"frames": frames},
                }
            ]
        },
        "contexts": {
            "model": {
                "name": "chat",
                "status": "error",
                "duration_ms": 812.5,
                "input": {
                    "type": "text",
                    "length": 1200,
                    "preview": "Summarise: " + "lorem ipsum " * 100,
                },
            },
            "trace": {"trace_id": uuid.uuid4().hex},
        },
        "breadcrumbs": {
            "values": [{"category": "http", "message": f"GET /api/{b}"} for b in range(10)]
        },
        "tags": {"request_id": uuid.uuid4().hex, "model": "chat"},
    }


def through_api(path: Path, events: list[dict[str, Any]]) -> float:
    from inferwatch.store import Store

    store = Store(path, queue_size=len(events) + 10)
    assert store.flush(10)  # the schema exists before the clock starts
    start = time.perf_counter()
    for e in events:
        store.add("event", e)
    assert store.flush(300)
    elapsed = time.perf_counter() - start
    assert store.stats()["stored"] == len(events), store.stats()
    store.close()
    return elapsed


def raw(path: Path, events: list[dict[str, Any]]) -> float:
    from inferwatch import _json  # the store's own encoder: the ceiling is for the writing
    from inferwatch.store import _schema

    conn = _schema.connect(str(path))
    _schema.create(conn)
    conn.execute(
        "INSERT INTO issues (id, fingerprint, title, first_seen, last_seen) VALUES (1, 'f', 't', 0, 0)"
    )
    sql = (
        "INSERT INTO events (event_id, issue_id, timestamp, platform, level, environment, release,"
        " request_id, trace_id, session_id, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    )
    start = time.perf_counter()
    for at in range(0, len(events), 500):
        rows = [
            (
                e["event_id"],
                1,
                e["timestamp"],
                e["platform"],
                e["level"],
                e["environment"],
                e["release"],
                e["tags"]["request_id"],
                e["contexts"]["trace"]["trace_id"],
                None,
                _json.dumps(e),
            )
            for e in events[at : at + 500]
        ]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    mode, n = sys.argv[1], int(sys.argv[2])
    events = [event(i) for i in range(n)]
    size = sum(len(json.dumps(e)) for e in events) / n
    with tempfile.TemporaryDirectory() as tmp:
        elapsed = (through_api if mode == "api" else raw)(Path(tmp) / "events.db", events)
    emit({"mode": mode, "events_per_s": n / elapsed, "event_bytes": size})


if __name__ == "__main__":
    main()
