"""The `inferwatch` command: read the local store from a terminal or a script.

`--json` output is a documented, stable format (see the README's "JSON formats").
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import serve
from ._errors import ConfigError, InferwatchError
from ._options import DEFAULT_STORE
from .collector import load_or_create_key
from .store import get_issue, latest_event, list_generations, list_issues, open_readonly
from .store._queries import events_after, last_event_rowid
from .store._retention import Retention, apply_retention
from .store._timestamps import iso, parse_timestamp

Command = Callable[[argparse.Namespace], int]


def _store_arg(parser: argparse.ArgumentParser) -> None:
    default = os.environ.get("INFERWATCH_STORE") or str(DEFAULT_STORE)
    parser.add_argument("--store", default=default, help=f"the store file (default {default})")


def _print_json(data: Any) -> None:
    # ASCII JSON: the same content for scripts, and no C1 control character (U+009B is a
    # terminal's CSI) from an event's title reaches the terminal raw.
    json.dump(data, sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _say(text: str = "") -> None:
    """Print a line that holds data from apps and browsers, control characters made visible.

    A crafted error message must not be able to drive the terminal (escape sequences).
    """
    print(_visible(text))


def _visible(text: str) -> str:
    """`text` with its control characters written out (`\\x1b`)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, int]]) -> None:
    """Rows as aligned columns: (key, heading, width); the last column takes the rest."""
    _say("  ".join(h.ljust(w) for _, h, w in columns).rstrip())
    for row in rows:
        cells = []
        for key, _, width in columns:
            text = "" if row.get(key) is None else str(row[key])
            cells.append(text[:width].ljust(width) if width else text)
        _say("  ".join(cells).rstrip())


def cmd_issues(args: argparse.Namespace) -> int:
    with open_readonly(args.store) as conn:
        issues = list_issues(
            conn,
            status=args.status,
            platform=args.platform,
            environment=args.environment,
            release=args.release,
            search=args.search,
            limit=args.limit,
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
    _say(f"#{issue['id']} {issue['title']}\n  {issue['culprit']}")
    _say(
        f"  {issue['status']} · {issue['platform']} · {issue['count']} events · "
        f"first {issue['first_seen']} · last {issue['last_seen']}"
    )
    if event:
        _print_event(event)
    return 0


def _print_event(event: dict[str, Any]) -> None:
    tags = event.get("tags") or {}
    if tags:
        _say("  tags: " + ", ".join(f"{k}={v}" for k, v in sorted(tags.items())))
    model = (event.get("contexts") or {}).get("model")
    if model:
        _say(f"  model: {model.get('name')} {model.get('status')} in {model.get('duration_ms')} ms")
        for key in ("input", "output", "error"):
            if model.get(key):
                _say(f"    {key}: {json.dumps(model[key], ensure_ascii=False)[:300]}")
    for exc in (event.get("exception") or {}).get("values") or []:
        _say(f"  {exc.get('type')}: {exc.get('value')}")
        for frame in ((exc.get("stacktrace") or {}).get("frames") or [])[-8:]:
            mark = "*" if frame.get("in_app") else " "
            _say(
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


def cmd_serve(args: argparse.Namespace) -> int:
    return serve.run(serve.config_from_args(args, os.environ))


def cmd_snippet(args: argparse.Namespace) -> int:
    key = args.key or load_or_create_key(Path(args.store))
    print(serve.snippet_tag(args.url, key))
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
    where = row["request_id"] or row["session_id"] or "-"
    _say(
        f"{iso(row['timestamp'])}  {row['platform'] or '?':10.10}  #{row['issue_id']:<5}"
        f"  {row['title']}  [{where}]"
    )


_EXPORTS = {
    "events": (
        "SELECT e.id, e.event_id, e.issue_id, e.timestamp, e.platform, e.level, e.environment,"
        " e.release, e.request_id, e.trace_id, e.session_id, i.title, e.data FROM events e"
        " JOIN issues i ON i.id = e.issue_id WHERE e.timestamp >= ? ORDER BY e.timestamp, e.id"
    ),
    "generations": "SELECT * FROM generations WHERE timestamp >= ? ORDER BY timestamp, id",
    "usage": "SELECT * FROM usage WHERE timestamp >= ? ORDER BY timestamp, id",
    "requests": "SELECT * FROM requests WHERE timestamp >= ? ORDER BY timestamp, id",
}
_JSON_COLUMNS = {"data"}
_PROGRESS_EVERY = 10_000


def cmd_export(args: argparse.Namespace) -> int:
    """Rows as JSON lines or CSV, oldest first, with a progress line on stderr."""
    since = _since(args.since)
    with open_readonly(args.store) as conn:
        table = "events" if args.kind == "events" else args.kind
        total = conn.execute(
            f"SELECT COUNT(*) FROM {table} WHERE timestamp >= ?", (since,)
        ).fetchone()[0]
        rows = (dict(r) for r in conn.execute(_EXPORTS[args.kind], (since,)))
        if args.output:
            with open(args.output, "w", newline="", encoding="utf-8") as out:
                written = _write_export(rows, args.format, out, total)
        else:
            written = _write_export(rows, args.format, sys.stdout, total)
    if total >= _PROGRESS_EVERY or args.output:
        print(f"exported {written} {args.kind}", file=sys.stderr)
    return 0


def _write_export(rows: Iterator[dict[str, Any]], fmt: str, out: TextIO, total: int) -> int:
    writer: Any = None
    terminal = out.isatty()
    n = 0
    for n, row in enumerate(rows, 1):
        row["timestamp"] = iso(row["timestamp"])
        if fmt == "jsonl":
            for column in _JSON_COLUMNS & row.keys():
                row[column] = json.loads(row[column]) if row[column] else None
            out.write(json.dumps(row) + "\n")  # ASCII, as `--json`: stdout may be a terminal
        else:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row))
                writer.writeheader()
            writer.writerow({k: _csv_cell(v, terminal) for k, v in row.items()})
        if n % _PROGRESS_EVERY == 0:
            print(f"\r{n}/{total} rows", end="", file=sys.stderr, flush=True)
    if n >= _PROGRESS_EVERY:
        print(file=sys.stderr)
    return n


def _csv_cell(value: Any, terminal: bool) -> Any:
    """A CSV cell that a spreadsheet will not run and a terminal will not obey: text from apps
    and browsers that starts like a formula gets a leading `'` (OWASP's advice against CSV
    injection), and control characters are made visible when the CSV goes to a terminal."""
    if not isinstance(value, str):
        return value
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        value = "'" + value
    return _visible(value) if terminal else value


def _since(value: str | None) -> float:
    """`--since`: an ISO 8601 time, epoch seconds, or an age such as `30m`, `6h`, `7d`."""
    if not value:
        return 0.0
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", value.strip())
    if match:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
        return time.time() - float(match[1]) * unit
    ts = parse_timestamp(float(value) if value.replace(".", "", 1).isdigit() else value)
    if ts is None:
        raise ConfigError(f"inferwatch: --since must be a time or an age like 6h, got {value!r}")
    return ts


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
        _print_json(deleted)
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

    p = sub.add_parser("serve", help="the collector, the dashboard and /metrics in one process")
    _store_arg(p)
    serve.add_arguments(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("tail", help="new events as they arrive, one line each, until Ctrl-C")
    _store_arg(p)
    p.add_argument("--last", type=int, default=10, help="also print the last N stored events")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_tail)

    p = sub.add_parser("snippet", help="the <script> tag to paste, for a collector URL and key")
    _store_arg(p)
    p.add_argument("--url", default="http://127.0.0.1:8765", help="the collector's URL")
    p.add_argument("--key", help="the public key (default: the one kept beside the store)")
    p.set_defaults(func=cmd_snippet)

    p = sub.add_parser("prune", help="apply the retention rules to the store once")
    _store_arg(p)
    p.add_argument("--max-events", type=int, default=Retention.max_events)
    p.add_argument("--max-events-per-issue", type=int, default=Retention.max_events_per_issue)
    p.add_argument("--max-age-days", type=float, default=Retention.max_age_days)
    p.add_argument("--json", action="store_true", help="the rows deleted, by reason")
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("export", help="events, generations, usage or requests as JSONL or CSV")
    _store_arg(p)
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--kind", choices=list(_EXPORTS), default="events")
    p.add_argument("--since", help="an ISO 8601 time or an age such as 6h or 7d")
    p.add_argument("--output", "-o", help="a file to write (default: standard output)")
    p.set_defaults(func=cmd_export)
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
