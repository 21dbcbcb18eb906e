"""How each kind of row is inserted: all the rows of one kind in a batch with a few statements.

Every step of a statement is a trip out of the GIL and back for the writer thread, which shares
it with the app (or the collector's event loop); while that thread is busy, getting the GIL back
can take up to the interpreter's switch interval (5 ms). So events are checked for duplicates and
their issues read once a batch, each issue is updated once however many of its events the batch
holds, and rows go in with one multi-row INSERT: one step, where `executemany` takes one a row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .. import _json
from .._types import Event
from . import _grouping, _titles
from ._timestamps import event_timestamp


@dataclass(frozen=True)
class IssueChange:
    """What storing one event did to its issue, for alerting."""

    kind: str  # "new", "regression" or "recurrence"
    issue_id: int
    title: str
    platform: str
    event: Event


Inserter = Callable[[sqlite3.Connection, list[dict[str, Any]]], list[IssueChange]]
"""Inserts a batch of rows of one kind; returns what storing them did to issues."""

_IN_CHUNK = 500  # values of an IN (...) list
_MAX_PARAMS = 10_000  # bound parameters a statement, well under SQLite's limit (32,766)

_EVENT_COLUMNS = (
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
    "data",
)


@dataclass
class _Issue:
    """An issue as this batch leaves it: what one UPDATE at the end writes."""

    id: int
    status: str
    count: int = 0
    last_seen: float = 0.0
    last_event_id: str | None = None
    environment: str | None = None
    release: str | None = None


def insert_events(conn: sqlite3.Connection, events: list[Event]) -> list[IssueChange]:
    """Store `events` not stored yet (a retried delivery is stored once), grouped into issues:
    a new issue, a resolved one that regressed, or a recurrence, in the order of `events`."""
    rows = _event_rows(events)  # everything that can fail on a bad event, before any statement
    stored = _stored_ids(conn, [r["event_id"] for r in rows])
    rows = [r for r in rows if r["event_id"] not in stored]
    issues = _issues(conn, {r["fingerprint"] for r in rows})
    changed: dict[int, _Issue] = {}
    changes: list[IssueChange] = []
    for row in rows:
        issue = issues.get(row["fingerprint"])
        if issue is None:
            issue = issues[row["fingerprint"]] = _new_issue(conn, row)
            kind = "new"
        else:
            kind = "regression" if issue.status == "resolved" else "recurrence"
            if kind == "regression":
                issue.status = "unresolved"  # its next events in this batch are recurrences
            _seen_again(changed.setdefault(issue.id, issue), row)
        row["issue_id"] = issue.id
        changes.append(IssueChange(kind, issue.id, row["title"], row["platform"], row["event"]))
    for issue in changed.values():
        conn.execute(
            "UPDATE issues SET count = count + ?, last_seen = max(last_seen, ?),"
            " last_event_id = ?, environment = coalesce(?, environment),"
            " release = coalesce(?, release),"
            " regressed = CASE WHEN status = 'resolved' THEN 1 ELSE regressed END,"
            " status = CASE WHEN status = 'resolved' THEN 'unresolved' ELSE status END"
            " WHERE id = ?",
            (
                issue.count,
                issue.last_seen,
                issue.last_event_id,
                issue.environment,
                issue.release,
                issue.id,
            ),
        )
    insert_rows(conn, "events", _EVENT_COLUMNS, [[r[c] for c in _EVENT_COLUMNS] for r in rows])
    return changes


def insert_rows(
    conn: sqlite3.Connection,
    table: str,
    names: tuple[str, ...],
    rows: list[list[Any]],
    *,
    verb: str = "INSERT",
) -> None:
    """`rows` (values in the order of `names`) with one INSERT a chunk of rows."""
    per_statement = _MAX_PARAMS // len(names)
    row_marks = "(" + ",".join("?" * len(names)) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        conn.execute(
            f"{verb} INTO {table} ({', '.join(names)}) VALUES {','.join([row_marks] * len(chunk))}",
            [value for row in chunk for value in row],
        )


def _event_rows(events: list[Event]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        row = _event_columns(event)
        if row["event_id"] not in rows:  # the first of two events with one id is the one kept
            row["data"] = _json.dumps(event)
            rows[row["event_id"]] = row
    return list(rows.values())


def _event_columns(event: Event) -> dict[str, Any]:
    """What the event and its issue store in columns (all but `data`, the event's JSON)."""
    event_id = str(event.get("event_id") or "")
    if not event_id:
        raise ValueError("event has no event_id")
    tags = _mapping(event.get("tags"))
    trace = _mapping(_mapping(event.get("contexts")).get("trace")).get("trace_id")
    return {
        "event": event,
        "event_id": event_id,
        "fingerprint": _grouping.fingerprint(event),
        "title": _titles.title(event),
        "timestamp": event_timestamp(event),
        "platform": str(event.get("platform") or "other"),  # Sentry's word for "not said"
        "level": _column(event.get("level")),
        "environment": _column(event.get("environment")),
        "release": _column(event.get("release")),
        "request_id": _column(tags.get("request_id")),
        "trace_id": _column(trace),
        "session_id": _column(tags.get("session_id")),
    }


def _chunks(values: list[Any]) -> Iterator[tuple[list[Any], str]]:
    for start in range(0, len(values), _IN_CHUNK):
        chunk = values[start : start + _IN_CHUNK]
        yield chunk, ",".join("?" * len(chunk))


def _stored_ids(conn: sqlite3.Connection, event_ids: list[str]) -> set[str]:
    stored: set[str] = set()
    for chunk, marks in _chunks(event_ids):
        sql = f"SELECT event_id FROM events WHERE event_id IN ({marks})"
        stored.update(r[0] for r in conn.execute(sql, chunk))
    return stored


def _issues(conn: sqlite3.Connection, fingerprints: set[str]) -> dict[str, _Issue]:
    issues: dict[str, _Issue] = {}
    for chunk, marks in _chunks(sorted(fingerprints)):
        sql = f"SELECT id, status, fingerprint FROM issues WHERE fingerprint IN ({marks})"
        for r in conn.execute(sql, chunk):
            issues[r["fingerprint"]] = _Issue(r["id"], r["status"])
    return issues


def _new_issue(conn: sqlite3.Connection, row: dict[str, Any]) -> _Issue:
    event, ts = row["event"], row["timestamp"]
    issue_id = conn.execute(
        "INSERT INTO issues (fingerprint, title, culprit, level, platform, environment,"
        " release, count, first_seen, last_seen, last_event_id)"
        " VALUES (?,?,?,?,?,?,?,1,?,?,?)",
        (
            row["fingerprint"],
            row["title"],
            _titles.culprit(event),
            row["level"] or "error",
            row["platform"],
            row["environment"],
            row["release"],
            ts,
            ts,
            row["event_id"],
        ),
    ).lastrowid
    assert issue_id is not None
    return _Issue(issue_id, "unresolved")


def _seen_again(issue: _Issue, row: dict[str, Any]) -> None:
    issue.count += 1
    issue.last_seen = max(issue.last_seen, row["timestamp"])
    issue.last_event_id = row["event_id"]
    issue.environment = row["environment"] or issue.environment
    issue.release = row["release"] or issue.release


def _column(value: Any) -> str | None:
    """A text column from an event field that should be a string but may be anything."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)[:200]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def event_values(data: Event) -> dict[str, dict[str, Any]]:
    """The values the writer binds for one event and its issue, by table and column (but its
    JSON, which is always text): what `unstorable` checks."""
    row = _event_columns(data)
    events = {c: row[c] for c in _EVENT_COLUMNS if c not in ("issue_id", "data")}
    issue = {"fingerprint": row["fingerprint"], "title": row["title"]}
    issue["culprit"] = _titles.culprit(data)
    return {"events": events, "issues": issue}
