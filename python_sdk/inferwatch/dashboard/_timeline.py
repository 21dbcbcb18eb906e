"""The timeline before an error: what the user and the backend did, joined across tables.

The event's own breadcrumbs (clicks, page views, console lines, backend log lines) are merged
with rows of `requests`, `generations`, `browser_activity` and other `events` that share its
request id, trace id or browser session, within a window around the error.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..store._timestamps import parse_timestamp
from . import _logs
from ._format import ms
from ._logs import plain
from ._shapes import loads, mapping, number, values

# Seconds around the error the timeline covers: what led to it, and what the user saw just after
# (the browser reporting a failed request comes after the backend error that caused it).
BEFORE, AFTER = 15 * 60.0, 5.0
MAX_ROWS = 150
_MAX_SESSIONS = 3  # browser sessions a timeline follows (one, unless requests were shared)
_DETAIL_CHARS = 2000  # a breadcrumb's data: shown whole but for a sender's megabyte
_KINDS = {"ui.click": "click", "navigation": "page view", "console": "console"}


@dataclass(frozen=True)
class Entry:
    """One row of the timeline; `offset` is seconds relative to the error (negative before)."""

    ts: float
    offset: float
    kind: str
    source: str
    text: str
    detail: str = ""
    level: str = ""
    issue_id: int | None = None
    logger: str = ""  # the logger of a log line, shown as its source, never as its level


def build(conn: sqlite3.Connection, event: dict[str, Any]) -> list[Entry]:
    """The timeline of one stored event (as `get_event` returns it), oldest first.

    Generations link the two sides: a browser generation carries the request id (or trace id)
    of the backend request it timed and the session it happened in, so a backend error finds
    the clicks before it, and a browser error finds the backend request and its error.
    """
    ts, data = float(event["timestamp"]), mapping(event["data"])
    generations = _generations(conn, event, ts)
    ids = {i for i in (event["request_id"], *(i for _, link in generations for i in link[:2])) if i}
    others = sorted({link[2] for _, link in generations if link[2]} - {event["session_id"]})
    sessions = ([event["session_id"]] if event["session_id"] else []) + others
    sessions = sessions[:_MAX_SESSIONS]  # the event's own session first
    rows = [*_breadcrumbs(data), *(g for g, _ in generations)]
    for session in sessions:
        rows += _activity(conn, session, ts)
    rows += _requests(conn, ids)
    rows += _related(conn, event, ids, sessions, ts)
    rows.append((ts, "error", _source(data), _error_text(data), "", "error", None, ""))
    return _entries(rows, ts)


# ts, kind, source, text, detail, level, issue id, logger
Raw = tuple[float, str, str, str, str, str, int | None, str]


def _entries(rows: list[Raw], error_ts: float) -> list[Entry]:
    seen: set[tuple[str, int, str]] = set()
    out = []
    for ts, kind, source, text, detail, level, issue_id, logger in sorted(rows, key=lambda r: r[0]):
        key = (kind, round(ts * 100), text)
        if key in seen or not error_ts - BEFORE <= ts <= error_ts + AFTER:
            continue
        seen.add(key)
        out.append(Entry(ts, ts - error_ts, kind, source, text, detail, level, issue_id, logger))
    return out[-MAX_ROWS:]


def _source(data: dict[str, Any]) -> str:
    return "browser" if data.get("platform") == "javascript" else "backend"


def _error_text(data: dict[str, Any]) -> str:
    exceptions = values(data.get("exception"))
    if exceptions:
        return f"{exceptions[-1].get('type')}: {exceptions[-1].get('value') or ''}"
    return plain(
        str(mapping(data.get("logentry")).get("message") or data.get("message") or "error")
    )


def _breadcrumbs(data: dict[str, Any]) -> list[Raw]:
    source = _source(data)
    out: list[Raw] = []
    for crumb in values(data.get("breadcrumbs")):
        ts = parse_timestamp(crumb.get("timestamp"))
        if ts is None:
            continue
        category = plain(str(crumb.get("category") or ""))
        kind = _KINDS.get(category, "log")
        text = plain(str(crumb.get("message") or ""))
        fields = _logs.extras(crumb.get("data")) if kind == "log" else None
        detail = _short_json(fields) if fields else ""
        level = _logs.level(crumb.get("level"))
        # A log line's logger (`uvicorn.error`) goes beside it, where it cannot pass for a level.
        logger = category if kind == "log" else ""
        out.append((ts, kind, source, text, detail, level, None, logger))
    return out


def _activity(conn: sqlite3.Connection, session: str | None, ts: float) -> list[Raw]:
    if not session:
        return []
    rows = conn.execute(
        "SELECT timestamp, type, url, data FROM browser_activity WHERE session_id = ?"
        " AND timestamp BETWEEN ? AND ? ORDER BY timestamp DESC LIMIT ?",
        (session, ts - BEFORE, ts + AFTER, MAX_ROWS),
    )
    out: list[Raw] = []
    for r in rows:
        data = loads(r["data"])
        kind = {"click": "click", "pageview": "page view"}.get(r["type"], r["type"])
        text = str(
            data.get("selector") or data.get("path") or data.get("message") or r["url"] or ""
        )
        level = _logs.level(data.get("level"))
        out.append((r["timestamp"], kind, "browser", plain(text), "", level, None, ""))
    return out


Link = tuple[str | None, str | None, str | None]  # request id, trace id, session id


def _generations(
    conn: sqlite3.Connection, event: dict[str, Any], ts: float
) -> list[tuple[Raw, Link]]:
    rows = conn.execute(
        "SELECT * FROM generations WHERE (request_id = ? OR trace_id = ? OR session_id = ?)"
        " AND timestamp BETWEEN ? AND ? ORDER BY timestamp DESC LIMIT 50",
        (event["request_id"], event["trace_id"], event["session_id"], ts - BEFORE, ts + AFTER),
    )
    out = []
    for r in rows:
        text = f"{r['model']} {r['status']} in {ms(r['duration_ms'])}"
        if r["first_chunk_ms"] is not None:
            text += f", first token {ms(r['first_chunk_ms'])}"
        level = "error" if r["status"] == "error" else ""
        raw: Raw = (
            r["timestamp"],
            "generation",
            r["source"],
            text,
            r["request_id"] or "",
            level,
            None,
            "",
        )
        # The middleware takes a request's id from `traceparent`, so a browser generation's
        # trace id is also the id of the backend request it timed.
        out.append((raw, (r["request_id"], r["trace_id"], r["session_id"])))
    return out


def _requests(conn: sqlite3.Connection, ids: set[str]) -> list[Raw]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT * FROM requests WHERE request_id IN ({marks}) LIMIT 50", sorted(ids)
    )
    return [
        (
            # The row is written when the answer is, so the request began this much earlier.
            r["timestamp"] - (number(r["duration_ms"]) or 0) / 1000,
            "request",
            "backend",
            f"{r['method']} {r['route']} → {r['status']} in {ms(r['duration_ms'])}",
            r["request_id"] or "",
            "error" if (number(r["status"]) or 0) >= 500 else "",
            None,
            "",
        )
        for r in rows
    ]


def _related(
    conn: sqlite3.Connection,
    event: dict[str, Any],
    ids: set[str],
    sessions: list[str],
    ts: float,
) -> list[Raw]:
    """Other errors of the same request, trace or session (the other side of the wire)."""
    keys = sorted(ids)
    clauses = [f"request_id IN ({','.join('?' * len(keys))})"] if keys else []
    args: list[Any] = list(keys)
    if sessions:
        clauses.append(f"session_id IN ({','.join('?' * len(sessions))})")
        args += sessions
    if event["trace_id"] and event["platform"] == "javascript":
        # Only the snippet's trace ids name one user action; a backend event's trace id is
        # sentry-sdk's propagation context, which can span unrelated requests.
        clauses.append("(trace_id = ? AND platform = 'javascript')")
        args.append(event["trace_id"])
    if not clauses:
        return []
    rows = conn.execute(
        f"SELECT issue_id, timestamp, platform, data FROM events WHERE ({' OR '.join(clauses)})"
        " AND event_id != ? AND timestamp BETWEEN ? AND ? ORDER BY timestamp DESC LIMIT 20",
        [*args, event["event_id"], ts - BEFORE, ts + AFTER],
    )
    return [
        (
            r["timestamp"],
            "error",
            "browser" if r["platform"] == "javascript" else "backend",
            _error_text(loads(r["data"])),
            "",
            "error",
            r["issue_id"],
            "",
        )
        for r in rows
    ]


def _short_json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _DETAIL_CHARS else text[:_DETAIL_CHARS] + "…"
