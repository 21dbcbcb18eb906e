"""What every `inferwatch` command shares: `--version`, `--store`, and help that shows defaults.

>>> parser = argparse.ArgumentParser(prog="inferwatch", formatter_class=HelpFormatter)
>>> commands = parser.add_subparsers(dest="command")
>>> issues = subcommand(commands, "issues", "grouped errors")
>>> store_argument(issues)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ._store_location import absolute, default_store
from ._version import VERSION
from .store import open_readonly
from .store._connection import Connection

SubCommands = Any  # argparse's `_SubParsersAction`, a private class


class HelpFormatter(argparse.HelpFormatter):
    """Help that shows each flag's default, unless its text already says it or there is
    none worth saying (no value, an off switch, an empty list)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        quiet = default is None or default is False or default == [] or default == ()
        if (
            "default" in text.lower()
            or quiet
            or default is argparse.SUPPRESS
            or not action.option_strings
        ):
            return action.help
        return f"{text} (default: %(default)s)"


def add_version(parser: argparse.ArgumentParser) -> None:
    """`--version`, which prints `inferwatch X.Y.Z` and exits."""
    parser.add_argument("--version", action="version", version=f"inferwatch {VERSION}")


def subcommand(commands: SubCommands, name: str, help: str, **kwargs: Any) -> Any:
    """A command of `inferwatch` (or of one of its commands): defaults in its help, and
    `--version` like every command."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help, formatter_class=HelpFormatter, **kwargs
    )
    add_version(parser)
    return parser


def store_argument(parser: argparse.ArgumentParser) -> None:
    """`--store PATH`; without it, the store `init` would use from this folder (see
    `_store_location`), resolved when the command runs (`resolve_store`)."""
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="the store file (default: INFERWATCH_STORE, else events.db in the nearest"
        " .inferwatch/ folder, here or in a parent folder, else .inferwatch/events.db here;"
        f" from this folder: {default_store(os.environ)})",
    )


def resolve_store(args: argparse.Namespace) -> Path | None:
    """The absolute store path of parsed arguments (None for a command without a store);
    `args.store` is set to it, as text."""
    if not hasattr(args, "store"):
        return None
    path = absolute(args.store) if args.store else default_store(os.environ)
    args.store = str(path)
    return path


def open_store(args: argparse.Namespace) -> Connection:
    """The command's store, opened read-only (a `with` block closes it), and named on stderr
    once it opens, so the reader knows which file they read; an error replaces that line."""
    conn = open_readonly(args.store)
    say_store(args.store)
    return conn


def say_store(path: str | Path) -> None:
    """Name the store a command uses, on stderr: what scripts read on stdout stays the same."""
    print(f"inferwatch: store {path}", file=sys.stderr)
