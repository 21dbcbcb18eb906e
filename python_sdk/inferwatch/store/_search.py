"""Finding events by text: by their ids through the indexes, and in the newest events' JSON.

The store has no full-text index, and reading every event's JSON of a large store takes seconds,
so a text search reads the newest `SCAN_LIMIT` events only (the answer says so); an id (event,
request, trace or browser session) is found in any event through its index.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ._queries import EVENT_COLUMNS
from ._timestamps import iso

SCAN_LIMIT = 10_000
SNIPPET_CHARS = 240

_COLUMNS = ", ".join(f"e.{c}" for c in EVENT_COLUMNS if c != "id")


def search_events(
    conn: sqlite3.Connection,
    text: str,
    *,
    since: float = 0.0,
    limit: int = 20,
    offset: int = 0,
    scan: int = SCAN_LIMIT,
) -> list[dict[str, Any]]:
    """Events, newest first, whose id, request id, trace id or session id is `text`, or among
    the newest `scan` events since `since` whose JSON contains `text` (ASCII letters in any
    case), with their issue's title and a snippet of the JSON around the match.

    >>> search_events(conn, "req-42")  # doctest: +SKIP
    [{'event_id': '…', 'issue_id': 3, 'title': 'ValueError: …', 'snippet': '…req-42…', …}]
    """
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        f"SELECT {_COLUMNS}, i.title, e.data FROM events e JOIN issues i ON i.id = e.issue_id"
        " WHERE e.id IN ("
        "  SELECT id FROM events WHERE (event_id = :t OR request_id = :t OR trace_id = :t"
        "   OR session_id = :t) AND timestamp >= :since"
        "  UNION SELECT id FROM (SELECT id, data FROM events WHERE timestamp >= :since"
        "   ORDER BY timestamp DESC LIMIT :scan) WHERE data LIKE :like ESCAPE '\\')"
        " ORDER BY e.timestamp DESC, e.id DESC LIMIT :limit OFFSET :offset",
        {"t": text, "since": since, "scan": scan, "like": like, "limit": limit, "offset": offset},
    )
    return [_found(dict(r), text) for r in rows]


def _found(row: dict[str, Any], text: str) -> dict[str, Any]:
    data = row.pop("data")
    row["timestamp"] = iso(row["timestamp"])
    row["snippet"] = snippet(data, text)
    return row


def snippet(data: str, text: str, width: int = SNIPPET_CHARS) -> str:
    """The part of `data` around the first match of `text` (case-insensitive), or its start.

    >>> snippet('{"message": "model could not read boom"}', "BOOM", width=20)
    '…ould not read boom"}'
    """
    at = data.lower().find(text.lower())
    if at < 0:
        return data[:width] + ("…" if len(data) > width else "")
    start = max(0, at + len(text) // 2 - width // 2)
    end = min(len(data), start + width)
    start = max(0, end - width)
    return ("…" if start else "") + data[start:end] + ("…" if end < len(data) else "")
