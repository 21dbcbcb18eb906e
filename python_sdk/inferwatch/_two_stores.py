"""The warning `inferwatch serve` gives when it may be reading another store than the app writes.

An app started in `project/backend/` and a dashboard started in `project/` used to write and
read two stores, and nothing showed up. The default store is now found as git finds its
repository, but an explicit `--store`, `INFERWATCH_STORE` or a folder outside the project can
still split them: when the store `serve` opened holds nothing while another store is nearby
(`nearby_stores`), it says so, and names them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ._store_location import nearby_stores
from .store import _schema

# What an app or a browser writes; an empty store has none of them.
_DATA_TABLES = ("events", "generations", "requests", "usage")
_LISTED = 5


def holds_nothing(store: Path) -> bool:
    """Whether `store` has no event, generation, request or usage row (or cannot be read)."""
    try:
        with _schema.connect(str(store), readonly=True) as conn:
            return not any(
                conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() for table in _DATA_TABLES
            )
    except sqlite3.Error:
        return False  # unreadable: `serve` says so on its own terms


def two_stores_warning(store: Path, cwd: Path | None = None) -> str | None:
    """The warning to print, or None: `store` holds something, or no other store is near."""
    if not holds_nothing(store):
        return None
    others = nearby_stores(store, cwd)
    if not others:
        return None
    nearby = "is another store" if len(others) == 1 else f"are {len(others)} other stores"
    listed = [f"  {path}" for path in others[:_LISTED]]
    if len(others) > _LISTED:
        listed.append(f"  ... and {len(others) - _LISTED} more")
    return "\n".join(
        [
            f"inferwatch: warning: the store {store} is empty, and there {nearby} nearby:",
            *listed,
            "If your app writes there, start serve with --store PATH (or set INFERWATCH_STORE)"
            " so that both use one store.",
        ]
    )
