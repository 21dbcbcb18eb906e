"""Reading stored event JSON, whose shape is chosen by whoever holds the public collector key.

The collectors store any JSON object with an `event_id` (redacted, not validated), so every
field may hold any JSON type. Each reader here returns the expected type or an empty one: a
page shows less of a malformed event instead of failing, for it and for every page that joins it.
"""

from __future__ import annotations

import json
import math
from typing import Any


def mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else `{}`.

    >>> mapping({"a": 1}), mapping("x")
    ({'a': 1}, {})
    """
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else `[]` (a string is not a list of characters here)."""
    return value if isinstance(value, list) else []


def values(value: Any) -> list[dict[str, Any]]:
    """The objects of a Sentry `{"values": [...]}` interface (exception, breadcrumbs).

    >>> values({"values": [{"type": "E"}, 3]}), values({"values": "zzz"}), values("x")
    ([{'type': 'E'}], [], [])
    """
    return [v for v in items(mapping(value).get("values")) if isinstance(v, dict)]


def number(value: Any) -> float | None:
    """A finite number, or None for anything else (strings, booleans, NaN, huge or infinite).

    >>> number(3), number("3"), number(True), number(float("nan"))
    (3.0, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return result if math.isfinite(result) else None


def loads(text: str | None) -> dict[str, Any]:
    """A stored JSON column as an object, `{}` when it is empty, not JSON or not an object."""
    try:
        return mapping(json.loads(text)) if text else {}
    except (ValueError, RecursionError):
        return {}
