"""Whether the writer can store a row, asked before the collector answers 200.

The writer drops a row SQLite refuses (text with a lone surrogate, an integer past 64 bits, a
type it has no storage class for, nothing in a NOT NULL column) and counts it `invalid`; by then
the sender was told it was stored. Ingest repairs such values first (`collector._repair`), then
asks here, with the very function the writer binds its values from and the NOT NULL columns read
from the schema itself, so what it accepts is what the writer stores.

>>> unstorable("generation", {"source": "browser", "model": "m", "status": "ok", "output_tokens": 10**30})
'output_tokens of generations is an integer outside the 64 bits SQLite stores'
"""

from __future__ import annotations

import functools
import math
import sqlite3
from typing import Any

from ._schema import SCHEMA
from ._tables import column_values

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def unstorable(kind: str, data: dict[str, Any]) -> str | None:
    """Why the writer would refuse this row, in a sentence, or None when it would store it."""
    try:
        tables = column_values(kind, data)
    except Exception as exc:  # what the writer would meet too (it drops the row for it)
        return f"the row cannot be stored: {exc}"
    for table, values in tables.items():
        required = _not_null(table)
        for column, value in values.items():
            problem = _unbindable(value, column in required)
            if problem:
                return f"{column} of {table} {problem}"
    return None


def _unbindable(value: Any, required: bool) -> str | None:
    kind = type(value)
    if kind is str:
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                return "holds a lone surrogate, which SQLite cannot store"
        return None
    if kind is int:
        if not INT64_MIN <= value <= INT64_MAX:
            return "is an integer outside the 64 bits SQLite stores"
        return None
    if value is None or (kind is float and math.isnan(value)):  # SQLite stores NaN as NULL
        return "is empty, and the column is NOT NULL" if required else None
    if kind in (float, bool, bytes):
        return None
    return f"is a {kind.__name__}, which SQLite cannot store"


@functools.cache
def _not_null(table: str) -> frozenset[str]:
    """The NOT NULL columns of `table`, as the schema declares them."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(SCHEMA)
        return frozenset(r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[3])
    finally:
        conn.close()
