"""`inferwatch tail`: events printed as they are stored, one line each, until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from ._cli_args import open_store
from ._terminal import escape, say
from .store._queries import events_after, last_event_rowid
from .store._timestamps import iso


def cmd_tail(args: argparse.Namespace) -> int:
    """Print events as they are stored, one line each, until Ctrl-C."""
    with _wait_for_store(args) as conn:
        after = last_event_rowid(conn, back=args.last)
        while True:
            rows = events_after(conn, after)
            for row in rows:
                _print_tail_line(row, args.json)
                after = row["id"]
            sys.stdout.flush()
            if not rows:
                time.sleep(args.interval)


def _wait_for_store(args: argparse.Namespace) -> sqlite3.Connection:
    while not Path(args.store).exists():  # `tail` may start before the first event is captured
        time.sleep(0.5)
    return open_store(args)


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
