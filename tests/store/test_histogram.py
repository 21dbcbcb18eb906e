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
    estimates = h.quantiles(histogram(values), QS)
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


@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1))
def test_any_values_keep_the_bound(values: list[float]) -> None:
    assert_within_bound(values)


def test_histograms_merge_by_adding_counts_exactly() -> None:
    rng = random.Random(7)
    parts = [[rng.lognormvariate(3, 1) for _ in range(500)] for _ in range(24)]
    merged = h.merged(histogram(p) for p in parts)
    assert merged == histogram([v for p in parts for v in p])
    assert h.count(merged) == 24 * 500


def test_a_value_on_a_bucket_edge_belongs_to_the_lower_bucket() -> None:
    assert h.bucket(1.0) == 0 and h.bucket(2.0) == 32 and h.bucket(2.0 * 1.0001) == 33
    assert h.bucket(0.0) == h.bucket(-5.0) == h.ZERO
    assert h.quantiles({h.ZERO: 3}, (0.5,)) == [0.0]


def test_an_empty_histogram_has_no_percentiles_and_none_is_not_counted() -> None:
    hist: h.Histogram = {}
    h.add(hist, None)
    assert hist == {} and h.quantiles(hist, (0.5, 0.99)) == [None, None]


def test_a_histogram_is_stored_and_read_back_unchanged() -> None:
    hist = histogram([0.0, 0.017, 12.0, 12.1, 1e6])
    assert h.decode(h.encode(hist)) == hist
    assert h.decode(None) == {} and h.decode(b"") == {}


def test_the_nearest_rank_needs_no_help_from_binary_fractions() -> None:
    assert h.rank(0.95, 100) == 95 and h.rank(0.5, 3) == 2 and h.rank(0.0, 5) == 1
    assert h.rank(0.29, 100) == 29 == math.ceil(29.000000000000004 - 1e-9)
