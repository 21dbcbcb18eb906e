"""Reading what Sentry SDKs send beside their events: attachments and user feedback."""

from __future__ import annotations

import sqlite3
from typing import Any

from ._timestamps import iso

_ATTACHMENT = "id, event_id, name, content_type, attachment_type, size, timestamp"
_FEEDBACK = (
    "f.id, f.timestamp, f.feedback_id, f.event_id, f.name, f.email, f.message, f.url,"
    " f.source, e.issue_id"
)


def event_attachments(conn: sqlite3.Connection, event_id: str) -> list[dict[str, Any]]:
    """The attachments of one event, without their content, in the order they came."""
    rows = conn.execute(
        f"SELECT {_ATTACHMENT} FROM attachments WHERE event_id = ? ORDER BY id", (event_id,)
    )
    return [dict(r) for r in rows]


def attachment(conn: sqlite3.Connection, attachment_id: int) -> dict[str, Any] | None:
    """One attachment with its content (`data`, bytes), or None."""
    row = conn.execute(
        f"SELECT {_ATTACHMENT}, data FROM attachments WHERE id = ?", (attachment_id,)
    ).fetchone()
    return dict(row) if row else None


def issue_feedback(
    conn: sqlite3.Connection, issue_id: int, *, limit: int = 50
) -> list[dict[str, Any]]:
    """The feedback about the events of one issue, newest first."""
    rows = conn.execute(
        f"SELECT {_FEEDBACK} FROM feedback f JOIN events e ON e.event_id = f.event_id"
        " WHERE e.issue_id = ? ORDER BY f.timestamp DESC, f.id DESC LIMIT ?",
        (issue_id, limit),
    )
    return [_feedback(r) for r in rows]


def list_feedback(
    conn: sqlite3.Connection, *, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """All feedback, newest first, with the issue of the event it is about (None when that
    event was not stored, or the feedback names none)."""
    rows = conn.execute(
        f"SELECT {_FEEDBACK} FROM feedback f LEFT JOIN events e ON e.event_id = f.event_id"
        " ORDER BY f.timestamp DESC, f.id DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [_feedback(r) for r in rows]


def _feedback(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["timestamp"] = iso(row["timestamp"])
    return out
