"""A log record's fields as the pages show them: console-only extras and colour codes left out."""

from __future__ import annotations

from typing import Any

import pytest
from inferwatch.dashboard._logs import extras, level, plain


def test_colour_codes_are_taken_out_of_text() -> None:
    assert plain("\x1b[1m\x1b[32mINFO\x1b[0m:  ready \x1b[2K") == "INFO:  ready "


def test_console_only_extras_are_dropped_at_any_depth_and_the_rest_kept() -> None:
    data = {
        "color_message": "Started server process [\x1b[36m%d\x1b[0m]",
        "taskName": "Task-1",
        "port": 8000,
        "nested": [{"markup": True, "path": "\x1b[4m/tmp\x1b[0m"}],
    }
    assert extras(data) == {"port": 8000, "nested": [{"path": "/tmp"}]}


def test_extras_of_any_depth_are_read_without_recursing_forever() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    assert extras({"deep": deep})["deep"] is not None


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("WARN", "warning"),
        ("warning", "warning"),
        ("critical", "fatal"),
        ("log", "info"),
        (None, ""),
    ],
)
def test_levels_are_read_as_sentry_names_them(given: Any, read: str) -> None:
    assert level(given) == read
