"""Ids from URLs, forms and the command line: a row id SQLite can bind, or none at all."""

from __future__ import annotations

import argparse
import sqlite3

import pytest
from inferwatch._ids import MAX_ID, count_argument, id_argument, parse_id


@pytest.mark.parametrize("text", ["1", "42", "007", str(MAX_ID)])
def test_a_whole_number_in_sqlites_range_is_an_id(text: str) -> None:
    value = parse_id(text)
    assert value == int(text)
    sqlite3.connect(":memory:").execute("SELECT ?", (value,))  # binds


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "0",
        "-1",
        "+1",
        " 1",
        "1.0",
        "1e3",
        "0x10",
        "abc",
        "\uff11",
        "\u0661",
        str(MAX_ID + 1),
        "9" * 20,
        "9" * 5000,
    ],
)
def test_anything_else_is_no_id(text: str | None) -> None:
    assert parse_id(text) is None


def test_command_line_ids_and_counts_are_usage_errors_when_out_of_range() -> None:
    assert id_argument("12") == 12 and count_argument("0") == 0 and count_argument("00") == 0
    for bad in ("99999999999999999999", "-1", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="whole number from 1"):
            id_argument(bad)
        with pytest.raises(argparse.ArgumentTypeError, match="whole number from 0"):
            count_argument(bad)
