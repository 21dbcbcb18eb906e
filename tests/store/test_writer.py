"""The writer's reading of SQLite's errors: which ones are tried again, which drop rows."""

from __future__ import annotations

import sqlite3

import pytest
from inferwatch.store._writer import _reason


@pytest.mark.parametrize(
    "message", ["database is locked", "database schema has changed", "database table is busy"]
)
def test_a_lock_or_a_schema_another_connection_just_created_is_tried_again(message: str) -> None:
    # Seen once under load, in a new store whose schema another connection (most likely the
    # retention thread) was creating as the first batch went in: it was dropped.
    assert _reason(sqlite3.OperationalError(message)) == "locked"


def test_a_file_that_cannot_be_opened_is_no_lock() -> None:
    assert _reason(sqlite3.OperationalError("unable to open database file")) == "unwritable"
