"""Timestamps: Sentry events carry ISO 8601 strings or epoch seconds; the store keeps seconds."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from .._types import Event


def parse_timestamp(value: object) -> float | None:
    """Epoch seconds from an ISO 8601 string or a number, or None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    return None


def event_timestamp(event: Event) -> float:
    return parse_timestamp(event.get("timestamp")) or time.time()


def iso(ts: float | None) -> str | None:
    """Seconds as an ISO 8601 UTC string with milliseconds."""
    if ts is None:
        return None
    return (
        datetime.fromtimestamp(ts, timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
