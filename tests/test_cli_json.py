"""The `--json` output of `issues`, `show` and `generations`: a documented, stable format."""

from __future__ import annotations

import json
from pathlib import Path

import inferwatch
import pytest
from inferwatch.cli import main

ISSUE_KEYS = {
    "id",
    "title",
    "culprit",
    "platform",
    "level",
    "count",
    "first_seen",
    "last_seen",
    "status",
    "regressed",
    "environment",
    "release",
}


@pytest.fixture
def seeded(store_path: Path) -> Path:
    inferwatch.init(store=store_path, environ={}, environment="test", release="1.2.3")

    @inferwatch.watch_model("clf")
    def predict(text: str) -> str:
        if not text:
            raise ValueError("empty input for request 4711")
        return "ok"

    predict("fine")
    for _ in range(2):
        try:
            predict("")
        except ValueError as exc:
            inferwatch.capture_exception(exc)
    inferwatch.shutdown()
    return store_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_issues_json_lists_issues_with_the_documented_fields(
    seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issues = run(capsys, "issues", "--json", "--store", str(seeded))
    assert isinstance(issues, list) and len(issues) == 1
    [issue] = issues
    assert set(issue) == ISSUE_KEYS
    assert issue["title"] == "ValueError: empty input for request 4711"
    assert (issue["count"], issue["status"], issue["platform"]) == (2, "unresolved", "python")
    assert (issue["environment"], issue["release"]) == ("test", "1.2.3")
    assert issue["first_seen"].endswith("Z") and issue["last_seen"] >= issue["first_seen"]


def test_show_json_is_the_issue_with_its_latest_event_whole(
    seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = run(capsys, "show", "1", "--json", "--store", str(seeded))
    assert isinstance(shown, dict)
    assert set(shown) >= ISSUE_KEYS
    event = shown["latest_event"]
    assert event["contexts"]["model"]["name"] == "clf"
    assert event["exception"]["values"][-1]["type"] == "ValueError"


def test_generations_json_lists_the_latest_records(
    seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = run(capsys, "generations", "--json", "--store", str(seeded))
    assert isinstance(records, list)
    assert [(r["model"], r["status"]) for r in records] == [
        ("clf", "error"),
        ("clf", "error"),
        ("clf", "ok"),
    ]
    assert {
        "timestamp",
        "source",
        "duration_ms",
        "first_chunk_ms",
        "input_tokens",
        "output_tokens",
        "request_id",
        "trace_id",
    } <= set(records[0])


def test_a_missing_store_is_a_clear_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["issues", "--json", "--store", str(tmp_path / "nope.db")]) == 2
    assert "no store at" in capsys.readouterr().err
