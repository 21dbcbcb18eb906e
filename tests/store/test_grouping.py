"""One grouping function: explicit fingerprints, normalised messages, the innermost in-app frame."""

from __future__ import annotations

from typing import Any

import pytest
from inferwatch.store import fingerprint, normalize_message


def error(
    value: str,
    *,
    type_: str = "ValueError",
    function: str = "predict",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    frames = [
        {"module": "app.main", "function": "handler", "in_app": True},
        {"module": "app.model", "function": function, "in_app": True},
        {"module": "torch.nn", "function": "forward", "in_app": False},
    ]
    return {
        "exception": {
            "values": [{"type": type_, "value": value, "stacktrace": {"frames": frames}}]
        },
        **(extra or {}),
    }


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("user 42 not found", "user <n> not found"),
        ("order 7f3c2a9e-0b1d-4c8e-9a2b-3c4d5e6f7a8b failed", "order <uuid> failed"),
        ("bad pointer 0xdeadbeef at 3.5s", "bad pointer <hex> at <n>s"),
        ("no model named 'gpt-x' in \"eu-1\"", "no model named <str> in <str>"),
        ("digest 9f86d081884c7d65 mismatch", "digest <hex> mismatch"),
    ],
)
def test_variable_parts_of_a_message_are_replaced(message: str, expected: str) -> None:
    assert normalize_message(message) == expected


def test_the_same_bug_with_different_ids_is_one_issue() -> None:
    assert fingerprint(error("user 42 not found")) == fingerprint(error("user 97 not found"))


def test_two_different_bugs_are_two_issues() -> None:
    assert fingerprint(error("user 42 not found")) != fingerprint(error("model not loaded"))
    assert fingerprint(error("x", type_="KeyError")) != fingerprint(error("x"))
    assert fingerprint(error("x", function="preprocess")) != fingerprint(error("x"))


def test_library_frames_below_the_app_do_not_split_issues() -> None:
    a, b = error("x"), error("x")
    b["exception"]["values"][0]["stacktrace"]["frames"][-1]["function"] = "other_library_fn"
    assert fingerprint(a) == fingerprint(b)


def test_an_explicit_fingerprint_wins_and_can_extend_the_default() -> None:
    custom = error("x", extra={"fingerprint": ["database-down"]})
    assert fingerprint(custom) == fingerprint(error("y", extra={"fingerprint": ["database-down"]}))
    by_tenant = [error("x", extra={"fingerprint": ["{{ default }}", t]}) for t in ("a", "b")]
    assert fingerprint(by_tenant[0]) != fingerprint(by_tenant[1])
    assert fingerprint(error("x", extra={"fingerprint": ["{{ default }}"]})) == fingerprint(
        error("x")
    )


def test_messages_without_an_exception_group_by_their_normalised_text() -> None:
    assert fingerprint({"message": "GET /items/1 returned 503"}) == fingerprint(
        {"message": "GET /items/2 returned 503"}
    )
