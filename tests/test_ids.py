"""Ids from URLs, forms and the command line: a row id SQLite can bind, or none at all."""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from inferwatch._ids import MAX_ID, count_argument, id_argument, parse_id, port_argument


@pytest.mark.parametrize("text", ["1", "42", "007", str(MAX_ID)])
def test_a_whole_number_in_sqlites_range_is_an_id(text: str) -> None:
    value = parse_id(text)
    assert value == int(text)
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.execute("SELECT ?", (value,))  # binds


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


def test_a_port_out_of_range_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    store = str(tmp_path / "events.db")
    for port in ("99999999999", "65536", "-5", "http"):
        command = [
            sys.executable,
            "-m",
            "inferwatch.cli",
            "serve",
            "--store",
            store,
            "--port",
            port,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "is not a port (a number from 0 to 65535)" in done.stderr
    assert port_argument("8765") == 8765
