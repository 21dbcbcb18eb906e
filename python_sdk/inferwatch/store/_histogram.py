"""Latency histograms that add up exactly and answer percentiles within a known error.

The buckets are Prometheus' native-histogram buckets at schema 5: bucket `i` holds the values in
`(BASE**(i-1), BASE**i]` with `BASE = 2**(1/32)`, and one more bucket holds zero (and anything
below it). A histogram is the count in each bucket it has seen, so two histograms merge by adding
counts (an hour is the sum of its minutes), and counts are exact. A percentile is found by its
exact rank (nearest rank, like `percentile` of the sorted values); only its value is estimated:
the bucket's harmonic midpoint `2 * BASE**i / (1 + BASE)`, which is within `RELATIVE_ERROR`
(1.08%) of every value the bucket can hold, so within 1.08% of the exact percentile.

>>> hist = {}
>>> for ms in (12.0, 15.0, 480.0):
...     add(hist, ms)
>>> [round(v, 1) for v in quantiles(hist, (0.5, 0.99))]
[15.2, 485.0]
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Iterable, Sequence

Histogram = dict[int, int]
"""Counts by bucket index."""

SCHEMA = 5
BASE = 2.0 ** (2.0**-SCHEMA)
RELATIVE_ERROR = (BASE - 1) / (BASE + 1)
ZERO = -(2**40)  # the bucket of zero and below: lower than any other (log2 of a double > -1075)
_PER_OCTAVE = 1 << SCHEMA
_MIDPOINT = 2 / (1 + BASE)


def bucket(value: float) -> int:
    """The bucket that holds `value`.

    >>> bucket(1.0), bucket(2.0), bucket(0.0)
    (0, 32, -1099511627776)
    """
    if value <= 0:
        return ZERO
    return math.ceil(math.log2(value) * _PER_OCTAVE)


def midpoint(index: int) -> float:
    """The value a bucket stands for: within `RELATIVE_ERROR` of everything it holds."""
    return 0.0 if index == ZERO else BASE**index * _MIDPOINT


def add(hist: Histogram, value: float | None, n: int = 1) -> None:
    """Count `value` (a None is no value, and not counted)."""
    if value is not None:
        index = bucket(value)
        hist[index] = hist.get(index, 0) + n


def merge(into: Histogram, other: Histogram) -> None:
    """Add the counts of `other` to `into`."""
    get = into.get
    for index, n in other.items():
        into[index] = get(index, 0) + n


def merged(hists: Iterable[Histogram]) -> Histogram:
    out: Histogram = {}
    for hist in hists:
        merge(out, hist)
    return out


def count(hist: Histogram) -> int:
    return sum(hist.values())


def rank(q: float, n: int) -> int:
    """The 1-based nearest rank of quantile `q` among `n` values (`q * n` rounded up, with a
    little slack so that 0.95 * 100 is 95 and not the 96 its binary fraction rounds up to)."""
    return min(n, max(1, math.ceil(q * n - 1e-9)))


def quantiles(hist: Histogram, qs: Sequence[float]) -> list[float | None]:
    """The values at quantiles `qs` (each 0 to 1), None for an empty histogram."""
    total = count(hist)
    if not total:
        return [None] * len(qs)
    wanted = sorted((rank(q, total), i) for i, q in enumerate(qs))
    out: list[float | None] = [None] * len(qs)
    seen, k = 0, 0
    for index in sorted(hist):
        seen += hist[index]
        while k < len(wanted) and wanted[k][0] <= seen:
            out[wanted[k][1]] = midpoint(index)
            k += 1
        if k == len(wanted):
            break
    return out


def encode(hist: Histogram) -> bytes:
    """The histogram as stored: (bucket, count) pairs of little-endian 64-bit integers."""
    pairs = array("q", [v for item in hist.items() for v in item])
    if sys.byteorder == "big":
        pairs.byteswap()
    return pairs.tobytes()


def decode(blob: bytes | None) -> Histogram:
    if not blob:
        return {}
    pairs = array("q")
    pairs.frombytes(blob)
    if sys.byteorder == "big":
        pairs.byteswap()
    return dict(zip(pairs[0::2], pairs[1::2], strict=True))
