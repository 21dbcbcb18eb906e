"""The latest generations as calls: a backend record and the browser's record of the same trace
are one call with two timings, what the backend took and what the user waited (see
`_generation_rollups` for why the trace says they are one).

>>> latest_calls(conn, limit=25)[0]  # doctest: +SKIP
{'seen_by': 'backend+browser', 'model': 'story-ngram', 'duration_ms': 812.0, 'waited_ms': 1840.0, ...}
"""

from __future__ import annotations

import sqlite3
from typing import Any

_IN_CHUNK = 500


def latest_calls(conn: sqlite3.Connection, *, limit: int = 25) -> list[dict[str, Any]]:
    """The newest `limit` calls, newest first."""
    newest = conn.execute(
        "SELECT * FROM generations ORDER BY timestamp DESC, id DESC LIMIT ?", (limit * 2,)
    ).fetchall()
    records = {r["id"]: r for r in newest}
    for row in _of_traces(conn, sorted({r["trace_id"] for r in newest if r["trace_id"]})):
        records.setdefault(row["id"], row)
    groups: dict[Any, list[sqlite3.Row]] = {}
    for row in sorted(records.values(), key=lambda r: r["id"]):
        groups.setdefault(row["trace_id"] or ("record", row["id"]), []).append(row)
    calls = [call for group in groups.values() for call in _calls(group)]
    calls.sort(key=lambda c: c["timestamp"], reverse=True)
    return calls[:limit]


def _of_traces(conn: sqlite3.Connection, trace_ids: list[str]) -> list[sqlite3.Row]:
    rows: list[sqlite3.Row] = []
    for start in range(0, len(trace_ids), _IN_CHUNK):
        chunk = trace_ids[start : start + _IN_CHUNK]
        sql = f"SELECT * FROM generations WHERE trace_id IN ({','.join('?' * len(chunk))})"
        rows += conn.execute(sql, chunk).fetchall()
    return rows


def _calls(group: list[sqlite3.Row]) -> list[dict[str, Any]]:
    """The calls of one trace: each backend record, the first with the browser's timing; or,
    when the backend recorded none, each browser record."""
    backend = [r for r in group if r["source"] != "browser"]
    browser = [r for r in group if r["source"] == "browser"]
    if not backend:
        return [_call(None, r) for r in browser]
    return [_call(r, browser[0] if browser and i == 0 else None) for i, r in enumerate(backend)]


def _call(backend: sqlite3.Row | None, browser: sqlite3.Row | None) -> dict[str, Any]:
    main = backend or browser
    assert main is not None
    first = browser["first_chunk_ms"] if browser and browser["first_chunk_ms"] is not None else None
    return {
        "timestamp": max(r["timestamp"] for r in (backend, browser) if r is not None),
        "seen_by": "+".join(s for s, r in (("backend", backend), ("browser", browser)) if r),
        "model": main["model"],
        "status": main["status"],
        "duration_ms": backend["duration_ms"] if backend else None,
        "waited_ms": browser["duration_ms"] if browser else None,
        "first_token_ms": first if first is not None else main["first_chunk_ms"],
        "request_id": main["request_id"] or (browser["request_id"] if browser else None),
        "error_type": main["error_type"],
    }
