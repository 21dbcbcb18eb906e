"""The ranges of the Generations and Usage pages, and the range a page opens on."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from inferwatch.dashboard._stats import RANGES, Window, opening_range
from inferwatch.store import _schema

NOW = 1_800_000_000.0 + 1234.5


def test_a_window_ends_with_the_bucket_that_holds_now() -> None:
    window = Window.named("24h", now=7200.0 * 10 + 5)
    assert window.buckets == 24 and window.step == 3600
    assert window.first_period == (7200 * 10) // 3600 - 23
    assert window.last_period == (7200 * 10) // 3600
    assert Window.named("nonsense", now=0).name == "24h"


def test_every_range_is_cut_into_buckets_of_one_rollup_period() -> None:
    for name, (step, buckets) in RANGES.items():
        window = Window.named(name, NOW)
        assert window.start % step == 0 and len(window.labels()) == buckets
        assert window.start <= NOW < window.start + step * buckets


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    conn = _schema.connect(":memory:")
    _schema.create(conn)
    yield conn
    conn.close()


def record(conn: sqlite3.Connection, ago: float) -> None:
    conn.execute(
        "INSERT INTO generations (timestamp, model, status) VALUES (?, 'm', 'ok')", (NOW - ago,)
    )


@pytest.mark.parametrize(
    ("ages", "opens_on"),
    [
        ([], "24h"),
        ([30, 300], "15m"),  # an app started five minutes ago fills the short range
        ([30, 40 * 60], "1h"),
        ([30, 5 * 3600], "24h"),
        ([3 * 86400], "7d"),  # nothing in the last day, something in the week
        ([60, 30 * 86400], "15m"),  # what is older than a day does not widen the range
    ],
)
def test_a_page_opens_on_the_smallest_range_that_holds_the_last_day(
    conn: sqlite3.Connection, ages: list[float], opens_on: str
) -> None:
    for ago in ages:
        record(conn, ago)
    assert opening_range(conn, ["generations"], NOW) == opens_on


def test_the_opening_range_holds_the_data_of_every_table_it_is_given(
    conn: sqlite3.Connection,
) -> None:
    conn.execute(
        "INSERT INTO requests (timestamp, method, route, status, duration_ms)"
        " VALUES (?, 'GET', '/', 200, 1.0)",
        (NOW - 40 * 60,),
    )
    conn.execute("INSERT INTO usage (timestamp, endpoint) VALUES (?, '/p')", (NOW - 60,))
    assert opening_range(conn, ["usage"], NOW) == "15m"
    assert opening_range(conn, ["requests", "usage"], NOW) == "1h"
