"""`unstorable` says, before the collector's 200, exactly which rows the writer would drop."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inferwatch.store import Store
from inferwatch.store._storable import unstorable

odd_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["\ud800", "a\udfffb", "ok", "", "\x00", "é"])
)
odd_values = st.recursive(
    odd_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
EVENT_FIELDS = [
    "timestamp",
    "platform",
    "level",
    "environment",
    "release",
    "culprit",
    "transaction",
    "message",
    "tags",
    "contexts",
    "exception",
    "fingerprint",
    "logentry",
]
GENERATION_FIELDS = [
    "timestamp",
    "source",
    "model",
    "status",
    "duration_ms",
    "input_tokens",
    "output_tokens",
    "request_id",
    "session_id",
    "trace_id",
]


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "exception": {"values": [{"type": draw(odd_scalars), "value": draw(odd_scalars)}]},
    }
    if draw(st.booleans()):
        frame = {"function": draw(odd_scalars), "module": draw(odd_scalars), "in_app": True}
        event["exception"]["values"][0]["stacktrace"] = {"frames": [frame]}
    if draw(st.booleans()):
        event["tags"] = {"request_id": draw(odd_scalars), "session_id": draw(odd_scalars)}
    for key in draw(st.lists(st.sampled_from(EVENT_FIELDS), max_size=4)):
        event[key] = draw(odd_values)
    return event


@st.composite
def generations(draw: st.DrawFn) -> dict[str, Any]:
    row: dict[str, Any] = {"source": "browser", "model": "m", "status": "ok"}
    for key in draw(st.lists(st.sampled_from(GENERATION_FIELDS), max_size=3)):
        row[key] = draw(odd_scalars)
    return row


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    store = Store(store_path)
    yield store
    store.close()


def stored(store: Store, kind: str, data: dict[str, Any]) -> bool:
    before = store.stats()["dropped"].get("invalid", 0)
    assert store.write([(kind, data)])
    return store.stats()["dropped"].get("invalid", 0) == before


def test_the_writer_stores_a_row_exactly_when_it_is_not_unstorable(store: Store) -> None:
    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        row=events().map(lambda e: ("event", e)) | generations().map(lambda g: ("generation", g))
    )
    def check(row: tuple[str, dict[str, Any]]) -> None:
        kind, data = row
        assert (unstorable(kind, data) is None) == stored(store, kind, data), data

    check()


@pytest.mark.parametrize(
    ("kind", "data", "why"),
    [
        ("event", {"event_id": "a", "exception": {"values": [{"type": "E\ud800"}]}}, "surrogate"),
        ("event", {"event_id": "a", "release": "\udfff"}, "surrogate"),
        ("event", {"event_id": "a", "timestamp": 10**400}, "cannot be stored"),
        ("event", {"exception": {}}, "no event_id"),
        (
            "generation",
            {"source": "s", "model": "m", "status": "ok", "output_tokens": 10**30},
            "64 bits",
        ),
        ("generation", {"source": "s", "model": "m", "status": None}, "NOT NULL"),
        (
            "request",
            {"method": "GET", "route": "/", "status": 200, "duration_ms": float("nan")},
            "NOT NULL",
        ),
        ("generation", {"source": "s", "model": "m\ud800", "status": "ok"}, "surrogate"),
        ("activity", {"type": "click", "session_id": {1, 2}}, "set"),
        ("nothing", {}, "unknown row kind"),
    ],
)
def test_what_the_writer_would_drop_is_said_in_a_sentence(
    kind: str, data: dict[str, Any], why: str
) -> None:
    problem = unstorable(kind, data)
    assert problem is not None and why in problem


def test_ordinary_rows_are_storable() -> None:
    event = {"event_id": "a", "message": "café", "timestamp": 1.5, "tags": {"request_id": 7}}
    assert unstorable("event", event) is None
    assert (
        unstorable(
            "generation", {"source": "s", "model": "m", "status": "ok", "output_tokens": 2**63 - 1}
        )
        is None
    )
