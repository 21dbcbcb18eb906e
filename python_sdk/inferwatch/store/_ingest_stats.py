"""What the collector received, stored, skipped and refused, and what the store holds: the
numbers behind `inferwatch stats` and the dashboard's ingest panel.

The counts come from the `ingest_counts` table, which the collector adds to as it answers (see
`collector/_counts.py`); they are kept, by hour, as long as the retention's maximum age.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ._timestamps import iso

OUTCOMES = ("received", "stored", "skipped", "refused")
_HELD = (
    ("issues", "SELECT COUNT(*) FROM issues"),
    ("events", "SELECT COUNT(*) FROM events"),
    ("attachments", "SELECT COUNT(*) FROM attachments"),
    ("attachment_bytes", "SELECT coalesce(sum(size), 0) FROM attachments"),
    ("feedback", "SELECT COUNT(*) FROM feedback"),
    ("generations", "SELECT COUNT(*) FROM generations"),
)


def ingest_stats(conn: sqlite3.Connection, *, now: float, hours: int = 24) -> dict[str, Any]:
    """Counts by outcome, item type and reason, in all and over the last `hours`.

    >>> ingest_stats(conn, now=time.time())["totals"]  # doctest: +SKIP
    {'received': 12, 'stored': 10, 'skipped': 1, 'refused': 1}
    """
    recent = int(now // 3600) - hours + 1
    rows = conn.execute(
        "SELECT outcome, type, reason, SUM(n) AS n, SUM(CASE WHEN hour >= ? THEN n ELSE 0 END)"
        " AS recent FROM ingest_counts GROUP BY outcome, type, reason",
        (recent,),
    ).fetchall()
    first = conn.execute("SELECT min(hour) FROM ingest_counts").fetchone()[0]
    items = sorted(
        (
            {
                "outcome": r["outcome"],
                "type": r["type"],
                "reason": r["reason"],
                "count": r["n"],
                "last_24h": r["recent"],
            }
            for r in rows
        ),
        key=lambda i: (_rank(i["outcome"]), i["type"], i["reason"]),
    )
    return {
        "since": iso(first * 3600.0) if first is not None else None,
        "totals": _by_outcome(items, "count"),
        "last_24h": _by_outcome(items, "last_24h"),
        "items": items,
    }


def held(conn: sqlite3.Connection) -> dict[str, int]:
    """What the store holds now: issues, events, attachments (and their bytes), feedback,
    generation records."""
    return {name: int(conn.execute(sql).fetchone()[0]) for name, sql in _HELD}


def _by_outcome(items: list[dict[str, Any]], field: str) -> dict[str, int]:
    totals = dict.fromkeys(OUTCOMES, 0)
    for item in items:
        totals[item["outcome"]] = totals.get(item["outcome"], 0) + int(item[field])
    return totals


def _rank(outcome: str) -> int:
    return OUTCOMES.index(outcome) if outcome in OUTCOMES else len(OUTCOMES)
