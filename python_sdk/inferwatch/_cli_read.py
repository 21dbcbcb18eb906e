"""`inferwatch issues`, `show` and `generations`: the store read from a terminal or a script.

Any field of a stored event may hold any JSON (its sender chose it): each is checked for its
shape and escaped before it is printed. `--json` prints the documented, stable formats.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._cli_args import open_store
from ._terminal import escape, say, table
from .store import get_issue, latest_event, list_generations, list_issues


def print_json(data: Any) -> None:
    # ASCII JSON: the same content for scripts, and no C1 control character (U+009B is a
    # terminal's CSI) from an event's title reaches the terminal raw.
    json.dump(data, sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")


def cmd_issues(args: argparse.Namespace) -> int:
    with open_store(args) as conn:
        issues = list_issues(
            conn,
            status=None if args.status == "all" else args.status,
            platform=args.platform,
            environment=args.environment,
            release=args.release,
            search=args.search,
            limit=args.limit,
        )
    if args.json:
        print_json(issues)
        return 0
    if not issues:
        print("No issues.")
        return 0
    table(
        issues,
        [
            ("id", "ID", 5),
            ("status", "STATUS", 10),
            ("platform", "PLATFORM", 10),
            ("count", "COUNT", 6),
            ("last_seen", "LAST SEEN", 24),
            ("title", "TITLE", 0),
        ],
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_store(args) as conn:
        issue = get_issue(conn, args.issue_id)
        event = latest_event(conn, args.issue_id) if issue else None
    if issue is None:
        print(f"inferwatch: no issue {args.issue_id} in {args.store}", file=sys.stderr)
        return 1
    if args.json:
        print_json({**issue, "latest_event": event})
        return 0
    say(f"#{issue['id']} {escape(issue['title'])}")
    say(f"  {escape(issue['culprit'])}")
    say(
        f"  {escape(issue['status'])} · {escape(issue['platform'])} · {issue['count']} events · "
        f"first {issue['first_seen']} · last {issue['last_seen']}"
    )
    if event:
        _print_event(event)
    return 0


def _print_event(event: dict[str, Any]) -> None:
    """The parts of a stored event a person reads first. Any field may hold any JSON (the
    sender chose it), so each is checked for its shape and escaped before it is printed."""
    tags = _pairs(event.get("tags"))
    if tags:
        say("  tags: " + ", ".join(f"{escape(k)}={escape(v)}" for k, v in sorted(tags)))
    model = _dict(_dict(event.get("contexts")).get("model"))
    if model:
        name, status, ms = (escape(model.get(k)) for k in ("name", "status", "duration_ms"))
        say(f"  model: {name} {status} in {ms} ms")
        for key in ("input", "output", "error"):
            if model.get(key):
                say(f"    {key}: {escape(json.dumps(model[key], ensure_ascii=False)[:300])}")
    for exc in map(_dict, _list(_dict(event.get("exception")).get("values"))):
        say(f"  {escape(exc.get('type'))}: {escape(exc.get('value'))}")
        for frame in map(_dict, _list(_dict(exc.get("stacktrace")).get("frames"))[-8:]):
            mark = "*" if frame.get("in_app") else " "
            where = f"{escape(frame.get('filename'))}:{escape(frame.get('lineno'))}"
            say(f"   {mark} {where} in {escape(frame.get('function'))}")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pairs(tags: Any) -> list[tuple[str, str]]:
    """Tags as (key, value) text: Sentry sends a mapping or a list of `[key, value]` pairs."""
    if isinstance(tags, dict):
        return [(str(k), str(v)) for k, v in tags.items()]
    pairs = [p for p in _list(tags) if isinstance(p, list) and len(p) == 2]
    return [(str(k), str(v)) for k, v in pairs]


def cmd_generations(args: argparse.Namespace) -> int:
    with open_store(args) as conn:
        rows = list_generations(conn, model=args.model, limit=args.limit)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No generations.")
        return 0
    table(
        rows,
        [
            ("timestamp", "TIME", 24),
            ("source", "SOURCE", 8),
            ("model", "MODEL", 16),
            ("status", "STATUS", 10),
            ("duration_ms", "MS", 10),
            ("first_chunk_ms", "FIRST MS", 10),
            ("request_id", "REQUEST", 0),
        ],
    )
    return 0
