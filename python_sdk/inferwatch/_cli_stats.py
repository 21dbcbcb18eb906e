"""`inferwatch stats [--json]`: what the collector received, stored, skipped and refused, and
what the store holds.

The JSON is a documented, stable format (see docs/sentry.md, "Counts"):

    {"store": "/abs/path/events.db",
     "ingest": {"since": "2026-01-01T10:00:00.000Z",
                "totals": {"received": 12, "stored": 10, "skipped": 1, "refused": 1},
                "last_24h": {...the same keys...},
                "items": [{"outcome": "skipped", "type": "session", "reason": "not_stored",
                           "count": 1, "last_24h": 1}, ...]},
     "held": {"issues": 3, "events": 10, "attachments": 1, "attachment_bytes": 2048,
              "feedback": 1, "generations": 0}}
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from ._cli_args import subcommand
from ._cli_read import print_json
from ._terminal import say, table
from .store import open_readonly
from .store._ingest_stats import OUTCOMES, held, ingest_stats


def cmd_stats(args: argparse.Namespace) -> int:
    with open_readonly(args.store) as conn:
        data = {
            "store": args.store,  # absolute, as every command resolves it
            "ingest": ingest_stats(conn, now=time.time()),
            "held": held(conn),
        }
    if args.json:
        print_json(data)
        return 0
    _print_text(data)
    return 0


def _print_text(data: dict[str, Any]) -> None:
    ingest = data["ingest"]
    say(f"store {data['store']}")
    say("  holds " + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in data["held"].items()))
    totals, recent = ingest["totals"], ingest["last_24h"]
    say("  ingest " + ", ".join(f"{totals[o]} {o} ({recent[o]} in 24 h)" for o in OUTCOMES))
    if not ingest["items"]:
        say("  nothing received yet")
        return
    say("")
    table(
        ingest["items"],
        [
            ("outcome", "OUTCOME", 9),
            ("type", "TYPE", 14),
            ("reason", "REASON", 14),
            ("count", "COUNT", 8),
            ("last_24h", "24 H", 0),
        ],
    )


def add_stats_parser(
    sub: Any, store_arg: Callable[[argparse.ArgumentParser], None]
) -> argparse.ArgumentParser:
    """Add `stats` to the CLI's subcommands."""
    parser: argparse.ArgumentParser = subcommand(
        sub, "stats", "items the collector received, stored, skipped and refused, and the store"
    )
    store_arg(parser)
    parser.add_argument("--json", action="store_true", help="print the documented JSON format")
    parser.set_defaults(func=cmd_stats)
    return parser
