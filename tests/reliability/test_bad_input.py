"""Bad input never reaches a 5xx: malformed batches and envelopes get a 4xx, or a 2xx with the
invalid part counted; the collector stays up and stores valid events sent afterwards."""

from __future__ import annotations

import gzip
import json
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store, list_issues, open_readonly

from tests.conftest import LiveServer, rows
from tests.reliability.conftest import (
    AUTH,
    ENVELOPE_URL,
    INGEST_URL,
    KEY,
    batch,
    browser_error,
    envelope,
    now_ms,
    sentry_event,
)

DSN = "https://abc123def456@o1.ingest.example.com/42"
SENTRY = "https://o1.ingest.example.com/api/42/envelope/"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=40)  # includes lone surrogates, which JSON can carry as \ud800
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=25,
)
huge = st.sampled_from(["x" * 200_000, "é" * 60_000, "\ud800" * 1000])


def deeply_nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"a": [value]}
    return value


odd_values = json_values | huge | st.integers(10, 3000).map(deeply_nested)


TS = round(now_ms())  # one value, so that every run draws the same bodies
GOOD_ERROR = browser_error(
    "render failed", ts=TS, breadcrumbs=[{"type": "click", "ts": TS, "selector": "a"}]
)


def templates() -> list[dict[str, Any]]:
    ts = TS
    return [
        {"type": "click", "ts": ts, "session": "s", "selector": "button#send"},
        {"type": "pageview", "ts": ts, "session": "s", "path": "/chat"},
        {"type": "console", "ts": ts, "level": "warn", "message": "slow"},
        GOOD_ERROR,
        {
            "type": "generation",
            "ts": ts,
            "name": "chat",
            "status": "ok",
            "duration_ms": 10,
            "attrs": {"model": "m"},
        },
    ]


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    event = dict(draw(st.sampled_from(templates())))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from([*event, "type", "ts", "extra", "breadcrumbs", "user"]))
        if draw(st.booleans()):
            event.pop(key, None)
        else:
            event[key] = draw(odd_values)
    return event


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["batch", "batch", "batch", "any", "events-not-list", "many"]))
    if shape == "batch":
        body: Any = {"events": draw(st.lists(mutated_events() | json_values, max_size=6))}
    elif shape == "events-not-list":
        body = {"events": draw(json_values)}
    elif shape == "many":
        body = {"events": [templates()[0]] * draw(st.integers(400, 700))}
    else:
        body = draw(json_values)
    try:
        return json.dumps(body, allow_nan=True).encode()
    except (ValueError, RecursionError):
        return b"{}"


@st.composite
def damaged(draw: st.DrawFn, bodies: st.SearchStrategy[bytes]) -> bytes:
    body = draw(bodies)
    how = draw(st.sampled_from(["as is", "as is", "truncated", "bad utf-8", "garbage", "gzip"]))
    if how == "truncated" and body:
        return body[: draw(st.integers(0, len(body) - 1))]
    if how == "bad utf-8":
        at = draw(st.integers(0, len(body)))
        return (
            body[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]))
            + body[at:]
        )
    if how == "garbage":
        return draw(st.binary(max_size=300))
    if how == "gzip":
        return gzip.compress(body)[: draw(st.integers(5, 40))]
    return body


content_types = st.sampled_from(
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "text/plain; charset=utf-16",
        "",
    ]
)
encodings = st.sampled_from(
    [None, None, None, "gzip", "br", "deflate", "gzip, br", "zstd", "identity"]
)


@pytest.fixture
def collector(store_path: Path) -> Iterator[Collector]:
    """A collector that also forwards to Sentry (mocked), so forwarding meets the bad input too."""
    with respx.mock(assert_all_called=False) as sentry:
        sentry.post(SENTRY).mock(return_value=httpx.Response(200, json={}))
        sentry.route(host="127.0.0.1").pass_through()  # the test's own requests to the server
        store = Store(store_path)
        config = CollectorConfig(key=KEY, rate_per_second=1e9, rate_burst=10**9, dsn=DSN)
        collector = Collector(store, config)
        yield collector
        assert collector.forwarder is not None
        assert collector.forwarder.flush(30)
        assert collector.forwarder.stats()["dropped"] == {}
        collector.close()
        store.close()


@pytest.fixture
def server(collector: Collector) -> Iterator[httpx.Client]:
    with (
        LiveServer(create_app(collector)) as live,
        httpx.Client(base_url=live.url, timeout=30) as client,
    ):
        yield client


def check_answer(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])


def stored_messages(store_path: Path) -> list[str]:
    out = []
    for r in rows(store_path, "SELECT data FROM events"):
        exception = json.loads(r["data"]).get("exception")
        values = exception.get("values") if isinstance(exception, dict) else None
        # Sentry's normalizer leaves a null where a value was not an exception
        last = values[-1] if isinstance(values, list) and values else None
        if isinstance(last, dict):
            out.append(str(last.get("value")))
    return out


def test_malformed_browser_batches_get_a_4xx_or_have_their_invalid_events_counted(
    server: httpx.Client, collector: Collector, store_path: Path
) -> None:
    @FUZZ
    @given(body=damaged(json_bodies()), content_type=content_types, encoding=encodings)
    def send(body: bytes, content_type: str, encoding: str | None) -> None:
        headers = {"content-type": content_type}
        if encoding:
            headers["content-encoding"] = encoding
        response = server.post(INGEST_URL, content=body, headers=headers)
        check_answer(response)
        if response.status_code == 200:
            answer = response.json()
            events = json.loads(body)["events"]
            assert answer["accepted"] + answer["invalid"] == len(events)

    send()
    good = browser_error("sent after the storm")
    response = server.post(INGEST_URL, content=batch(good), headers={"content-type": "text/plain"})
    assert response.json() == {"accepted": 1, "invalid": 0, "errors": []}
    assert collector.store.flush(10)
    assert "sent after the storm" in stored_messages(store_path)
    assert collector.store.stats()["dropped"] == {}


@st.composite
def item_headers(draw: st.DrawFn, payload: bytes) -> bytes:
    headers: dict[str, Any] = {
        "type": draw(
            st.sampled_from(["event", "event", "transaction", "attachment", "x"])
            | st.text(max_size=5)
        )
    }
    length = draw(st.sampled_from(["right", "right", "none", "odd"]))
    if length == "right":
        headers["length"] = len(payload)
    elif length == "odd":
        headers["length"] = draw(scalars | st.integers(-5, 10**9))
    if draw(st.booleans()):
        return json.dumps(headers).encode()
    return draw(st.sampled_from([b"", b"[]", b"not json", b'{"type":']))


@st.composite
def event_payloads(draw: st.DrawFn) -> bytes:
    # No event_id: the collector gives each a new one, so none is skipped as a duplicate.
    event: Any = {k: v for k, v in sentry_event("fuzzed").items() if k != "event_id"}
    event["timestamp"] = TS / 1000
    for _ in range(draw(st.integers(0, 4))):
        key = draw(
            st.sampled_from(
                [
                    "event_id",
                    "timestamp",
                    "level",
                    "exception",
                    "message",
                    "logentry",
                    "tags",
                    "contexts",
                    "fingerprint",
                    "platform",
                    "environment",
                    "release",
                    "breadcrumbs",
                    "request",
                    "user",
                    "extra",
                    "sdk",
                ]
            )
        )
        event[key] = draw(odd_values)
    if draw(st.integers(0, 9)) == 0:
        event = draw(json_values)
    try:
        return json.dumps(event, allow_nan=True).encode()
    except (ValueError, RecursionError):
        return b"{}"


@st.composite
def envelopes(draw: st.DrawFn) -> bytes:
    header: Any = draw(
        st.sampled_from([{}, {"event_id": "not-a-uuid"}]) | st.just({"dsn": "x"}) | json_values
    )
    lines = [json.dumps(header, allow_nan=True).encode()]
    for _ in range(draw(st.integers(0, 4))):
        payload = draw(event_payloads() | st.binary(max_size=60))
        lines += [draw(item_headers(payload)), payload]
    return b"\n".join(lines) + draw(st.sampled_from([b"\n", b"", b"\n\n\n"]))


def compress(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "br":
        return brotli.compress(body)
    return body


def test_malformed_envelopes_get_a_4xx_or_have_their_invalid_items_counted(
    server: httpx.Client, store_path: Path, collector: Collector
) -> None:
    @FUZZ
    @given(
        body=damaged(envelopes()),
        encoding=st.sampled_from([None, None, "gzip", "deflate", "br", "zstd"]),
        truncate=st.booleans(),
        project=st.sampled_from(["1", "1", "abc", "0" * 30, "%00"]),
    )
    def send(body: bytes, encoding: str | None, truncate: bool, project: str) -> None:
        data = compress(body, encoding)
        if encoding and truncate:
            data = data[: len(data) // 2]
        headers = {**AUTH, "content-type": "application/x-sentry-envelope"}
        if encoding:
            headers["content-encoding"] = encoding
        response = server.post(f"/api/{project}/envelope/", content=data, headers=headers)
        check_answer(response)
        if response.status_code == 200:
            assert "id" in response.json()

    send()
    good = sentry_event("sent after the storm")
    response = server.post(ENVELOPE_URL, content=envelope(good), headers=AUTH)
    assert response.status_code == 200 and response.json() == {"id": good["event_id"]}
    assert collector.store.flush(10)
    assert "sent after the storm" in stored_messages(store_path)
    assert collector.store.stats()["dropped"] == {}  # what was answered 200 was stored


def test_malformed_legacy_store_bodies_never_get_a_5xx(
    server: httpx.Client, store_path: Path, collector: Collector
) -> None:
    @settings(FUZZ, max_examples=60)
    @given(body=damaged(event_payloads()))
    def send(body: bytes) -> None:
        check_answer(server.post("/api/1/store/", content=body, headers=AUTH))

    send()
    good = sentry_event("legacy after the storm")
    response = server.post("/api/1/store/", content=json.dumps(good), headers=AUTH)
    assert response.status_code == 200
    assert collector.store.flush(10)
    assert "legacy after the storm" in stored_messages(store_path)
    assert collector.store.stats()["dropped"] == {}


@pytest.mark.parametrize("timestamp", [1e300, -1e300, float("nan"), float("inf"), "year 3000"])
def test_an_absurd_timestamp_is_stored_as_the_arrival_time_and_every_listing_still_reads(
    server: httpx.Client, store_path: Path, collector: Collector, timestamp: Any
) -> None:
    event = {**sentry_event("from a broken clock"), "timestamp": timestamp}
    response = server.post(ENVELOPE_URL, content=envelope(event), headers=AUTH)
    assert response.status_code == 200
    assert collector.store.flush(10)
    with open_readonly(store_path) as conn:
        [issue] = list_issues(conn)
    assert issue["first_seen"].startswith(time.strftime("%Y-"))
