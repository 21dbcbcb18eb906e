"""JSON on the ingest and store paths: pydantic-core's, and Python's `json` wherever it refuses."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

import pytest
from inferwatch import _json


def test_ordinary_values_round_trip() -> None:
    value = {"a": [1, 2.5, True, None, "é", {"b": "c"}], "n": -3, "big": 10**30}
    assert _json.loads(_json.dumps(value)) == value
    assert _json.loads(_json.dumps(value).encode()) == value


@pytest.mark.parametrize(
    "value",
    [
        {"surrogate": "\ud800"},  # not UTF-8
        json.loads("[" * 300 + "]" * 300),  # deeper than pydantic-core goes
    ],
)
def test_what_pydantic_core_cannot_write_is_written_as_json_writes_it(value: Any) -> None:
    assert _json.loads(_json.dumps(value)) == value


def test_keys_that_are_not_strings_and_unknown_types_are_written_as_text() -> None:
    when, thing = datetime(2026, 11, 27, tzinfo=timezone.utc), object()
    out = json.loads(_json.dumps({1: "x", "when": when, "thing": thing, "raw": b"\xff"}))
    assert out["1"] == "x" and out["thing"] == str(thing) and out["raw"] == "b'\\xff'"
    assert out["when"].startswith("2026-11-27")


@pytest.mark.parametrize(
    ("text", "check"),
    [
        (b'{"a": NaN, "b": Infinity}', lambda v: math.isnan(v["a"]) and v["b"] == math.inf),
        (b'{"s": "\\ud800"}', lambda v: v["s"] == "\ud800"),
        (b"[" * 300 + b"]" * 300, lambda v: isinstance(v, list)),
        (
            b'{"n": 123456789012345678901234567890}',
            lambda v: v["n"] == 123456789012345678901234567890,
        ),
    ],
)
def test_what_python_reads_is_still_read(text: bytes, check: Any) -> None:
    assert check(_json.loads(text))


@pytest.mark.parametrize("text", [b'{"a": 1', b"\xff", b"", b"[1,]", "{'a': 1}"])
def test_text_that_is_not_json_raises_value_error(text: bytes | str) -> None:
    with pytest.raises(ValueError):
        _json.loads(text)


def test_nesting_too_deep_for_python_raises_as_json_does() -> None:
    with pytest.raises((ValueError, RecursionError)):
        _json.loads(b"[" * 100_000 + b"]" * 100_000)
