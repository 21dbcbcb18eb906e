"""What each page shows, read from the store: the routes only pick the template."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from ..store import _queries as q
from ..store._calls import latest_calls
from ..store._extras import event_attachments, issue_feedback, list_feedback
from ..store._ingest_stats import ingest_stats
from . import _stats, _svg, _timeline
from ._generation_stats import RELATIVE_ERROR, generation_stats
from ._usage_stats import usage_stats
from ._view import event_view

PAGE_SIZE = 50
_HOURS = [f"{h} h ago" if h else "this hour" for h in range(23, -1, -1)]


def issues(
    conn: sqlite3.Connection, filters: dict[str, str | None], page_no: int
) -> dict[str, Any]:
    """One page of issues with their sparklines and affected counts, and the filter menus."""
    rows = q.list_issues(
        conn, **filters, since=None, limit=PAGE_SIZE + 1, offset=(page_no - 1) * PAGE_SIZE
    )
    shown = rows[:PAGE_SIZE]
    ids = [r["id"] for r in shown]
    hourly = q.issue_hourly(conn, ids, now=time.time())
    affected = q.issue_affected(conn, ids)
    for row in shown:
        row["spark"] = _svg.sparkline(hourly[row["id"]], _HOURS, label="last 24 hours")
        row["affected"] = affected[row["id"]]
    return {
        "issues": shown,
        "more": len(rows) > PAGE_SIZE,
        "facets": q.issue_facets(conn),
        "anything": bool(shown) or conn.execute("SELECT 1 FROM issues LIMIT 1").fetchone(),
    }


def issue(conn: sqlite3.Connection, issue_id: int, event_id: str | None) -> dict[str, Any] | str:
    """One issue and one of its events (the latest by default), or what was not found."""
    found = q.get_issue(conn, issue_id)
    if found is None:
        return f"issue {issue_id}"
    row = q.get_event(conn, issue_id, event_id) if event_id else q.latest_event_row(conn, issue_id)
    if row is None and event_id:
        return f"event {event_id}"
    found["affected"] = q.issue_affected(conn, [issue_id])[issue_id]
    hourly = q.issue_hourly(conn, [issue_id], now=time.time())[issue_id]
    older, newer = (
        q.adjacent_events(conn, issue_id, row["timestamp"], row["id"]) if row else (None, None)
    )
    return {
        "issue": found,
        "event": row,
        "view": event_view(row["data"]) if row else None,
        "attachments": event_attachments(conn, row["event_id"]) if row else [],
        "feedback": issue_feedback(conn, issue_id),
        "older": older,
        "newer": newer,
        "recent": q.list_events(conn, issue_id, limit=15),
        "timeline": _timeline.build(conn, row) if row else [],
        "spark": _svg.sparkline(hourly, _HOURS, label="last 24 hours"),
    }


def _window(conn: sqlite3.Connection, name: str | None, tables: tuple[str, ...]) -> _stats.Window:
    """The range asked for, or the one that shows the data of `tables` best."""
    now = time.time()
    return _stats.Window.named(name or _stats.opening_range(conn, tables, now), now)


def generations(conn: sqlite3.Connection, range_name: str | None) -> dict[str, Any]:
    """Latency histogram, percentiles over time, backend beside browser, per model, latest."""
    window = _window(conn, range_name, ("generations",))
    stats = generation_stats(conn, window)
    labels = window.labels()
    names = [name for name, _ in stats["histogram"]["backend"]]
    under = [name if "+" in name else f"under {name}" for name in names]
    charts = {
        "histogram": _svg.grouped_bars(
            {side: [n for _, n in stats["histogram"][side]] for side in ("backend", "browser")},
            names,
            label="latency histogram",
            tip_labels=under,
        ),
        "percentiles": _svg.lines(stats["percentiles"], labels, label="percentiles", unit="ms"),
        "waited": _svg.lines(
            stats["waited"], labels, label="backend vs browser", unit="ms", width=940
        ),
    }
    return {
        "window": window,
        "stats": stats,
        "charts": charts,
        "latest": latest_calls(conn, limit=25),
        "error_pct": f"{RELATIVE_ERROR * 100:.1f}%",
    }


def usage(conn: sqlite3.Connection, range_name: str | None) -> dict[str, Any]:
    """Requests per route and `log_usage` calls per endpoint over time, and the ingest panel:
    what the collector received, stored, skipped and refused."""
    window = _window(conn, range_name, ("requests", "usage"))
    stats = usage_stats(conn, window)
    labels = window.labels()
    charts = {
        "requests": _svg.stacked_bars(stats["requests"], labels, label="requests per route"),
        "usage": _svg.stacked_bars(stats["usage"], labels, label="log_usage per endpoint"),
    }
    ingest = ingest_stats(conn, now=time.time())
    return {
        "window": window,
        "stats": stats,
        "charts": charts,
        "ingest": ingest,
        "error_pct": f"{RELATIVE_ERROR * 100:.1f}%",
    }


def feedback(conn: sqlite3.Connection, page_no: int) -> dict[str, Any]:
    """One page of user feedback, newest first, each with its issue when its event is stored."""
    rows = list_feedback(conn, limit=PAGE_SIZE + 1, offset=(page_no - 1) * PAGE_SIZE)
    return {"feedback": rows[:PAGE_SIZE], "more": len(rows) > PAGE_SIZE}
