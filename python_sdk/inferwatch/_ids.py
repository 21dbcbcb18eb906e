"""Ids and numbers that come from outside (URLs, forms, the command line), checked at the door.

SQLite's integers are 64-bit: binding `99999999999999999999` raises `OverflowError`, which used to
be a 500 in the dashboard and a traceback in the CLI. Such an id names no row, so it is "not
found" like any other id that names none.

>>> parse_id("42"), parse_id("99999999999999999999"), parse_id("-1"), parse_id("4e2")
(42, None, None, None)
"""

from __future__ import annotations

import argparse

MAX_ID = 2**63 - 1  # the largest row id SQLite hands out


def parse_id(text: str | None) -> int | None:
    """`text` as a row id (ASCII digits, 1 to `MAX_ID`), or None when it cannot name a row."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    if len(text.lstrip("0")) > len(str(MAX_ID)):  # before int(): a long string costs to convert
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def id_argument(text: str) -> int:
    """An argparse `type` for an issue id: a one-line usage error, never a traceback."""
    value = parse_id(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not an issue id (a whole number from 1 to {MAX_ID})"
        )
    return value


def count_argument(text: str) -> int:
    """An argparse `type` for a count or limit (0 to `MAX_ID`), which SQL binds as an integer."""
    digits = text.strip()
    value = 0 if digits and set(digits) == {"0"} else parse_id(digits)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a count (a whole number from 0 to {MAX_ID})"
        )
    return value


def port_argument(text: str) -> int:
    """An argparse `type` for a TCP port (0 to 65535; 0 lets the system choose)."""
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > 5 or int(digits) > 65535:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a port (a number from 0 to 65535)")
    return int(digits)
