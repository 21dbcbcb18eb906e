"""The model record: kept within its size budget, and attached to the exception its call failed
with, where whoever captures that exception finds it."""

from __future__ import annotations

import json
from typing import Any

from . import _runtime
from ._redact import truncate
from ._summary import Budget, summarize

_ATTR = "__inferwatch_model__"


def attach_record(exc: BaseException, record: dict[str, Any], *, replace: bool = False) -> None:
    """Put `record` on `exc`, unless a model call inside this one already did (`replace`: the
    record of a call that holds the inner one's record among its `calls`)."""
    try:
        if replace or getattr(exc, _ATTR, None) is None:
            setattr(exc, _ATTR, record)
    except Exception:
        pass  # some exception types refuse attributes


def model_record_of(exc: BaseException | None) -> dict[str, Any] | None:
    """The model record attached to `exc` or to an exception it was raised from."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        record = getattr(exc, _ATTR, None)
        if isinstance(record, dict):
            return record
        exc = exc.__cause__ or exc.__context__
    return None


def error_message(error: BaseException) -> str:
    """The exception's message as the record holds it: at most 500 characters."""
    try:
        return truncate(str(error), 500)
    except Exception:  # an exception whose `__str__` fails is still recorded
        return f"<unprintable {type(error).__name__}>"


def note_value(value: Any, budget: Budget) -> Any:
    """A value given to `ModelCall.note`, kept small."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str) and len(value) <= 200:
        return summarize(value, budget)["preview"]
    return summarize(value, Budget(field_chars=1000, items=10, mask=budget.mask))


def within_budget(record: dict[str, Any], runtime: _runtime.Runtime | None) -> dict[str, Any]:
    """Shrink the record until its JSON fits the context budget, saying what was cut."""
    limit = runtime.options.max_context_bytes if runtime else 20_000
    size = len(json.dumps(record, default=repr))
    if size <= limit:
        return record
    record = {**record, "truncated": {"original_bytes": size}}
    for key in ("notes", "output", "input"):
        if key in record and len(json.dumps(record, default=repr)) > limit:
            record[key] = _shrink(record[key], limit // 4)
    return record


def _shrink(value: Any, chars: int) -> Any:
    """`value` cut to about `chars` of JSON; a list preview keeps its newest items."""
    if len(json.dumps(value, default=repr)) <= chars:
        return value
    if isinstance(value, dict) and isinstance(value.get("preview"), list):
        items = list(value["preview"])
        while len(items) > 1 and len(json.dumps(items, default=repr)) > chars:
            items.pop(0)
        return {**value, "kept": len(items), "preview": _shrink(items, chars)}
    if isinstance(value, dict):
        return {**value, "preview": truncate(json.dumps(value.get("preview"), default=repr), chars)}
    if isinstance(value, list):
        return [truncate(json.dumps(v, default=repr), chars) for v in value[-1:]]
    return truncate(json.dumps(value, default=repr), chars)
