"""Titles and culprits by Sentry's rules (src/sentry/eventtypes, src/sentry/culprit.py)."""

from __future__ import annotations

from typing import Any

import pytest
from inferwatch.store._titles import culprit, title


def error(value: Any = "boom", type_: Any = "ValueError", **exc: Any) -> dict[str, Any]:
    return {"exception": {"values": [{"type": type_, "value": value, **exc}]}}


def frames(*specs: tuple[str, str, bool]) -> dict[str, Any]:
    """Frames oldest first, as Sentry lists them: (module, function, in_app)."""
    return {"frames": [{"module": m, "function": f, "in_app": a} for m, f, a in specs]}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (error("division by zero", "ZeroDivisionError"), "ZeroDivisionError: division by zero"),
        (error(""), "ValueError"),  # Sentry: the type alone, no trailing colon
        (error(None), "ValueError"),
        (error("first line\nsecond line"), "ValueError: first line"),
        (error("x" * 150), "ValueError: " + "x" * 97 + "..."),
        (error("boom", None), "Error: boom"),
        (
            {"logentry": {"formatted": "This is a warning: warning", "message": "x: %s"}},
            "This is a warning: warning",
        ),
        ({"logentry": {"message": "raw only"}}, "raw only"),
        (
            {"message": {"formatted": "Started in 2.6 seconds", "message": "Started in %s"}},
            "Started in 2.6 seconds",
        ),
        ({"message": "  padded  \nrest"}, "padded  "),  # stripped whole, then its first line
        ({}, "<unlabeled event>"),
        ({"logentry": {"formatted": "y" * 120}}, "y" * 97 + "..."),
    ],
)
def test_titles_read_as_sentry_reads_them(event: dict[str, Any], expected: str) -> None:
    assert title(event) == expected


def test_the_main_exception_of_a_group_names_the_issue() -> None:
    event = {
        "main_exception_id": 1,
        "exception": {
            "values": [
                {"type": "ValueError", "value": "inner", "mechanism": {"exception_id": 1}},
                {"type": "ExceptionGroup", "value": "many", "mechanism": {"exception_id": 0}},
            ]
        },
    }
    assert title(event) == "ValueError: inner"
    del event["main_exception_id"]
    assert title(event) == "ExceptionGroup: many"  # else the last one, raised last


def test_a_synthetic_exception_is_titled_by_where_it_happened() -> None:
    event = error(
        "SIGSEGV",
        "Signal 11",
        mechanism={"synthetic": True},
        stacktrace=frames(("main", "main", True), ("libc", "crash_here", False)),
    )
    assert title(event) == "main"
    assert culprit(event) == ""  # Sentry gives a made-up exception no culprit


def test_security_reports_are_titled_by_their_message_or_relays() -> None:
    assert title({"csp": {}, "logentry": {"formatted": "Blocked 'script' from 'x.org'"}}) == (
        "Blocked 'script' from 'x.org'"
    )
    assert (
        title({"csp": {"effective_directive": "img-src", "blocked_uri": "https://cdn.x.org/a.png"}})
        == "Blocked 'image' from 'cdn.x.org'"
    )
    assert title({"csp": {"violated_directive": "script-src 'self'", "blocked_uri": "eval"}}) == (
        "Blocked inline 'script'"
    )
    assert title({"hpkp": {"hostname": "example.com"}}) == (
        "Public key pinning validation failed for 'example.com'"
    )
    assert title({"expectct": {"hostname": "example.com"}}) == "Expect-CT failed for 'example.com'"


def test_the_culprit_is_the_innermost_in_app_frame_written_per_platform() -> None:
    stack = frames(
        ("app.views", "get", True), ("app.model", "predict", True), ("torch", "f", False)
    )
    assert culprit({**error(stacktrace=stack), "platform": "python"}) == "app.model in predict"
    assert culprit({**error(stacktrace=stack), "platform": "node"}) == "predict(app.model)"
    assert culprit({**error(stacktrace=stack), "platform": "cocoa"}) == "predict"
    library_only = frames(("torch", "outer", False), ("torch", "inner", False))
    assert culprit(error(stacktrace=library_only)) == "torch in inner"


def test_the_culprit_comes_from_the_crashed_thread_or_a_top_level_stack_without_exception_frames() -> (
    None
):
    crashed = {
        "threads": {
            "values": [
                {"id": 1, "stacktrace": frames(("idle", "wait", True))},
                {"id": 2, "crashed": True, "stacktrace": frames(("app.jobs", "run", True))},
            ]
        }
    }
    assert culprit({**error(), **crashed}) == "app.jobs in run"
    assert culprit(
        {"logentry": {"formatted": "m"}, "stacktrace": frames(("main", "go", True))}
    ) == ("main in go")


def test_without_frames_the_culprit_is_what_the_sdk_or_the_request_says() -> None:
    assert (
        culprit({**error(), "culprit": "views.checkout", "transaction": "/pay"}) == "views.checkout"
    )
    assert culprit({**error(), "transaction": "/pay"}) == "/pay"
    assert culprit({**error(), "request": {"url": "http://h/pay"}}) == "http://h/pay"
    assert culprit(error()) == ""


def test_any_json_in_any_field_gives_a_title_and_a_culprit() -> None:
    for junk in (None, 3, "x", [1], {"values": "x"}, {"values": [None, 2]}):
        event = {"exception": junk, "threads": junk, "stacktrace": junk, "logentry": junk}
        assert isinstance(title(event), str) and isinstance(culprit(event), str)
