"""Reading the store: the queries behind the CLI, the dashboard and the `--json` formats."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from .._errors import StoreError
from . import _schema
from ._connection import Connection
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


def open_readonly(path: str | Path) -> Connection:
    """A read-only connection to an existing store, or a clear `StoreError`. Its `with` block
    closes it: `with open_readonly(path) as conn: ...`."""
    if not Path(path).exists():
        raise StoreError(f"inferwatch: no store at {path} (nothing captured yet?)")
    try:
        conn = _schema.connect(str(path), readonly=True)
    except sqlite3.Error as exc:
        raise StoreError(f"inferwatch: cannot read the store at {path}: {exc}") from exc
    try:
        conn.execute("SELECT 1 FROM issues LIMIT 1")
    except sqlite3.Error as exc:
        conn.close()
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
    since: float | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Issues, newest activity first, filtered; `search` matches title, culprit or an event's
    request id or trace id; `since` keeps issues seen at or after that time (epoch seconds)."""
    where: list[str] = ["last_seen >= ?"] if since else []
    args: list[Any] = [since] if since else []
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


def known_fingerprints(conn: sqlite3.Connection, fingerprints: list[str]) -> set[str]:
    """Those of `fingerprints` that already have an issue (a few hundred a statement)."""
    known: set[str] = set()
    for start in range(0, len(fingerprints), 500):
        chunk = fingerprints[start : start + 500]
        sql = f"SELECT fingerprint FROM issues WHERE fingerprint IN ({','.join('?' * len(chunk))})"
        known.update(r[0] for r in conn.execute(sql, chunk))
    return known


def latest_event(conn: sqlite3.Connection, issue_id: int) -> dict[str, Any] | None:
    """The newest event of an issue, whole (the Sentry event JSON)."""
    row = conn.execute(
        "SELECT data FROM events WHERE issue_id = ? ORDER BY timestamp DESC, id DESC LIMIT 1",
        (issue_id,),
    ).fetchone()
    return json.loads(row["data"]) if row else None


def list_generations(
    conn: sqlite3.Connection,
    *,
    model: str | None = None,
    status: str | None = None,
    since: float | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The latest generation records, newest first; `since` in epoch seconds."""
    where, args = [], []
    for clause, value in (("model = ?", model), ("status = ?", status), ("timestamp >= ?", since)):
        if value:
            where.append(clause)
            args.append(value)
    sql = "SELECT * FROM generations" + (" WHERE " + " AND ".join(where) if where else "")
    rows = conn.execute(
        sql + " ORDER BY timestamp DESC, id DESC LIMIT ? OFFSET ?", [*args, limit, offset]
    )
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


# -- for the dashboard, `inferwatch tail` and `inferwatch export` ---------------------------

EVENT_COLUMNS = (
    "id",
    "event_id",
    "issue_id",
    "timestamp",
    "platform",
    "level",
    "environment",
    "release",
    "request_id",
    "trace_id",
    "session_id",
)


def issue_facets(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The platforms, environments and releases seen, for the filter menus (indexed lookups)."""
    return {
        column: [
            r[0]
            for r in conn.execute(
                f"SELECT DISTINCT {column} FROM issues WHERE {column} IS NOT NULL"
                f" ORDER BY {column} LIMIT 200"
            )
        ]
        for column in ("platform", "environment", "release")
    }


def issue_hourly(
    conn: sqlite3.Connection, issue_ids: list[int], *, now: float, hours: int = 24
) -> dict[int, list[int]]:
    """Events per hour of each issue over the last `hours`, oldest first, from the counters."""
    last = int(now // 3600)
    out = {i: [0] * hours for i in issue_ids}
    if not issue_ids:
        return out
    marks = ",".join("?" * len(issue_ids))
    rows = conn.execute(
        f"SELECT issue_id, hour, count FROM issue_hours WHERE issue_id IN ({marks})"
        " AND hour > ? AND hour <= ?",
        [*issue_ids, last - hours, last],
    )
    for issue_id, hour, count in rows:
        out[issue_id][hours - 1 - (last - hour)] = count
    return out


def issue_affected(conn: sqlite3.Connection, issue_ids: list[int]) -> dict[int, int]:
    """Sessions (browser) or requests (backend) each issue affected, from the counters."""
    if not issue_ids:
        return {}
    marks = ",".join("?" * len(issue_ids))
    rows = conn.execute(
        f"SELECT issue_id, affected FROM issue_stats WHERE issue_id IN ({marks})", issue_ids
    )
    return {**dict.fromkeys(issue_ids, 0), **{r[0]: r[1] for r in rows}}


def list_events(
    conn: sqlite3.Connection, issue_id: int, *, limit: int = 20, offset: int = 0
) -> list[dict[str, Any]]:
    """The newest events of an issue, without their data, newest first."""
    rows = conn.execute(
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE issue_id = ?"
        " ORDER BY timestamp DESC, id DESC LIMIT ? OFFSET ?",
        (issue_id, limit, offset),
    )
    return [dict(r) for r in rows]


def get_event(conn: sqlite3.Connection, issue_id: int, event_id: str) -> dict[str, Any] | None:
    """One stored event of an issue: its columns, plus the Sentry event JSON as `data`."""
    row = conn.execute(
        f"SELECT {', '.join(EVENT_COLUMNS)}, data FROM events WHERE issue_id = ? AND event_id = ?",
        (issue_id, event_id),
    ).fetchone()
    return _event_row(row) if row else None


def latest_event_row(conn: sqlite3.Connection, issue_id: int) -> dict[str, Any] | None:
    """The newest event of an issue, as `get_event` returns it."""
    row = conn.execute(
        f"SELECT {', '.join(EVENT_COLUMNS)}, data FROM events WHERE issue_id = ?"
        " ORDER BY timestamp DESC, id DESC LIMIT 1",
        (issue_id,),
    ).fetchone()
    return _event_row(row) if row else None


def adjacent_events(
    conn: sqlite3.Connection, issue_id: int, timestamp: float, row_id: int
) -> tuple[str | None, str | None]:
    """The event ids just older and just newer than one event of the same issue."""
    older = conn.execute(
        "SELECT event_id FROM events WHERE issue_id = ? AND (timestamp < ? OR"
        " (timestamp = ? AND id < ?)) ORDER BY timestamp DESC, id DESC LIMIT 1",
        (issue_id, timestamp, timestamp, row_id),
    ).fetchone()
    newer = conn.execute(
        "SELECT event_id FROM events WHERE issue_id = ? AND (timestamp > ? OR"
        " (timestamp = ? AND id > ?)) ORDER BY timestamp ASC, id ASC LIMIT 1",
        (issue_id, timestamp, timestamp, row_id),
    ).fetchone()
    return (older[0] if older else None, newer[0] if newer else None)


def _event_row(row: sqlite3.Row) -> dict[str, Any]:
    out = {k: row[k] for k in EVENT_COLUMNS}
    out["data"] = json.loads(row["data"])
    return out


def events_after(
    conn: sqlite3.Connection, after_id: int, *, limit: int = 500
) -> list[dict[str, Any]]:
    """Events stored after row `after_id`, oldest first, with their issue's title and status."""
    rows = conn.execute(
        "SELECT e.id, e.event_id, e.issue_id, e.timestamp, e.platform, e.level, e.request_id,"
        " e.trace_id, e.session_id, i.title, i.status FROM events e"
        " JOIN issues i ON i.id = e.issue_id WHERE e.id > ? ORDER BY e.id LIMIT ?",
        (after_id, limit),
    )
    return [dict(r) for r in rows]


def last_event_rowid(conn: sqlite3.Connection, *, back: int = 0) -> int:
    """The row id `back` events before the newest one (0 when the store is empty)."""
    row = conn.execute(
        "SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?", (back,)
    ).fetchone()
    return int(row[0]) if row else 0


def store_version(conn: sqlite3.Connection) -> str:
    """Changes whenever anything is stored or an issue changes status (for live updates)."""
    parts = [
        conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
        for table in ("events", "generations", "usage", "requests", "browser_activity")
    ]
    parts.append(conn.execute("SELECT coalesce(max(last_seen), 0) FROM issues").fetchone()[0])
    # Resolving or ignoring changes this count (read from the status index, not the rows).
    parts.append(
        conn.execute("SELECT COUNT(*) FROM issues WHERE status != 'unresolved'").fetchone()[0]
    )
    return "-".join(str(p) for p in parts)
