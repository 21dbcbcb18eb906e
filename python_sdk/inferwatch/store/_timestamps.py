"""Timestamps: Sentry events carry ISO 8601 strings or epoch seconds; the store keeps seconds."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from .._types import Event

# Seconds that `iso` can show: from 1970 to the last second of year 9999.
_LATEST = 253_402_300_799.0


def parse_timestamp(value: object) -> float | None:
    """Epoch seconds from an ISO 8601 string or a number, or None (also for NaN, infinity
    and numbers no date can show, which would break every page that lists the event)."""
    if isinstance(value, (float, int)) and not isinstance(value, bool):  # a tuple is faster
        seconds = float(value)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        seconds = parsed.timestamp()
    else:
        return None
    return seconds if 0 <= seconds <= _LATEST else None


# A client clock may run ahead by a little; beyond that the time is the clock's fault, and a
# far-future event would keep its issue at the top of every list for years. As Sentry does, such
# an event is stored at the time it arrived (the event's own `timestamp` is kept as sent).
MAX_FUTURE_SECONDS = 60.0


def stored_timestamp(value: object) -> float:
    """When a row happened, for the store: `value` parsed, or now when it is missing, invalid
    or more than a minute in the future."""
    now = time.time()
    seconds = parse_timestamp(value)
    return now if seconds is None or seconds > now + MAX_FUTURE_SECONDS else seconds


def event_timestamp(event: Event) -> float:
    return stored_timestamp(event.get("timestamp"))


def iso(ts: float | None) -> str | None:
    """Seconds as an ISO 8601 UTC string with milliseconds."""
    if ts is None:
        return None
    return (
        datetime.fromtimestamp(ts, timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
