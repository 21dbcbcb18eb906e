"""Finding events by an id through the indexes, and by text in the newest events' JSON."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from inferwatch.store import Store, open_readonly
from inferwatch.store._search import search_events

START = 1_700_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """30 events, newest last: `old needle` in the oldest, each with its own request id."""
    path = tmp_path / "events.db"
    events = [
        {
            "event_id": uuid.uuid4().hex,
            "timestamp": START + i,
            "message": "old needle 100%" if i == 0 else f"event {i} in a haystack_of_rows",
            "fingerprint": [f"issue-{i % 3}"],
            "tags": {"request_id": f"req-{i}"},
        }
        for i in range(30)
    ]
    writer = Store(path)
    try:
        assert writer.write([("event", e) for e in events])
    finally:
        writer.close()
    return path


def test_text_is_found_in_any_case_newest_first_with_its_issue_and_context(store: Path) -> None:
    with open_readonly(store) as conn:
        found = search_events(conn, "HAYSTACK", limit=5)
    assert len(found) == 5 and found[0]["timestamp"] > found[-1]["timestamp"]
    assert "event 29 in a haystack_of_rows" in found[0]["snippet"]
    assert found[0]["title"] and found[0]["issue_id"] in (1, 2, 3)


def test_text_is_read_in_the_newest_events_only_but_an_id_in_any(store: Path) -> None:
    with open_readonly(store) as conn:
        by_text = search_events(conn, "old needle", scan=10)
        by_id = search_events(conn, "req-0", scan=10)
        everywhere = search_events(conn, "old needle")
    assert by_text == [] and [e["request_id"] for e in by_id] == ["req-0"]
    assert [e["request_id"] for e in everywhere] == ["req-0"]


def test_like_wildcards_in_the_text_are_matched_literally(store: Path) -> None:
    with open_readonly(store) as conn:
        percent = search_events(conn, "100%")
        underscore = search_events(conn, "of_rows", limit=100)
        wildcard = search_events(conn, "of%rows")
    assert [e["request_id"] for e in percent] == ["req-0"]
    assert len(underscore) == 29 and wildcard == []


def test_since_and_offset_page_through_the_matches(store: Path) -> None:
    with open_readonly(store) as conn:
        recent = search_events(conn, "haystack", since=START + 25, limit=100)
        first = search_events(conn, "haystack", limit=10)
        second = search_events(conn, "haystack", limit=10, offset=10)
    assert len(recent) == 5
    assert not {e["event_id"] for e in first} & {e["event_id"] for e in second}
