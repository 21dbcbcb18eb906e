"""What the tools answer, read directly from a real store: bounded whatever an event holds."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from inferwatch.mcp import _answers
from inferwatch.mcp._budget import ISSUE_TARGET_CHARS, LIMITS, MAX_ANSWER_CHARS
from inferwatch.mcp._markdown import issue_markdown
from inferwatch.store import Store, open_readonly


def frame(i: int, *, in_app: bool) -> dict[str, Any]:
    return {
        "filename": f"app/step_{i}.py" if in_app else f"lib/site_{i}.py",
        "function": f"step_{i}",
        "lineno": 10,
        "in_app": in_app,
        "pre_context": ["x = 1"] * 5,
        "context_line": "raise ValueError('no')" + " " * 5000,
        "post_context": ["y = 2"] * 5,
    }


def huge_event() -> dict[str, Any]:
    """An event as large as a sender may make one: long texts, a deep stack, many tags."""
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "python",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "v" * 20_000,
                    "stacktrace": {
                        "frames": [frame(i, in_app=i % 2 == 0) for i in range(200)],
                    },
                }
            ]
        },
        "contexts": {
            "model": {
                "name": "big",
                "status": "error",
                "duration_ms": 12.5,
                "input": {"type": "text", "preview": "p" * 50_000},
                "output": ["o" * 1000] * 100,
                "notes": [{"stage": f"s{i}", "at_ms": i, "detail": "d" * 500} for i in range(100)],
            },
            "gpu": {"memory": "m" * 30_000},
        },
        "tags": {f"tag{i}": "t" * 2000 for i in range(300)},
        "request": {"url": "http://app/x", "data": "r" * 40_000},
    }


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "events.db"
    writer = Store(path)
    try:
        assert writer.write([("event", huge_event())])
    finally:
        writer.close()
    return path


def test_an_issue_of_a_huge_event_is_answered_within_the_budget_keeping_its_shape(
    store: Path,
) -> None:
    with open_readonly(store) as conn:
        report = _answers.issue(conn, 1)
    markdown = issue_markdown(report)
    assert len(json.dumps(report, ensure_ascii=False)) <= ISSUE_TARGET_CHARS
    assert len(markdown) <= MAX_ANSWER_CHARS and "character budget]" not in markdown
    event, tightest = report["event"], LIMITS[-1]
    model = event["model"]
    assert model["name"] == "big" and model["duration_ms"] == 12.5
    assert isinstance(model["input"], str) and model["input"].endswith("more characters cut]")
    (exc,) = event["exceptions"]
    assert exc["type"] == "ValueError" and exc["value"].endswith("more characters cut]")
    assert exc["frames_omitted"] == 200 - len(exc["frames"]) > 0
    with_source = [f for f in exc["frames"] if "source" in f]
    assert with_source and all(f["in_app"] for f in with_source)
    assert all(len(line) < 200 for f in with_source for _, line, _ in f["source"])
    assert tightest.tags <= len(event["tags"]) < 300


def test_a_small_issue_is_shown_whole(seeded: Path) -> None:
    with open_readonly(seeded) as conn:
        report = _answers.issue(conn, 1)
    (exc,) = report["event"]["exceptions"]
    source = next(f["source"] for f in exc["frames"] if "source" in f)
    assert len(source) == 2 * LIMITS[0].source_lines + 1  # the first, most generous limits
    assert report["event"]["model"]["input"]["preview"] == "boom one"


def test_a_page_of_issues_is_cut_to_fit_and_says_where_the_next_starts(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    writer = Store(path)
    events = [
        {
            "event_id": uuid.uuid4().hex,
            "timestamp": time.time() - i,
            "message": f"{i} " + "long title " * 100,
            "fingerprint": [f"issue-{i}"],
        }
        for i in range(100)
    ]
    try:
        assert writer.write([("event", e) for e in events])
    finally:
        writer.close()
    with open_readonly(path) as conn:
        first = _answers.issues(conn, status=None, limit=100)
        rest = _answers.issues(conn, status=None, limit=100, offset=first["next_offset"])
    assert first["cut_to_fit"] and len(json.dumps(first)) <= MAX_ANSWER_CHARS
    assert first["next_offset"] == len(first["issues"]) < 100
    seen = [i["id"] for i in first["issues"] + rest["issues"]]
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize("value", ["0", "7d", "30m", "2026-01-31T12:00:00Z", "1700000000.5"])
def test_since_reads_times_ages_and_epoch_seconds(value: str) -> None:
    assert _answers.since(value) is not None


@pytest.mark.parametrize("value", ["yesterday", "-1", "1e400", "99999999999999999999", "6 hours"])
def test_since_refuses_what_it_cannot_read_with_a_sentence(value: str) -> None:
    with pytest.raises(ValueError, match="since must be an ISO 8601 time"):
        _answers.since(value)
