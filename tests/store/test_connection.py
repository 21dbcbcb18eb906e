"""Store connections are closed by their owner: a `with` block closes the one it opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from inferwatch._errors import StoreError
from inferwatch.store import Store, open_readonly
from inferwatch.store._schema import connect


def closed(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False


def test_a_with_block_closes_the_connection_it_opened(store_path: Path) -> None:
    Store(store_path).close()
    with open_readonly(store_path) as reading:
        assert reading.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    with connect(str(store_path)) as writing:
        writing.execute("INSERT INTO usage (timestamp, endpoint, data) VALUES (1, '/x', '{}')")
    assert closed(reading) and closed(writing)
    with open_readonly(store_path) as conn:  # what the block wrote is there
        assert conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0] == 1


def test_a_block_that_raises_closes_its_connection_too(store_path: Path) -> None:
    Store(store_path).close()
    with pytest.raises(ZeroDivisionError), open_readonly(store_path) as conn:
        raise ZeroDivisionError
    assert closed(conn)


def test_a_file_that_is_no_store_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    path.write_bytes(b"not a database, " * 100)
    with pytest.raises(StoreError, match="cannot read the store"):
        open_readonly(path)
