"""The `inferwatch` command: read the local store from a terminal or a script.

`--json` output is a documented, stable format (see the README's "JSON formats").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ._errors import InferwatchError
from ._options import DEFAULT_STORE
from .store import get_issue, latest_event, list_generations, list_issues, open_readonly

Command = Callable[[argparse.Namespace], int]


def _store_arg(parser: argparse.ArgumentParser) -> None:
    default = os.environ.get("INFERWATCH_STORE") or str(DEFAULT_STORE)
    parser.add_argument("--store", default=default, help=f"the store file (default {default})")


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, int]]) -> None:
    """Rows as aligned columns: (key, heading, width); the last column takes the rest."""
    print("  ".join(h.ljust(w) for _, h, w in columns).rstrip())
    for row in rows:
        cells = []
        for key, _, width in columns:
            text = "" if row.get(key) is None else str(row[key])
            cells.append(text[:width].ljust(width) if width else text)
        print("  ".join(cells).rstrip())


def cmd_issues(args: argparse.Namespace) -> int:
    with open_readonly(args.store) as conn:
        issues = list_issues(
            conn, status=args.status, platform=args.platform, search=args.search, limit=args.limit
        )
    if args.json:
        _print_json(issues)
        return 0
    if not issues:
        print("No issues.")
        return 0
    _table(
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
    with open_readonly(args.store) as conn:
        issue = get_issue(conn, args.issue_id)
        event = latest_event(conn, args.issue_id) if issue else None
    if issue is None:
        print(f"inferwatch: no issue {args.issue_id} in {args.store}", file=sys.stderr)
        return 1
    if args.json:
        _print_json({**issue, "latest_event": event})
        return 0
    print(f"#{issue['id']} {issue['title']}\n  {issue['culprit']}")
    print(
        f"  {issue['status']} · {issue['platform']} · {issue['count']} events · "
        f"first {issue['first_seen']} · last {issue['last_seen']}"
    )
    if event:
        _print_event(event)
    return 0


def _print_event(event: dict[str, Any]) -> None:
    tags = event.get("tags") or {}
    if tags:
        print("  tags: " + ", ".join(f"{k}={v}" for k, v in sorted(tags.items())))
    model = (event.get("contexts") or {}).get("model")
    if model:
        print(
            f"  model: {model.get('name')} {model.get('status')} in {model.get('duration_ms')} ms"
        )
        for key in ("input", "output", "error"):
            if model.get(key):
                print(f"    {key}: {json.dumps(model[key], ensure_ascii=False)[:300]}")
    for exc in (event.get("exception") or {}).get("values") or []:
        print(f"  {exc.get('type')}: {exc.get('value')}")
        for frame in ((exc.get("stacktrace") or {}).get("frames") or [])[-8:]:
            mark = "*" if frame.get("in_app") else " "
            print(
                f"   {mark} {frame.get('filename')}:{frame.get('lineno')} in {frame.get('function')}"
            )


def cmd_generations(args: argparse.Namespace) -> int:
    with open_readonly(args.store) as conn:
        rows = list_generations(conn, model=args.model, limit=args.limit)
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No generations.")
        return 0
    _table(
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inferwatch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("issues", help="grouped errors, newest activity first")
    _store_arg(p)
    p.add_argument("--json", action="store_true", help="print the documented JSON format")
    p.add_argument("--status", choices=["unresolved", "resolved", "ignored"])
    p.add_argument("--platform")
    p.add_argument("--search", help="text in the title, or a request id or trace id")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_issues)

    p = sub.add_parser("show", help="one issue and its latest event")
    _store_arg(p)
    p.add_argument("issue_id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("generations", help="the latest generation records")
    _store_arg(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--model")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_generations)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InferwatchError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
