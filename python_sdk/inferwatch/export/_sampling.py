"""Which traces are kept: decided when the unit of work ends, in the process.

A trace that failed (the request raised or answered 5xx, a model call failed, an error event was
captured during it) is always kept: its spans are what explains the error, and they cost little
to hold until the end. The others are kept at `traces_sampler(context)` when given, else at the
decision of a Sentry SDK upstream (`sentry-trace` ...-1 or -0), else at `traces_sample_rate`
(1.0 when only an OTLP endpoint is set, as OpenTelemetry keeps everything by default).

A `traceparent`'s sampled flag is not a decision: the snippet sets it on every request it times.
It reaches `traces_sampler` as `parent_sampled`, for a sampler that wants to honour it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from .._types import TracesSampler
from ._spans import Trace

logger = logging.getLogger("inferwatch")


Context = Callable[[], dict[str, Any]]


class Sampler:
    """`keep(trace, context)`: the sample rate a kept trace stands for, or None to drop it.
    `context()` makes what `traces_sampler` is given, only when there is one to ask."""

    def __init__(self, rate: float | None, sampler: TracesSampler | None) -> None:
        self.rate = 1.0 if rate is None else float(rate)
        self.sampler = sampler

    def keep(self, trace: Trace, context: Context) -> float | None:
        if trace.failed:
            return 1.0  # kept whatever the rate: weighs as itself in Sentry's extrapolation
        rate = self._rate(trace, context)
        return rate if rate > 0 and random.random() < rate else None

    def _rate(self, trace: Trace, context: Context) -> float:
        if self.sampler is not None:
            return _sampled(self.sampler, context())
        if trace.parent_sampled is not None:
            return 1.0 if trace.parent_sampled else 0.0
        return self.rate


def _sampled(sampler: TracesSampler, context: dict[str, Any]) -> float:
    try:
        value = sampler(context)
    except Exception:  # the app's sampler must not break its requests
        logger.warning("inferwatch: traces_sampler raised; the trace is not kept", exc_info=True)
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float) and 0 <= value <= 1:
        return float(value)
    logger.warning("inferwatch: traces_sampler returned %r, not a rate; not kept", value)
    return 0.0
