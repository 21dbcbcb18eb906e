"""How numbers read on the pages: "—" where nothing was recorded, durations below a millisecond
in µs, not as `0.0 ms`."""

from __future__ import annotations

import pytest
from inferwatch.dashboard._format import ms, num, pct


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.017, "17 µs"),  # a model call that took microseconds, not "0.0 ms"
        (0.0004, "0.4 µs"),
        (0.5, "500 µs"),
        (0.9994, "999 µs"),
        (0, "0 µs"),
        (4.25, "4.2 ms"),
        (180, "180 ms"),
        (999.7, "1.00 s"),  # not "1000 ms"
        (1840, "1.84 s"),
    ],
)
def test_durations_read_in_the_unit_that_shows_them(value: float, shown: str) -> None:
    assert ms(value) == shown


@pytest.mark.parametrize("absent", [None, "slow", float("nan"), [1]])
def test_what_was_not_recorded_reads_as_a_dash_not_as_zero(absent: object) -> None:
    assert ms(absent) == num(absent) == pct(absent) == "—"
    assert num(0) == "0" and pct(0) == "0.0%"  # a zero that was recorded stays a zero
