"""Values JSON carries and the store cannot hold, repaired in place and recorded as Relay does."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from inferwatch import _json
from inferwatch.collector._repair import (
    INT64_MAX,
    INT64_MIN,
    MAX_RECORDED,
    add_meta,
    may_need_repair,
    processing_errors,
    repair,
)


def parsed(text: str | bytes) -> Any:
    return _json.loads(text)


def test_lone_surrogates_become_the_replacement_character_in_values_and_keys() -> None:
    event = parsed(r'{"message": "caf\udce9 ok", "extra": {"k\ud800": ["\udfff", "fine"]}}')
    repairs = repair(event)
    assert event == {"message": "caf\ufffd ok", "extra": {"k\ufffd": ["\ufffd", "fine"]}}
    assert {(r.path, r.rule) for r in repairs.recorded} == {
        (("message",), "!surrogate"),
        (("extra", "k\ufffd"), "!surrogate"),
        (("extra", "k\ufffd", 0), "!surrogate"),
    }
    json.dumps(event).encode()  # and it is text any encoder takes


def test_integers_past_64_bits_are_clamped_and_their_digits_kept() -> None:
    event = parsed('{"a": 100000000000000000000000000000, "b": -9223372036854775809, "c": 7}')
    repairs = repair(event)
    assert event == {"a": INT64_MAX, "b": INT64_MIN, "c": 7}
    kept = {r.path: r.original for r in repairs.recorded}
    assert kept == {("a",): "1" + "0" * 29, ("b",): "-9223372036854775809"}
    huge = parsed("[" + "9" * 300 + "]")
    assert [r.original for r in repair(huge).recorded] == [None]  # too long to keep: `val` omitted


def test_nan_and_infinities_become_null() -> None:
    event = parsed('{"a": NaN, "b": [Infinity, -Infinity, 1e400], "c": 1.5}')
    repairs = repair(event)
    assert event == {"a": None, "b": [None, None, None], "c": 1.5}
    assert [r.original for r in repairs.recorded][:1] == ["NaN"]
    assert {r.original for r in repairs.recorded} == {"NaN", "Infinity", "-Infinity"}


def test_integers_can_be_left_to_a_schema() -> None:
    batch = parsed('{"output_tokens": 100000000000000000000000000000, "m": "\\ud800"}')
    repair(batch, clamp_ints=False)
    assert batch == {"output_tokens": 10**29, "m": "\ufffd"}


def test_any_depth_the_reader_accepts_is_walked_without_recursion() -> None:
    depth = 5000  # deeper than Python's recursion limit
    value: list[Any] = ["\ud800"]
    for _ in range(depth - 1):
        value = [value]
    repairs = repair(value)
    inner = value
    for _ in range(depth):
        inner = inner[0]
    assert inner == "\ufffd" and len(repairs) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b'{"m": "\\ud800"}',
        b'{"m": "\\uDFFF"}',
        '{"m": "\ud800"}'.encode("utf-8", "surrogatepass"),
        b'{"n": 9223372036854775808}',
        b'{"n": NaN}',
        b'{"n": -Infinity}',
        b'{"n": 1e400}',
        b'{"n": 1E+308}',
    ],
)
def test_a_body_that_can_hold_a_value_to_repair_is_walked(raw: bytes) -> None:
    assert may_need_repair(raw)


def test_an_ordinary_body_is_not_walked() -> None:
    raw = json.dumps(
        {"message": "café \u2028 日本", "n": 922337203685477580, "f": 1e30, "u": "\\u00e9"}
    ).encode()
    assert not may_need_repair(raw)


def test_repairs_are_recorded_in_meta_as_relay_records_its_remarks() -> None:
    event = parsed(
        r'{"extra": {"n": 100000000000000000000000000000, "s": "\ud800"},'
        r' "_meta": {"extra": {"x": {"": {"len": 9}}}}}'
    )
    add_meta(event, repair(event))
    assert event["_meta"] == {
        "extra": {
            "x": {"": {"len": 9}},  # the sender's own remarks are kept
            "n": {"": {"rem": [["!int64", "s"]], "val": "1" + "0" * 29}},
            "s": {"": {"rem": [["!surrogate", "s"]]}},
        }
    }


def test_meta_stays_small_however_many_values_were_repaired() -> None:
    event = {"extra": {"values": [math.nan] * 1000}}
    add_meta(event, repair(event))
    recorded = event["_meta"]["extra"]["values"]
    assert len(recorded) == MAX_RECORDED
    assert event["_meta"][""]["err"] == [
        ["invalid_data", {"reason": f"{1000 - MAX_RECORDED} more values were repaired"}]
    ]
    assert len(json.dumps(event["_meta"])) < 3000


def test_repairs_of_data_with_other_paths_are_processing_errors() -> None:
    batch = parsed(r'{"message": "a\ud800", "breadcrumbs": [{"message": "\udfff"}]}')
    assert processing_errors(repair(batch)) == [
        {
            "type": "invalid_data",
            "name": "message",
            "reason": "a lone surrogate was replaced with U+FFFD",
        },
        {
            "type": "invalid_data",
            "name": "breadcrumbs.0.message",
            "reason": "a lone surrogate was replaced with U+FFFD",
        },
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": [1, 2,    -1.5E+400]}',
        b'{"a":' + b" " * 100 + b"1e999}",
        b'{"a": 123456789.123456789e999}',
        b'{"a": "x", "b": 9' + b"9" * 30 + b"}",
    ],
)
def test_numbers_that_overflow_are_found_wherever_they_stand(raw: bytes) -> None:
    assert may_need_repair(raw)


def test_hex_ids_are_not_taken_for_numbers_with_exponents() -> None:
    ids = {
        "event_id": "4e1234567890abcdef4e123456789012",
        "trace_id": "0e9990000000e000aaaa0e123e123e12",
    }
    assert not may_need_repair(json.dumps(ids).encode())


def test_long_runs_of_digits_inside_strings_are_not_taken_for_integers() -> None:
    ids = {"event_id": "00000000000000000000000000000005", "card": "x-4111111111111111111111"}
    assert not may_need_repair(json.dumps(ids).encode())
    assert may_need_repair(b'{"n": -99999999999999999999}')
    assert may_need_repair(b'{"n": [1,99999999999999999999]}')
