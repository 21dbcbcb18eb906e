"""The `inferwatch` command: read the local store from a terminal or a script.

`--json` output is a documented, stable format (see docs/formats.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import mcp, serve
from ._cli_export import EXPORTS, cmd_export
from ._cli_read import cmd_generations, cmd_issues, cmd_show, print_json
from ._cli_sourcemaps import add_parser as add_sourcemaps_parser
from ._cli_stats import add_stats_parser
from ._errors import InferwatchError
from ._ids import count_argument, id_argument
from ._options import DEFAULT_STORE
from ._terminal import escape, say
from .collector import load_or_create_key
from .store import open_readonly
from .store._queries import events_after, last_event_rowid
from .store._retention import Retention, apply_retention
from .store._timestamps import iso

Command = Callable[[argparse.Namespace], int]


def _store_arg(parser: argparse.ArgumentParser) -> None:
    default = os.environ.get("INFERWATCH_STORE") or str(DEFAULT_STORE)
    parser.add_argument("--store", default=default, help=f"the store file (default {default})")


def cmd_serve(args: argparse.Namespace) -> int:
    return serve.run(serve.config_from_args(args, os.environ))


def cmd_mcp(args: argparse.Namespace) -> int:
    return mcp.run(mcp.config_from_args(args, os.environ))


def cmd_snippet(args: argparse.Namespace) -> int:
    key = args.key or load_or_create_key(Path(args.store))
    print(serve.snippet_tag(args.url, key, release=args.release, environment=args.environment))
    return 0


def cmd_tail(args: argparse.Namespace) -> int:
    """Print events as they are stored, one line each, until Ctrl-C."""
    with _wait_for_store(args.store) as conn:
        after = last_event_rowid(conn, back=args.last)
        while True:
            rows = events_after(conn, after)
            for row in rows:
                _print_tail_line(row, args.json)
                after = row["id"]
            sys.stdout.flush()
            if not rows:
                time.sleep(args.interval)


def _wait_for_store(path: str) -> sqlite3.Connection:
    while not Path(path).exists():  # `tail` may start before the first event is captured
        time.sleep(0.5)
    return open_readonly(path)


def _print_tail_line(row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        # ASCII JSON: valid for scripts, and nothing in it can drive a terminal.
        print(json.dumps({**row, "timestamp": iso(row["timestamp"])}))
        return
    where = escape(row["request_id"] or row["session_id"] or "-")
    platform = escape(row["platform"] or "?")
    say(
        f"{iso(row['timestamp'])}  {platform:10.10}  #{row['issue_id']:<5}"
        f"  {escape(row['title'])}  [{where}]"
    )


def cmd_prune(args: argparse.Namespace) -> int:
    """Apply the retention rules once (`serve` does it every ten minutes by itself)."""
    if not Path(args.store).exists():
        print(f"inferwatch: no store at {args.store}", file=sys.stderr)
        return 1
    policy = Retention(
        max_events=args.max_events,
        max_events_per_issue=args.max_events_per_issue,
        max_age_days=args.max_age_days,
    )
    deleted = apply_retention(args.store, policy)
    if args.json:
        print_json(deleted)
    else:
        print(", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in deleted.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inferwatch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("issues", help="grouped errors, newest activity first")
    _store_arg(p)
    p.add_argument("--json", action="store_true", help="print the documented JSON format")
    p.add_argument("--status", choices=["unresolved", "resolved", "ignored"])
    p.add_argument("--platform")
    p.add_argument("--environment")
    p.add_argument("--release")
    p.add_argument("--search", help="text in the title, or a request id or trace id")
    p.add_argument("--limit", type=count_argument, default=100)
    p.set_defaults(func=cmd_issues)

    p = sub.add_parser("show", help="one issue and its latest event")
    _store_arg(p)
    p.add_argument("issue_id", type=id_argument)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("generations", help="the latest generation records")
    _store_arg(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--model")
    p.add_argument("--limit", type=count_argument, default=50)
    p.set_defaults(func=cmd_generations)

    p = sub.add_parser("serve", help="the collector, the dashboard and /metrics in one process")
    _store_arg(p)
    serve.add_arguments(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("mcp", help="a Model Context Protocol server over the store, for agents")
    _store_arg(p)
    mcp.add_arguments(p)
    p.set_defaults(func=cmd_mcp)

    p = sub.add_parser("tail", help="new events as they arrive, one line each, until Ctrl-C")
    _store_arg(p)
    p.add_argument(
        "--last", type=count_argument, default=10, help="also print the last N stored events"
    )
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_tail)

    p = sub.add_parser("snippet", help="the <script> tag to paste, for a collector URL and key")
    _store_arg(p)
    p.add_argument("--url", default="http://127.0.0.1:8765", help="the collector's URL")
    p.add_argument("--key", help="the public key (default: the one kept beside the store)")
    p.add_argument("--release", help="your app's version, put on every event (data-release)")
    p.add_argument("--environment", help="e.g. production, put on every event (data-environment)")
    p.set_defaults(func=cmd_snippet)

    p = sub.add_parser("prune", help="apply the retention rules to the store once")
    _store_arg(p)
    p.add_argument("--max-events", type=int, default=Retention.max_events)
    p.add_argument("--max-events-per-issue", type=int, default=Retention.max_events_per_issue)
    p.add_argument("--max-age-days", type=float, default=Retention.max_age_days)
    p.add_argument("--json", action="store_true", help="the rows deleted, by reason")
    p.set_defaults(func=cmd_prune)

    add_stats_parser(sub, _store_arg)

    p = sub.add_parser("export", help="events, generations, usage or requests as JSONL or CSV")
    _store_arg(p)
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--kind", choices=list(EXPORTS), default="events")
    p.add_argument("--since", help="an ISO 8601 time or an age such as 6h or 7d")
    p.add_argument("--output", "-o", help="a file to write (default: standard output)")
    p.set_defaults(func=cmd_export)

    add_sourcemaps_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InferwatchError as exc:
        print(exc, file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # a store that went away or broke mid-read: a line, no traceback
        print(f"inferwatch: cannot read the store at {args.store}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
