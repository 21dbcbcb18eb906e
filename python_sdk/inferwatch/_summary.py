"""What a value is: short, JSON-ready, redacted descriptions of model inputs and outputs.

A summary says what kind of value it is (text, bytes, image, array, chat, mapping, pydantic
model, sequence, other object) and keeps a redacted preview of it. The preview is a `Snapshot`:
bounded in nodes, items and characters whatever the value (cyclic, shared, huge, hostile), so
summarising any input takes milliseconds and bounded memory, and never raises.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from ._keys import is_sensitive_key
from ._media import describe_array, describe_bytes, image_info, is_array, is_pil_image, number
from ._redact import redact, truncate
from ._snapshot import Snapshot, object_fields
from ._types import Mask


class Arguments(dict[str, Any]):
    """A function's arguments by name: each is summarised by what it is."""


@dataclass(frozen=True)
class Budget:
    """How much of a value is kept: characters a field, items of a sequence, containers and
    objects a summary visits (`nodes`), the mask hook."""

    field_chars: int = 10_000
    items: int = 20
    mask: Mask | None = None
    nodes: int = 500


def summarize(value: Any, budget: Budget | None = None) -> dict[str, Any]:
    """Describe `value` without keeping more than `budget` of it; never raises.

    >>> summarize("hi there")["type"]
    'text'
    """
    budget = budget or Budget()
    try:
        return _summarize(value, budget, _snapshot(budget))
    except Exception as exc:  # a summary must never break the model call it describes
        return {"type": type(value).__name__, "error": f"summary failed: {type(exc).__name__}"}


def _snapshot(budget: Budget) -> Snapshot:
    return Snapshot(nodes=budget.nodes, items=max(budget.items, 100), chars=budget.field_chars)


def _summarize(value: Any, budget: Budget, snap: Snapshot) -> dict[str, Any]:
    kind = type(value)
    if value is None or kind in (bool, int, float):
        return {"type": kind.__name__, "value": _scalar(value)}
    if isinstance(value, str):
        return _text(str.__str__(value), budget)
    if isinstance(value, Arguments):
        return _arguments(value, budget, snap)
    if isinstance(value, bytes | bytearray | memoryview):
        return describe_bytes(value)
    if is_array(value):
        return describe_array(value)
    if is_pil_image(value):
        return {"type": "image", **image_info(value)}
    if object_fields(value) is not None and hasattr(value, "__pydantic_fields_set__"):
        return {"type": "pydantic", "class": kind.__name__, **_preview(value, budget, snap)}
    if isinstance(value, dict):
        keys = [snap.key(k) for k in islice(dict.__iter__(value), budget.items)]
        count = dict.__len__(value)
        return {"type": "mapping", "keys": keys, "count": count, **_preview(value, budget, snap)}
    if isinstance(value, list | tuple):
        if _is_chat(value):
            return _chat(value, budget, snap)
        length = len(value)
        kept = list(islice(iter(value), budget.items))
        return {"type": "sequence", "length": length, **_preview(kept, budget, snap)}
    if isinstance(value, Mapping | Sequence) and not isinstance(value, str | bytes):
        return {"type": kind.__name__, **_preview(value, budget, snap)}
    return {"type": kind.__name__, **_preview(value, budget, snap)}


def _scalar(value: Any) -> Any:
    return number(value) if type(value) is float else redact(value)


def _arguments(value: Arguments, budget: Budget, snap: Snapshot) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, arg in islice(dict.items(value), budget.items):
        out[name] = (
            {"type": "filtered"} if is_sensitive_key(name) else _summarize(arg, budget, snap)
        )
    return {"type": "arguments", "arguments": out}


def _text(text: str, budget: Budget) -> dict[str, Any]:
    preview = redact(truncate(text, budget.field_chars), budget.mask)
    return {"type": "text", "length": len(text), "lines": text.count("\n") + 1, "preview": preview}


def _preview(data: Any, budget: Budget, snap: Snapshot) -> dict[str, Any]:
    redacted = redact(snap.take(data), budget.mask)
    text = json.dumps(redacted, ensure_ascii=False)
    if len(text) <= budget.field_chars:
        return {"preview": redacted}
    return {"preview": truncate(text, budget.field_chars), "truncated_from": len(text)}


def _is_chat(value: list[Any] | tuple[Any, ...]) -> bool:
    return bool(value) and all(isinstance(m, dict) and "role" in m for m in islice(iter(value), 3))


def _chat(messages: list[Any] | tuple[Any, ...], budget: Budget, snap: Snapshot) -> dict[str, Any]:
    kept: list[Any] = []
    used = 0
    for message in reversed(messages[-budget.items :]):
        redacted = redact(snap.take(message), budget.mask)
        size = len(json.dumps(redacted))
        if kept and used + size > budget.field_chars:
            break
        kept.insert(0, redacted)
        used += size
    if kept and used > budget.field_chars:
        kept = [_preview(kept[0], budget, Snapshot(chars=budget.field_chars))["preview"]]
    return {"type": "chat", "messages": len(messages), "kept": len(kept), "preview": kept}
