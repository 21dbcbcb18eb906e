"""Jinja filters: how times, durations and numbers read on the pages."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

from ..store._timestamps import iso, parse_timestamp
from ._shapes import number


def ago(value: Any, now: float | None = None) -> str:
    """`1795748800.0` → `5 min ago`; accepts epoch seconds or ISO strings.

    >>> ago(100.0, now=160.0)
    '1 min ago'
    """
    ts = parse_timestamp(value)
    if ts is None:
        return "—"
    seconds = max(0, (time.time() if now is None else now) - ts)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def clock(value: Any) -> str:
    """The UTC time of day with milliseconds, for timelines."""
    ts = parse_timestamp(value)
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def stamp(value: Any) -> str:
    """A full UTC date and time (the `title` of every relative time)."""
    ts = parse_timestamp(value)
    return (iso(ts) or "—").replace("T", " ").replace("Z", " UTC")


def ms(value: Any) -> str:
    """Milliseconds for people: `17 µs`, `4.2 ms`, `180 ms`, `1.84 s`; `—` for anything not a
    number (a model call of 0.017 ms is not `0.0 ms`).

    >>> ms(1840), ms(0.017), ms("slow")
    ('1.84 s', '17 µs', '—')
    """
    value = number(value)
    if value is None:
        return "—"
    if 0 <= value < 1:
        return f"{value * 1000:.0f} µs"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def offset(seconds: float) -> str:
    """Seconds relative to the error: `-3.2 s`, `+0.1 s`, `0`."""
    if abs(seconds) < 0.0005:
        return "0"
    sign = "-" if seconds < 0 else "+"
    value = abs(seconds)
    if value >= 60:
        return f"{sign}{value / 60:.1f} min"
    return f"{sign}{value:.1f} s" if value >= 1 else f"{sign}{value * 1000:.0f} ms"


def num(value: Any) -> str:
    """A count with thousands separators; `—` for anything not a number.

    >>> num(12345), num(2.5), num([1])
    ('12,345', '2.5', '—')
    """
    value = number(value)
    if value is None:
        return "—"
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"


def pct(value: Any) -> str:
    value = number(value)
    return "—" if value is None else f"{value * 100:.1f}%"


def pretty(value: Any) -> str:
    """JSON for people, indented; escaped by the template like any other string."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


FILTERS = {
    "ago": ago,
    "clock": clock,
    "stamp": stamp,
    "ms": ms,
    "offset": offset,
    "num": num,
    "pct": pct,
    "pretty": pretty,
}
