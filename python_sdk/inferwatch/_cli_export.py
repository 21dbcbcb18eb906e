"""`inferwatch export`: stored rows as JSON lines or CSV, for spreadsheets and scripts."""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

from ._cli_args import open_store
from ._errors import ConfigError
from ._terminal import escape
from .store._timestamps import iso, parse_timestamp

EXPORTS = {
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
    since = parse_since(args.since)
    with open_store(args) as conn:
        table = "events" if args.kind == "events" else args.kind
        total = conn.execute(
            f"SELECT COUNT(*) FROM {table} WHERE timestamp >= ?", (since,)
        ).fetchone()[0]
        rows = (dict(r) for r in conn.execute(EXPORTS[args.kind], (since,)))
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
    return escape(value) if terminal else value


def parse_since(value: str | None) -> float:
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
