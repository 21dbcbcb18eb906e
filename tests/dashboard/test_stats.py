"""The numbers behind the Generations page: windows, percentiles, the histogram."""

from __future__ import annotations

from inferwatch.dashboard._stats import Window, _histogram, percentile


def test_percentiles_are_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.95) == 95
    assert percentile(values, 0.99) == 99
    assert percentile([], 0.5) is None


def test_a_window_ends_with_the_bucket_that_holds_now() -> None:
    window = Window.named("24h", now=7200.0 * 10 + 5)
    assert window.buckets == 24 and window.step == 3600
    assert window.index(7200.0 * 10 + 5) == 23
    assert window.index(window.start) == 0
    assert Window.named("nonsense", now=0).name == "24h"


def test_the_histogram_puts_each_duration_under_its_upper_edge() -> None:
    bins = dict(_histogram([10, 60, 60, 1500, 45_000, None]))
    assert bins["50ms"] == 1 and bins["100ms"] == 2 and bins["2s"] == 1 and bins["30s+"] == 1
