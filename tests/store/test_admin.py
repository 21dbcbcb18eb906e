"""Changing an issue's status from the dashboard."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from inferwatch.store import Store
from inferwatch.store._admin import set_status

from tests.conftest import rows


def add(path: Path) -> None:
    store = Store(path)
    try:
        event = {"event_id": uuid.uuid4().hex, "message": "m", "fingerprint": ["one"]}
        assert store.write([("event", event)])
    finally:
        store.close()


def issue(path: Path) -> dict[str, object]:
    return rows(path, "SELECT status, regressed FROM issues")[0]


def test_resolving_then_a_recurrence_marks_a_regression_and_resolving_clears_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    add(path)
    assert set_status(path, 1, "resolved")
    add(path)
    assert issue(path) == {"status": "unresolved", "regressed": 1}
    assert set_status(path, 1, "resolved")
    assert issue(path) == {"status": "resolved", "regressed": 0}


def test_an_ignored_issue_stays_ignored_when_it_recurs(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    add(path)
    assert set_status(path, 1, "ignored")
    add(path)
    assert issue(path)["status"] == "ignored"


def test_unknown_issues_and_statuses_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    add(path)
    assert not set_status(path, 99, "resolved")
    with pytest.raises(ValueError, match="status"):
        set_status(path, 1, "deleted")
