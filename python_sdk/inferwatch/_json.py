"""JSON on the ingest and store paths: pydantic-core's, and Python's `json` where it refuses.

Reading an envelope's event and writing it to the store took a quarter of the CPU an envelope
cost with `json`; pydantic-core (which FastAPI already brings) reads in half the time and writes
in a third. What it refuses and `json` takes (lone surrogates, nesting past 200 levels, bytes that
are not UTF-8) goes to `json`, so whatever `json` read or wrote still is. What `json` cannot
write is written as its `str()` by both.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic_core


def loads(data: bytes | str) -> Any:
    """JSON text as Python values (`ValueError` or `RecursionError` when it is not JSON)."""
    try:
        return pydantic_core.from_json(data)
    except ValueError:
        return json.loads(data)


def dumps(value: Any) -> str:
    """`value` as JSON text; what JSON cannot hold is written as its `str()`."""
    try:
        return pydantic_core.to_json(value, fallback=str).decode()
    except ValueError:
        return json.dumps(value, default=str)
