"""`inferwatch sourcemaps upload DIR --url URL --key KEY [--release R] [--token TOKEN]`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ._cli_args import subcommand
from ._terminal import escape, say
from .sourcemaps._client import Upload, upload


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `sourcemaps` command and its `upload` subcommand."""
    p = subcommand(sub, "sourcemaps", "source maps for browser stacks")
    actions = p.add_subparsers(dest="action", required=True)
    up = subcommand(
        actions,
        "upload",
        "send a build's source maps (and its minified files) to a running collector",
        description="Send every .map file under DIR, and the minified files they belong to,"
        " to the collector, which keeps them beside its store and never serves them.",
    )
    up.add_argument("folder", metavar="DIR", help="the build's output folder (e.g. dist)")
    up.add_argument("--url", default="http://127.0.0.1:8765", help="the collector's URL")
    up.add_argument("--key", required=True, help="the collector's key (its --key)")
    up.add_argument("--release", help="the release these maps belong to (the events' release)")
    up.add_argument(
        "--token",
        help="the collector's dashboard token, needed when it has one (or INFERWATCH_TOKEN)",
    )
    up.set_defaults(func=cmd_upload)


def cmd_upload(args: argparse.Namespace) -> int:
    answer = upload(
        Upload(
            folder=Path(args.folder),
            url=args.url,
            key=args.key,
            release=args.release,
            token=args.token or os.environ.get("INFERWATCH_TOKEN") or None,
        )
    )
    say(
        f"Uploaded {answer.get('files', 0)} files ({answer.get('maps', 0)} maps) to"
        f" {escape(args.url)}; {answer.get('resolved_events', 0)} stored events resolved."
    )
    return 0
