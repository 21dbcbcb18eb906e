"""Every 200 means stored: whatever JSON values a sender puts in an event's fields (lone
surrogates, integers past 64 bits, NaN, nesting, odd keys), an event the collector accepted is in
the store, and the writer never drops a row ingest let through."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store

from tests.conftest import LiveServer, rows
from tests.reliability.conftest import AUTH, ENVELOPE_URL, INGEST_URL, KEY, now_ms

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text with lone surrogates and control characters, which `st.text()` leaves out. (Two drawn
# side by side, high then low, make a pair that JSON readers join into one character.)
texts = (
    st.text(max_size=12)
    | st.lists(
        st.sampled_from(["\ud800", "\udfff", "\udc00", "a", "é", "\n", "\x1b"]), max_size=6
    ).map("".join)
    | st.text(alphabet=st.characters(exclude_categories=[]), max_size=12)
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.sampled_from([2**63, -(2**63) - 1, 10**30, 2**63 - 1])
    | st.floats(allow_nan=True, allow_infinity=True)
    | texts
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=12,
)
FIELDS = [
    "message",
    "logentry",
    "level",
    "platform",
    "environment",
    "release",
    "transaction",
    "culprit",
    "tags",
    "extra",
    "contexts",
    "user",
    "request",
    "fingerprint",
    "breadcrumbs",
    "timestamp",
    "server_name",
    "modules",
    "_meta",
]


@st.composite
def sentry_events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "exception": {
            "values": [
                {
                    "type": draw(texts),
                    "value": draw(texts),
                    "stacktrace": {"frames": [{"function": draw(texts), "in_app": True}]},
                }
            ]
        },
    }
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=5)):
        event[field] = draw(values)
    return event


def encoded(value: Any, as_utf8: bool) -> bytes:
    """JSON as an SDK may send it: ASCII with `\\ud800` escapes, or UTF-8 (surrogates too, as
    Python's `surrogatepass` writes them; JSON readers that take them exist)."""
    if as_utf8:
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


def envelope(payload: bytes, event_id: str) -> bytes:
    header = json.dumps({"event_id": event_id}).encode()
    return b"\n".join([header, json.dumps({"type": "event"}).encode(), payload]) + b"\n"


@st.composite
def browser_events(draw: st.DrawFn) -> dict[str, Any]:
    ts = now_ms()
    templates: list[dict[str, Any]] = [
        {"type": "error", "ts": ts, "name": draw(texts), "message": draw(texts), "session": "s"},
        {"type": "generation", "ts": ts, "name": draw(texts), "status": "ok"},
        {"type": "console", "ts": ts, "message": draw(texts)},
        {"type": "click", "ts": ts, "selector": draw(texts), "session": draw(texts)},
        {"type": "pageview", "ts": ts, "path": draw(texts), "url": draw(texts)},
    ]
    event = draw(st.sampled_from(templates))
    extra = ["output_tokens", "attrs", "user", "release", "environment", "breadcrumbs"]
    for field in draw(st.lists(st.sampled_from(extra), max_size=3)):
        event[field] = draw(values)
    if draw(st.booleans()):
        event["output_tokens"] = draw(st.integers(min_value=0, max_value=2**80))
    return event


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    store = Store(store_path)
    yield store
    store.close()


@pytest.fixture
def server(store: Store) -> Iterator[httpx.Client]:
    collector = Collector(store, CollectorConfig(key=KEY, rate_per_second=1e9, rate_burst=10**9))
    with (
        LiveServer(create_app(collector)) as live,
        httpx.Client(base_url=live.url, timeout=30) as client,
    ):
        yield client
    collector.close()


def test_every_event_a_sentry_route_answers_200_for_is_in_the_store(
    server: httpx.Client, store: Store, store_path: Path
) -> None:
    accepted: list[str] = []

    @SETTINGS
    @given(event=sentry_events(), as_utf8=st.booleans(), legacy=st.booleans())
    def send(event: dict[str, Any], as_utf8: bool, legacy: bool) -> None:
        payload = encoded(event, as_utf8)
        if legacy:
            response = server.post("/api/1/store/", content=payload, headers=AUTH)
        else:
            response = server.post(
                ENVELOPE_URL, content=envelope(payload, event["event_id"]), headers=AUTH
            )
        assert response.status_code < 500, response.text
        if response.status_code == 200:
            assert response.json() == {"id": event["event_id"]}
            accepted.append(event["event_id"])

    send()
    assert store.flush(10)
    assert store.stats()["dropped"] == {}
    ids = {r["event_id"] for r in rows(store_path, "SELECT event_id FROM events")}
    assert ids == set(accepted) and len(accepted) > 100  # repaired rather than refused


def test_every_browser_event_counted_accepted_is_in_the_store(
    server: httpx.Client, store: Store, store_path: Path
) -> None:
    totals = {"accepted": 0, "invalid": 0}

    @SETTINGS
    @given(events=st.lists(browser_events(), min_size=1, max_size=4), as_utf8=st.booleans())
    def send(events: list[dict[str, Any]], as_utf8: bool) -> None:
        response = server.post(INGEST_URL, content=encoded({"events": events}, as_utf8))
        assert response.status_code < 500, response.text
        if response.status_code == 200:
            body = response.json()
            totals["accepted"] += body["accepted"]
            totals["invalid"] += body["invalid"]

    send()
    assert store.flush(10)
    assert store.stats()["dropped"] == {}  # nothing counted accepted was dropped by the writer
    stored = sum(
        rows(store_path, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
        for table in ("events", "generations", "browser_activity")
    )
    # An error sent twice is stored once (its id is its content's hash): at most as many rows.
    assert 0 < stored <= totals["accepted"] and totals["invalid"] > 0
