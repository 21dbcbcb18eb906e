"""Latency histograms: exact counts, percentiles within the stated error of the exact ones."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from inferwatch.store import _histogram as h

QS = (0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0)


def exact(values: list[float], q: float) -> float:
    """The nearest-rank percentile of the values themselves: what the histogram estimates."""
    ordered = sorted(values)
    return ordered[h.rank(q, len(ordered)) - 1]


def histogram(values: list[float]) -> h.Histogram:
    hist: h.Histogram = {}
    for v in values:
        h.add(hist, v)
    return hist


def assert_within_bound(values: list[float]) -> None:
    for counts in (
        h.Counts.of(histogram(values)),
        h.Counts.of(histogram(values), min(values), max(values)),  # as stored: with both ends
    ):
        estimates = counts.quantiles(QS)
        for q, estimate in zip(QS, estimates, strict=True):
            truth = exact(values, q)
            assert estimate is not None
            assert abs(estimate - truth) <= h.RELATIVE_ERROR * truth + 1e-12, (q, estimate, truth)


def test_the_stated_error_is_that_of_prometheus_schema_5_buckets() -> None:
    assert abs(h.BASE - 2 ** (1 / 32)) < 1e-15
    assert round(h.RELATIVE_ERROR, 4) == 0.0108


@pytest.mark.parametrize(
    "draw",
    [
        lambda r: r.lognormvariate(5, 1.2),  # model latencies: a long right tail
        lambda r: r.uniform(0, 50),
        lambda r: r.paretovariate(1.1) * 3,  # a heavy tail
        lambda r: r.choice([0.0, 0.017, 0.4, 1.0, 1840.0, 30_000.0]),  # ties, zero, microseconds
        lambda r: float(r.randint(0, 3)),  # what the snippet sends: whole milliseconds
    ],
)
def test_percentiles_are_within_the_stated_error_of_the_exact_ones(draw: object) -> None:
    rng = random.Random(18)
    for n in (1, 2, 7, 100, 10_000):
        assert_within_bound([draw(rng) for _ in range(n)])  # type: ignore[operator]


durations = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e9))


@given(st.lists(durations, min_size=1))
def test_any_durations_from_a_nanosecond_to_eleven_days_keep_the_bound(
    values: list[float],
) -> None:
    assert_within_bound(values)


@given(st.lists(st.lists(durations, max_size=30), max_size=8))
def test_histograms_merge_by_adding_counts_exactly(parts: list[list[float]]) -> None:
    merged = h.Counts()
    for part in parts:
        merged.add(h.Counts.of(histogram(part)))
    assert merged.sparse() == histogram([v for p in parts for v in p])
    assert merged.total == sum(len(p) for p in parts)


def test_one_value_or_many_alike_read_exactly() -> None:
    for values in ([1840.0], [0.017] * 5, [12.0, 480.0]):
        counts = h.Counts.of(histogram(values), min(values), max(values))
        assert counts.quantiles((0.0, 1.0)) == [values[0], values[-1]]
    merged = h.Counts.of(histogram([3.0]), 3.0, 3.0)
    merged.add(h.Counts.of(histogram([3.0]), 3.0, 3.0))
    assert merged.quantiles((0.5,)) == [3.0]


def test_a_value_on_a_bucket_edge_belongs_to_the_lower_bucket() -> None:
    assert h.bucket(1.0) == 0 and h.bucket(2.0) == 32 and h.bucket(2.0 * 1.0001) == 33
    assert h.bucket(0.0) == h.bucket(-5.0) == h.ZERO
    assert h.Counts.of({h.ZERO: 3}).quantiles((0.5,)) == [0.0]


def test_durations_past_the_range_count_at_its_ends() -> None:
    assert h.bucket(1e-300) == h.LOWEST and h.bucket(1e300) == h.HIGHEST
    assert h.bucket(float("inf")) == h.HIGHEST


def test_an_empty_histogram_has_no_percentiles_and_none_is_not_counted() -> None:
    hist: h.Histogram = {}
    h.add(hist, None)
    assert hist == {} and h.Counts.of(hist).quantiles((0.5, 0.99)) == [None, None]


def test_a_histogram_is_stored_and_read_back_unchanged() -> None:
    hist = histogram([0.0, 0.017, 12.0, 12.1, 1e6])
    back = h.Counts.decode(h.Counts.of(hist, 0.0, 1e6).encode())
    assert back.sparse() == hist and (back.low, back.high) == (0.0, 1e6)
    assert h.Counts.decode(None).total == 0 and h.Counts.decode(b"").total == 0


def test_the_nearest_rank_needs_no_help_from_binary_fractions() -> None:
    assert h.rank(0.95, 100) == 95 and h.rank(0.5, 3) == 2 and h.rank(0.0, 5) == 1
    assert h.rank(0.29, 100) == 29 == math.ceil(29.000000000000004 - 1e-9)
