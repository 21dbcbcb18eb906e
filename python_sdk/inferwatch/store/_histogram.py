"""Latency histograms that add up exactly and answer percentiles within a known error.

The buckets are Prometheus' native-histogram buckets at schema 5: bucket `i` holds the values in
`(BASE**(i-1), BASE**i]` with `BASE = 2**(1/32)`, and one more bucket holds zero (and anything
below it). A histogram is the count in each bucket it has seen, so two histograms merge by adding
counts (an hour is the sum of its minutes), and counts are exact. A percentile is found by its
exact rank (nearest rank, like reading the sorted values); only its value is estimated: the
bucket's harmonic midpoint `2 * BASE**i / (1 + BASE)`, which is within `RELATIVE_ERROR` (1.08%)
of every value the bucket holds, so within 1.08% of the exact percentile. The smallest and the
largest value are kept too, and no estimate goes past them: one call, or many that took the
same time, read exactly. Durations are in milliseconds; below a nanosecond (1e-6 ms) they count
as a nanosecond, beyond 1e9 ms (11.6 days) as 1e9 ms.

A batch counts its values in a `Histogram` (a dict, by bucket); what is stored and read back is
`Counts`, the same counts in a list from the lowest bucket to the highest, which merge and
answer percentiles at the speed of C loops (`map`, `accumulate`, `bisect`): a page merges
hundreds of them.

>>> hist = {}
>>> for ms in (12.0, 15.0, 480.0):
...     add(hist, ms)
>>> [round(v, 1) for v in Counts.of(hist, 12.0, 480.0).quantiles((0.5, 0.99))]
[15.2, 480.0]
"""

from __future__ import annotations

import bisect
import math
import operator
import struct
import sys
from array import array
from collections.abc import Sequence
from itertools import accumulate

Histogram = dict[int, int]
"""Counts by bucket index, as a batch gathers them."""

SCHEMA = 5
BASE = 2.0 ** (2.0**-SCHEMA)
RELATIVE_ERROR = (BASE - 1) / (BASE + 1)
_PER_OCTAVE = 1 << SCHEMA
_MIDPOINT = 2 / (1 + BASE)
LOWEST = math.ceil(math.log2(1e-6) * _PER_OCTAVE)  # a nanosecond
HIGHEST = math.ceil(math.log2(1e9) * _PER_OCTAVE)
ZERO = LOWEST - 1  # zero and below


def bucket(value: float) -> int:
    """The bucket that holds `value`.

    >>> bucket(1.0), bucket(2.0), bucket(2.01), bucket(0.0) == ZERO
    (0, 32, 33, True)
    """
    if not value > 0:  # also NaN
        return ZERO
    if value >= 1e9:  # also infinity
        return HIGHEST
    return max(LOWEST, math.ceil(math.log2(value) * _PER_OCTAVE))


def midpoint(index: int) -> float:
    """The value a bucket stands for: within `RELATIVE_ERROR` of everything it holds."""
    return 0.0 if index == ZERO else BASE**index * _MIDPOINT


def add(hist: Histogram, value: float | None) -> None:
    """Count `value` (None is no value, and not counted)."""
    if value is not None:
        index = bucket(value)
        hist[index] = hist.get(index, 0) + 1


def rank(q: float, n: int) -> int:
    """The 1-based nearest rank of quantile `q` among `n` values (`q * n` rounded up, with a
    little slack so that 0.95 * 100 is 95 and not the 96 its binary fraction rounds up to)."""
    return min(n, max(1, math.ceil(q * n - 1e-9)))


_HEADER = struct.Struct("<qqdd")  # zero's count, offset, smallest and largest value


class Counts:
    """A histogram as stored: the zero bucket's count, then the counts of the buckets from
    `offset` on, and the smallest and largest value counted."""

    __slots__ = ("counts", "high", "low", "offset", "zero")

    def __init__(
        self,
        zero: int = 0,
        offset: int = 0,
        counts: list[int] | None = None,
        low: float = math.inf,
        high: float = -math.inf,
    ) -> None:
        self.zero, self.offset, self.counts = zero, offset, counts or []
        self.low, self.high = low, high

    @classmethod
    def of(cls, hist: Histogram, low: float = math.inf, high: float = -math.inf) -> Counts:
        """The counts of `hist`, whose values went from `low` to `high`."""
        positive = [i for i in hist if i != ZERO]
        if not positive:
            return cls(hist.get(ZERO, 0), low=low, high=high)
        first = min(positive)
        counts = [0] * (max(positive) - first + 1)
        for index in positive:
            counts[index - first] = hist[index]
        return cls(hist.get(ZERO, 0), first, counts, low, high)

    def sparse(self) -> Histogram:
        """The counts by bucket, without the empty ones."""
        out = {self.offset + i: n for i, n in enumerate(self.counts) if n}
        return {ZERO: self.zero, **out} if self.zero else out

    @property
    def total(self) -> int:
        return self.zero + sum(self.counts)

    def add(self, other: Counts) -> None:
        """Add the counts of `other` to these."""
        self.zero += other.zero
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)
        if not other.counts:
            return
        if not self.counts:
            self.offset, self.counts = other.offset, list(other.counts)
            return
        if other.offset < self.offset:
            self.counts[0:0] = [0] * (self.offset - other.offset)
            self.offset = other.offset
        start = other.offset - self.offset
        end = start + len(other.counts)
        if end > len(self.counts):
            self.counts.extend([0] * (end - len(self.counts)))
        self.counts[start:end] = map(operator.add, self.counts[start:end], other.counts)

    def quantiles(self, qs: Sequence[float]) -> list[float | None]:
        """The values at quantiles `qs` (each 0 to 1); None for an empty histogram."""
        total = self.total
        if not total:
            return [None] * len(qs)
        running = list(accumulate(self.counts, initial=self.zero))
        estimates = [midpoint(self._index(running, rank(q, total))) for q in qs]
        if self.low > self.high:  # the ends were not kept
            return list(estimates)
        return [min(self.high, max(self.low, value)) for value in estimates]

    def _index(self, running: list[int], wanted: int) -> int:
        at = bisect.bisect_left(running, wanted)  # running[0] is the zero bucket's count
        return ZERO if at == 0 else self.offset + at - 1

    def buckets(self) -> list[tuple[float, int]]:
        """Each non-empty bucket's midpoint and count."""
        out = [(0.0, self.zero)] if self.zero else []
        return out + [(midpoint(self.offset + i), n) for i, n in enumerate(self.counts) if n]

    def encode(self) -> bytes:
        """Little-endian: zero's count, the offset (64-bit integers), the smallest and largest
        value (doubles), then the counts (64-bit integers)."""
        counts = array("q", self.counts)
        if sys.byteorder == "big":
            counts.byteswap()
        return _HEADER.pack(self.zero, self.offset, self.low, self.high) + counts.tobytes()

    @classmethod
    def decode(cls, blob: bytes | None) -> Counts:
        if not blob:
            return cls()
        zero, offset, low, high = _HEADER.unpack_from(blob)
        counts = array("q")
        counts.frombytes(blob[_HEADER.size :])
        if sys.byteorder == "big":
            counts.byteswap()
        return cls(zero, offset, counts.tolist(), low, high)
