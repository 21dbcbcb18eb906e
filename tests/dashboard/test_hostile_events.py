"""Stored events are shaped by whoever holds the public collector key: no shape breaks a page."""

from __future__ import annotations

import time
from typing import Any

import httpx
from inferwatch.store import Store

from tests.conftest import rows
from tests.dashboard.conftest import Running

HTML = {"Accept": "text/html"}
REQUEST, SESSION = "req-victim", "sess-victim"


def _nested(key: str, depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {key: {"a": value}} if key == "arguments" else {key: value}
    return value


NESTED = _nested("x", 900)

# Each is merged into an event that shares the victim's request and session, so the victim's
# page joins it into its timeline too.
SHAPES: list[dict[str, Any]] = [
    {"contexts": {"model": {"name": "m", "duration_ms": "slow", "first_chunk_ms": [1]}}},
    {"contexts": {"model": {"name": "m", "usage": "x", "truncated": True, "notes": ["x"]}}},
    {"contexts": {"model": {"usage": {"input_tokens": "many", "output_tokens": {}}}}},
    {"contexts": {"model": {"notes": [{"at_ms": "soon", "stage": 1}, 5], "error": "bad"}}},
    {"contexts": {"model": {"truncated": {"original_bytes": "big"}, "notes": "x"}}},
    {"contexts": {"model": {"input": {"keys": 5, "arguments": "a"}, "output": {"keys": {}}}}},
    {"contexts": {"model": {"input": NESTED, "duration_ms": float("inf")}}},
    {"contexts": {"model": {"input": _nested("arguments", 300)}}},
    {"contexts": {"model": "x", "trace": "y", "other": 3}},
    {"contexts": "x"},
    {"breadcrumbs": "x"},
    {"breadcrumbs": {"values": "x"}},
    {"breadcrumbs": {"values": [1, {"timestamp": time.time(), "data": NESTED}]}},
    {"exception": {"values": "zzz"}},
    {"exception": "zzz"},
    {"exception": {"values": [1, "x", {"stacktrace": {"frames": 3}}]}},
    {
        "exception": {
            "values": [{"stacktrace": {"frames": [{"context_line": "x", "pre_context": 7}]}}]
        }
    },
    {"exception": {"values": [{"stacktrace": "s", "mechanism": "m"}]}},
    {"logentry": "x", "request": "x", "extra": NESTED, "user": 1, "sdk": [1], "tags": ["x"]},
]


def _event(n: int, fields: dict[str, Any], now: float) -> dict[str, Any]:
    event = {
        "event_id": f"{n:032x}",
        "timestamp": now - n,
        "platform": "javascript" if n % 2 else "python",
        "message": f"shape {n}",
        "tags": {"request_id": REQUEST, "session_id": SESSION},
        "contexts": {"trace": {"trace_id": "ab" * 16}},
    }
    return {**event, **fields}


def _seed(running: Running) -> None:
    now = time.time()
    victim = _event(0, {"message": "the victim's own error"}, now)
    poisoned = [_event(n, fields, now) for n, fields in enumerate(SHAPES, 1)]
    store = Store(running.store)
    try:
        assert store.write([("event", e) for e in [victim, *poisoned]])
    finally:
        store.close()


def test_events_of_any_shape_leave_every_page_readable(running: Running) -> None:
    _seed(running)
    events = rows(running.store, "SELECT issue_id, event_id FROM events")
    assert len(events) == len(SHAPES) + 1
    paths = ["/?status=all", "/generations", "/usage"]
    paths += [f"/issues/{r['issue_id']}?event={r['event_id']}" for r in events]
    paths += sorted({f"/issues/{r['issue_id']}" for r in events})
    for path in paths:
        response = httpx.get(running.url + path, headers=HTML)
        assert response.status_code == 200, (path, response.text[-500:])


def test_a_poisoned_event_in_the_same_request_does_not_hide_the_victims_error(
    running: Running,
) -> None:
    _seed(running)
    victim = rows(running.store, "SELECT issue_id FROM events WHERE event_id = ?", f"{0:032x}")
    html = httpx.get(f"{running.url}/issues/{victim[0]['issue_id']}", headers=HTML).text
    timeline = html[html.index('id="timeline"') :]
    assert "the victim&#39;s own error" in html
    assert "shape 1" in timeline  # the poisoned neighbour is still listed, as text
