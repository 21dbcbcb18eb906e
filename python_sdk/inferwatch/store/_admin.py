"""Changing an issue's status from the dashboard: resolve, ignore, reopen."""

from __future__ import annotations

from pathlib import Path

from . import _schema

STATUSES = ("unresolved", "resolved", "ignored")


def set_status(path: str | Path, issue_id: int, status: str) -> bool:
    """Set an issue's status; False when there is no such issue.

    Resolving clears the regression mark, so the next recurrence is marked again (the writer
    reopens a resolved issue when one of its events arrives).

    >>> set_status(".inferwatch/events.db", 3, "resolved")  # doctest: +SKIP
    True
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    conn = _schema.connect(str(path))
    try:
        cursor = conn.execute(
            "UPDATE issues SET status = ?,"
            " regressed = CASE WHEN ? = 'resolved' THEN 0 ELSE regressed END WHERE id = ?",
            (status, status, issue_id),
        )
        return cursor.rowcount == 1
    finally:
        conn.close()
