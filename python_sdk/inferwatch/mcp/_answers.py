"""What each MCP tool answers, read through the queries the dashboard and the CLI use.

Plain functions of a read-only connection and checked arguments, returning JSON-ready dicts
within the budgets of `_budget`; nothing here imports the MCP SDK, so each is tested directly.
An id no row can have (zero, negative, past SQLite's 64 bits) is `NotFound`, like any other id
that names no row; an argument that cannot be read is a `ValueError` with a sentence saying why.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from .._cli_export import parse_since
from .._errors import ConfigError
from .._ids import MAX_ID
from ..dashboard import _stats
from ..dashboard._generation_stats import RELATIVE_ERROR
from ..dashboard._generation_stats import generation_stats as page_stats
from ..store import _queries as q
from ..store._search import SCAN_LIMIT, search_events
from ..store._timestamps import iso
from ._budget import clip, page
from ._report import NotFound, issue_report


def issue_id(value: int) -> int:
    """`value` if a row could have it as its id, else `NotFound` (SQLite's ids are 64-bit)."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"No issue {value} in the store (issue ids are whole numbers from 1).")
    return value


def since(value: str | None) -> float | None:
    """An ISO 8601 time, epoch seconds or an age such as `30m`, `6h`, `7d`, as epoch seconds."""
    if not value:
        return None
    try:
        return parse_since(value)
    except (ConfigError, ValueError, OverflowError):
        raise ValueError(
            f"since must be an ISO 8601 time (2026-01-31T12:00:00Z), epoch seconds, or an age"
            f" such as 30m, 6h or 7d; got {value[:60]!r}."
        ) from None


def issues(
    conn: sqlite3.Connection,
    *,
    status: str | None,
    platform: str | None = None,
    environment: str | None = None,
    release: str | None = None,
    search: str | None = None,
    since_time: float | None = None,
    limit: int,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of issues, newest activity first, each with the requests or sessions it affected."""
    rows = q.list_issues(
        conn,
        status=status,
        platform=platform,
        environment=environment,
        release=release,
        search=search,
        since=since_time,
        limit=limit + 1,
        offset=offset,
    )
    shown = rows[:limit]
    affected = q.issue_affected(conn, [r["id"] for r in shown])
    listed = [_issue({**r, "affected": affected[r["id"]]}) for r in shown]
    return page("issues", listed, offset=offset, more=len(rows) > limit)


def _issue(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "title": clip(row["title"]), "culprit": clip(row["culprit"])}


def issue(conn: sqlite3.Connection, number: int, event_id: str | None = None) -> dict[str, Any]:
    """One issue and one of its events (the latest by default): see `_report.issue_report`."""
    return issue_report(conn, issue_id(number), event_id)


def events(conn: sqlite3.Connection, number: int, *, limit: int, offset: int) -> dict[str, Any]:
    """A page of one issue's events, newest first, without their data (`get_issue` reads one)."""
    if q.get_issue(conn, issue_id(number)) is None:
        raise NotFound(f"No issue {number} in the store.")
    rows = q.list_events(conn, number, limit=limit + 1, offset=offset)
    listed = [{**_without_rowid(r), "timestamp": iso(r["timestamp"])} for r in rows[:limit]]
    return page("events", listed, offset=offset, more=len(rows) > limit, issue_id=number)


def _without_rowid(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "id"}


def generations(
    conn: sqlite3.Connection,
    *,
    model: str | None,
    status: str | None,
    since_time: float | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """A page of generation records (model calls and what users waited), newest first."""
    rows = q.list_generations(
        conn, model=model, status=status, since=since_time, limit=limit + 1, offset=offset
    )
    return page("generations", rows[:limit], offset=offset, more=len(rows) > limit)


def generation_stats(conn: sqlite3.Connection, range_name: str) -> dict[str, Any]:
    """p50/p95 latency, time to first token and error rates, overall and per model, over one
    of the Generations page's ranges (the same numbers the page shows, from the same rollups)."""
    window = _stats.Window.named(range_name, time.time())
    stats = page_stats(conn, window)
    return {
        "range": window.name,
        "from": iso(window.start),
        "to": iso(window.start + window.step * window.buckets),
        "calls": stats["total"],
        "records": stats["records"],
        "timed_by_both": stats["paired"],
        "percentile_error": round(RELATIVE_ERROR, 4),
        "overall": stats["tiles"],
        "models": stats["models"][:50],
        "latency_histogram_ms": {side: dict(bars) for side, bars in stats["histogram"].items()},
    }


def search(
    conn: sqlite3.Connection, text: str, *, since_time: float | None, limit: int, offset: int
) -> dict[str, Any]:
    """A page of events found by an id or by text in the newest events, newest first."""
    rows = search_events(conn, text, since=since_time or 0.0, limit=limit + 1, offset=offset)
    for row in rows:
        row["title"], row["snippet"] = clip(row["title"]), clip(row["snippet"], 400)
    return page(
        "events",
        rows[:limit],
        offset=offset,
        more=len(rows) > limit,
        searched={"text": text, "ids": "every event", "text_in": f"the newest {SCAN_LIMIT:,}"},
    )
