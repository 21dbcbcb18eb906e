"""How durations read on the pages: below a millisecond in µs, not as `0.0 ms`."""

from __future__ import annotations

import pytest
from inferwatch.dashboard._format import ms


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.017, "17 µs"),
        (0.9994, "999 µs"),
        (0, "0 µs"),
        (4.25, "4.2 ms"),
        (180, "180 ms"),
        (1840, "1.84 s"),
    ],
)
def test_durations_read_in_the_unit_that_shows_them(value: float, shown: str) -> None:
    assert ms(value) == shown
