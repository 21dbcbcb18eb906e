"""Reading the store: the queries behind the CLI, the dashboard and the `--json` formats."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from .._errors import StoreError
from . import _schema
from ._timestamps import iso

ISSUE_FIELDS = (
    "id",
    "title",
    "culprit",
    "platform",
    "level",
    "count",
    "first_seen",
    "last_seen",
    "status",
    "regressed",
    "environment",
    "release",
)


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to an existing store, or a clear `StoreError`."""
    if not Path(path).exists():
        raise StoreError(f"inferwatch: no store at {path} (nothing captured yet?)")
    try:
        conn = _schema.connect(str(path), readonly=True)
        conn.execute("SELECT 1 FROM issues LIMIT 1")
    except sqlite3.Error as exc:
        raise StoreError(f"inferwatch: cannot read the store at {path}: {exc}") from exc
    return conn


def issue_json(row: sqlite3.Row) -> dict[str, Any]:
    """An issue in the documented JSON format."""
    out = {name: row[name] for name in ISSUE_FIELDS}
    out["first_seen"], out["last_seen"] = iso(row["first_seen"]), iso(row["last_seen"])
    out["regressed"] = bool(row["regressed"])
    return out


def list_issues(
    conn: sqlite3.Connection,
    *,
    status: str | None = None,
    platform: str | None = None,
    environment: str | None = None,
    release: str | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Issues, newest activity first, filtered; `search` matches title, culprit or an event's
    request id or trace id."""
    where, args = [], []
    for column, value in (
        ("status", status),
        ("platform", platform),
        ("environment", environment),
        ("release", release),
    ):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    if search:
        where.append(
            "(title LIKE ? ESCAPE '\\' OR culprit LIKE ? ESCAPE '\\' OR id IN "
            "(SELECT issue_id FROM events WHERE request_id = ? OR trace_id = ?))"
        )
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        args += [like, like, search, search]
    sql = "SELECT * FROM issues"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY last_seen DESC LIMIT ? OFFSET ?"
    return [issue_json(r) for r in conn.execute(sql, [*args, limit, offset])]


def get_issue(conn: sqlite3.Connection, issue_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM issues WHERE id = ?", (issue_id,)).fetchone()
    return issue_json(row) if row else None


def latest_event(conn: sqlite3.Connection, issue_id: int) -> dict[str, Any] | None:
    """The newest event of an issue, whole (the Sentry event JSON)."""
    row = conn.execute(
        "SELECT data FROM events WHERE issue_id = ? ORDER BY timestamp DESC, id DESC LIMIT 1",
        (issue_id,),
    ).fetchone()
    return json.loads(row["data"]) if row else None


def list_generations(
    conn: sqlite3.Connection, *, model: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The latest generation records, newest first."""
    sql, args = "SELECT * FROM generations", []
    if model:
        sql, args = sql + " WHERE model = ?", [model]
    rows = conn.execute(sql + " ORDER BY timestamp DESC, id DESC LIMIT ?", [*args, limit])
    return [_generation_json(r) for r in rows]


def _generation_json(row: sqlite3.Row) -> dict[str, Any]:
    out = {k: row[k] for k in row.keys() if k != "id"}  # noqa: SIM118 (Row iterates values)
    out["timestamp"] = iso(row["timestamp"])
    return out


def list_usage(conn: sqlite3.Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM usage ORDER BY timestamp DESC, id DESC LIMIT ?", (limit,))
    return [
        {
            "timestamp": iso(r["timestamp"]),
            "endpoint": r["endpoint"],
            "request_id": r["request_id"],
            "data": json.loads(r["data"]) if r["data"] else None,
        }
        for r in rows
    ]
