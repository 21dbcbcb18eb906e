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


def test_messages_group_by_their_template_when_formatted_from_params() -> None:
    signed_up = [
        {
            "logentry": {
                "message": "User %s signed up",
                "params": [name],
                "formatted": f"User {name} signed up",
            }
        }
        for name in ("al", "bo")
    ]
    assert fingerprint(signed_up[0]) == fingerprint(signed_up[1])


def test_unrelated_messages_sent_as_objects_stay_apart() -> None:
    # Java and PHP SDKs send `message` as an object; its quotes once hid every difference.
    texts = ("Payment provider timed out", "Disk is full", "User signed up")
    prints = {fingerprint({"message": {"formatted": t, "message": t}}) for t in texts}
    assert len(prints) == 3


def test_an_error_without_exception_frames_groups_by_the_crashed_thread() -> None:
    def crash(function: str) -> dict[str, Any]:
        thread = {
            "crashed": True,
            "stacktrace": {"frames": [{"module": "app", "function": function, "in_app": True}]},
        }
        return {
            "exception": {"values": [{"type": "SIGSEGV", "value": "x"}]},
            "threads": {"values": [thread]},
        }

    assert fingerprint(crash("render")) != fingerprint(crash("save"))
    assert fingerprint(crash("render")) == fingerprint(crash("render"))


def test_security_reports_group_by_what_they_name() -> None:
    def csp(directive: str, uri: str) -> dict[str, Any]:
        return {"csp": {"effective_directive": directive, "blocked_uri": uri}}

    assert fingerprint(csp("script-src", "https://a.com/x.js")) == fingerprint(
        csp("script-src", "https://a.com/y.js")
    )
    assert fingerprint(csp("script-src", "https://a.com/x.js")) != fingerprint(
        csp("img-src", "https://a.com/x.js")
    )
