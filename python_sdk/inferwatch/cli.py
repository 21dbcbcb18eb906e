"""The `inferwatch` command: read the local store from a terminal or a script.

`--json` output is a documented, stable format (see docs/formats.md).
"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from . import mcp, serve
from ._cli_args import (
    HelpFormatter,
    add_version,
    resolve_store,
    say_store,
    store_argument,
    subcommand,
)
from ._cli_export import EXPORTS, cmd_export
from ._cli_read import cmd_generations, cmd_issues, cmd_show, print_json
from ._cli_sourcemaps import add_parser as add_sourcemaps_parser
from ._cli_stats import add_stats_parser
from ._cli_tail import cmd_tail
from ._errors import InferwatchError
from ._ids import count_argument, id_argument
from ._serve_address import running
from ._serve_config import add_retention_arguments
from .collector import load_or_create_key
from .store._retention import Retention, apply_retention

DEFAULT_URL = "http://127.0.0.1:8765"
CLOSED_PIPE = 141  # what a shell reports for a program stopped by SIGPIPE (128 + 13)


def cmd_serve(args: argparse.Namespace) -> int:
    return serve.run(serve.config_from_args(args, os.environ))


def cmd_mcp(args: argparse.Namespace) -> int:
    return mcp.run(mcp.config_from_args(args, os.environ))


def cmd_snippet(args: argparse.Namespace) -> int:
    """The tag for the collector serving this store when one runs, else for `--url`'s default."""
    store = Path(args.store)
    serving = running(store) if args.url is None or args.key is None else None
    url = args.url or (serving.url if serving else DEFAULT_URL)
    key = args.key or (serving.key if serving else load_or_create_key(store))
    say_store(store)
    print(serve.snippet_tag(url, key, release=args.release, environment=args.environment))
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    """Apply the retention rules once (`serve` does it every ten minutes by itself)."""
    if not Path(args.store).exists():
        print(f"inferwatch: no store at {args.store}", file=sys.stderr)
        return 1
    say_store(args.store)
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
    parser = argparse.ArgumentParser(
        prog="inferwatch", description=__doc__.splitlines()[0], formatter_class=HelpFormatter
    )
    add_version(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_reading_commands(sub)
    _add_serving_commands(sub)

    p = subcommand(sub, "prune", "apply the retention rules to the store once")
    store_argument(p)
    add_retention_arguments(p)
    p.add_argument("--json", action="store_true", help="the rows deleted, by reason")
    p.set_defaults(func=cmd_prune)

    add_stats_parser(sub, store_argument)

    p = subcommand(sub, "export", "events, generations, usage or requests as JSONL or CSV")
    store_argument(p)
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="the file format")
    p.add_argument("--kind", choices=list(EXPORTS), default="events", help="the rows to export")
    p.add_argument("--since", help="an ISO 8601 time or an age such as 6h or 7d (default: all)")
    p.add_argument("--output", "-o", help="a file to write (default: standard output)")
    p.set_defaults(func=cmd_export)

    add_sourcemaps_parser(sub)
    return parser


def _add_reading_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subcommand(sub, "issues", "grouped errors, newest activity first")
    store_argument(p)
    p.add_argument("--json", action="store_true", help="print the documented JSON format")
    p.add_argument(
        "--status",
        choices=["unresolved", "resolved", "ignored", "all"],
        default="all",
        help="only issues with this status",
    )
    p.add_argument("--platform", help="only issues from this platform (python, javascript, ...)")
    p.add_argument("--environment", help="only issues seen in this environment")
    p.add_argument("--release", help="only issues seen in this release")
    p.add_argument("--search", help="text in the title, or a request id or trace id")
    p.add_argument("--limit", type=count_argument, default=100, help="the most issues to print")
    p.set_defaults(func=cmd_issues)

    p = subcommand(sub, "show", "one issue and its latest event")
    store_argument(p)
    p.add_argument("issue_id", type=id_argument, metavar="ISSUE_ID")
    p.add_argument("--json", action="store_true", help="print the documented JSON format")
    p.set_defaults(func=cmd_show)

    p = subcommand(sub, "generations", "the latest generation records")
    store_argument(p)
    p.add_argument("--json", action="store_true", help="print the documented JSON format")
    p.add_argument("--model", help="only this model's records")
    p.add_argument("--limit", type=count_argument, default=50, help="the most records to print")
    p.set_defaults(func=cmd_generations)

    p = subcommand(sub, "tail", "new events as they arrive, one line each, until Ctrl-C")
    store_argument(p)
    p.add_argument(
        "--last", type=count_argument, default=10, help="also print the last N stored events"
    )
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_tail)


def _add_serving_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subcommand(sub, "serve", "the collector, the dashboard and /metrics in one process")
    store_argument(p)
    serve.add_arguments(p)
    p.set_defaults(func=cmd_serve)

    p = subcommand(sub, "mcp", "a Model Context Protocol server over the store, for agents")
    store_argument(p)
    mcp.add_arguments(p)
    p.set_defaults(func=cmd_mcp)

    p = subcommand(sub, "snippet", "the <script> tag to paste, for a collector URL and key")
    store_argument(p)
    p.add_argument(
        "--url",
        help="the collector's URL (default: the address of the inferwatch serve running on"
        f" this store, else {DEFAULT_URL})",
    )
    p.add_argument(
        "--key",
        help="the public key (default: the one of the inferwatch serve running on this store,"
        " else the one kept beside the store)",
    )
    p.add_argument("--release", help="your app's version, put on every event (data-release)")
    p.add_argument("--environment", help="e.g. production, put on every event (data-environment)")
    p.set_defaults(func=cmd_snippet)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors a user can fix are one line on stderr, never a traceback."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
    except BrokenPipeError:
        return _closed_pipe()


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    store = resolve_store(args)
    try:
        return int(args.func(args))
    except InferwatchError as exc:
        print(exc, file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # a store that went away or broke mid-read: a line, no traceback
        print(f"inferwatch: cannot read the store at {store}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except OSError as exc:  # a file named on the command line that cannot be read or written
        print(f"inferwatch: {_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _os_error(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc)


def _closed_pipe() -> int:
    """The reader went away (`inferwatch show 1 | head`): stop quietly, as `cat` does. What is
    left in Python's buffer would fail again at exit, so the rest goes to the null device."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return CLOSED_PIPE
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    return CLOSED_PIPE


if __name__ == "__main__":
    sys.exit(main())
