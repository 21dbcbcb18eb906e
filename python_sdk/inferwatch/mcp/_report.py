"""One issue as an agent needs it: the event's exception with the app's source lines, the model
context, the timeline before the error, the request, tags and contexts.

Read once through the issue page's own queries and shapes (`_queries`, `event_view`,
`_timeline.build`), then shaped with each of `LIMITS` in turn until the report fits its budget:
a huge event loses detail (fewer source lines, shorter values), never its structure.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..dashboard import _timeline
from ..dashboard._view import event_view
from ..store import _queries as q
from ..store._timestamps import iso
from ._budget import ISSUE_TARGET_CHARS, LIMITS, MAX_SOURCE_LINE_CHARS, Limits, clip, clip_value
from ._budget import dumps as to_json


class NotFound(LookupError):
    """The issue or event asked for is not in the store (or no row can have its id)."""


def issue_report(
    conn: sqlite3.Connection, number: int, event_id: str | None = None
) -> dict[str, Any]:
    """Issue `number` and one of its events (the latest by default), within the budget.

    >>> issue_report(conn, 3)["event"]["model"]["input"]  # doctest: +SKIP
    {'type': 'image', 'image': {'format': 'PNG', 'mode': 'RGBA', ...}}
    """
    found = q.get_issue(conn, number)
    if found is None:
        raise NotFound(f"No issue {number} in the store.")
    row = q.get_event(conn, number, event_id) if event_id else q.latest_event_row(conn, number)
    if row is None and event_id:
        raise NotFound(f"Issue {number} has no event {event_id[:64]!r}.")
    found["affected"] = q.issue_affected(conn, [number])[number]
    issue = {**found, "title": clip(found["title"]), "culprit": clip(found["culprit"])}
    if row is None:  # retention kept the issue but none of its events
        return {"issue": issue, "event": None, "timeline": []}
    older, newer = q.adjacent_events(conn, number, row["timestamp"], row["id"])
    view, entries = event_view(row["data"]), _timeline.build(conn, row)

    def shaped(limits: Limits) -> dict[str, Any]:
        event = {**_event(row, view, limits), "older_event_id": older, "newer_event_id": newer}
        return {"issue": issue, "event": event, "timeline": _timeline_rows(entries, limits)}

    fitting = (r for r in map(shaped, LIMITS) if len(to_json(r)) <= ISSUE_TARGET_CHARS)
    return next(fitting, None) or shaped(LIMITS[-1])


def _event(row: dict[str, Any], view: dict[str, Any], limits: Limits) -> dict[str, Any]:
    columns = ("event_id", "platform", "level", "environment", "release", "request_id")
    exceptions = view["exceptions"][: limits.exceptions]
    budget = [limits.source_frames]  # shared by the exceptions, the raised one first
    value = limits.value_chars
    return {
        **{c: row[c] for c in columns},
        "trace_id": row["trace_id"],
        "session_id": row["session_id"],
        "timestamp": iso(row["timestamp"]),
        "message": clip(view["message"]),
        "exceptions": [_exception(e, limits, budget) for e in exceptions],
        "exceptions_omitted": len(view["exceptions"]) - len(exceptions),
        "model": _model(view["model"], value),
        "request": clip_value(view["request"], value),
        "user": clip_value(view["user"], value) if view["user"] else None,
        "tags": [[clip(k, 200), clip(v)] for k, v in view["tags"][: limits.tags]],
        "contexts": clip_value(view["contexts"], value),
    }


def _exception(exc: dict[str, Any], limits: Limits, budget: list[int]) -> dict[str, Any]:
    """The exception, innermost frame first; the app's frames carry their source lines while
    `budget[0]` (frames with source, shared across the exceptions) lasts."""
    frames = [f for group in exc["groups"] for f in group["frames"]]
    shown = []
    for frame in frames[: limits.frames]:
        out = {k: frame[k] for k in ("where", "function", "lineno", "in_app")}
        out["where"], out["function"] = clip(out["where"], 300), clip(out["function"], 200)
        if frame["in_app"] and frame["source"] and budget[0] > 0:
            budget[0] -= 1
            out["source"] = _source(frame["source"], limits.source_lines)
            if frame["vars"]:
                out["vars"] = clip_value(frame["vars"], limits.value_chars // 4)
        shown.append(out)
    mechanism = exc["mechanism"]
    return {
        "type": clip(exc["type"], 200),
        "value": clip(exc["value"]),
        "handled": mechanism.get("handled"),
        "mechanism": clip(str(mechanism.get("type") or ""), 100) or None,
        "frames": shown,
        "frames_omitted": len(frames) - len(shown),
    }


def _source(numbered: list[tuple[int | None, str, bool]], around: int) -> list[list[Any]]:
    """`around` lines each side of the frame's line: [number, text, is the frame's line]."""
    at = next((i for i, (_, _, here) in enumerate(numbered) if here), 0)
    window = numbered[max(0, at - around) : at + around + 1]
    return [[n, clip(text, MAX_SOURCE_LINE_CHARS), here] for n, text, here in window]


def _model(model: dict[str, Any] | None, value: int) -> dict[str, Any] | None:
    """What the model received, did and returned (`contexts.model`, as the issue page reads it)."""
    if model is None:
        return None
    notes = [
        {"stage": n["stage"], "at_ms": n["at_ms"], **dict(n["fields"])} for n in model["notes"]
    ]
    named = ("name", "version", "status")
    return {
        **{k: clip(model[k], 200) for k in named},
        "duration_ms": model["duration_ms"],
        "first_chunk_ms": model["first_chunk_ms"],
        "input_tokens": model["input_tokens"],
        "output_tokens": model["output_tokens"],
        "input": clip_value(model["input"], value),
        "notes": clip_value(notes, value),
        "output": clip_value(model["output"], value),
        "error": clip_value(model["error"], value),
        "truncated": model["truncated"],
    }


def _timeline_rows(entries: list[_timeline.Entry], limits: Limits) -> list[dict[str, Any]]:
    """The timeline rows nearest the error, oldest first; `at` is seconds from the error."""
    nearest = sorted(entries, key=lambda e: abs(e.offset))[: limits.timeline]
    rows = []
    for e in sorted(nearest, key=lambda e: e.ts):
        row: dict[str, Any] = {"at": round(e.offset, 3), "kind": e.kind, "source": e.source}
        row["text"] = clip(e.text)
        fields = (("detail", e.detail), ("level", e.level), ("logger", e.logger))
        for name, value in (*fields, ("issue_id", e.issue_id)):
            if value:
                row[name] = clip(value, 300) if isinstance(value, str) else value
        rows.append(row)
    return rows
