"""What a value is: short, JSON-ready descriptions of model inputs and outputs.

Nothing here imports numpy, torch or Pillow eagerly: arrays are recognised by duck typing and
images are opened only when Pillow is installed.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._redact import is_sensitive_key, redact, truncate
from ._types import Mask

_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
    (b"BM", "image/bmp"),
    (b"%PDF", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
]


class Arguments(dict[str, Any]):
    """A function's arguments by name: each is summarised by what it is."""


@dataclass(frozen=True)
class Budget:
    """How much of a value is kept: characters a field, items of a sequence, the mask hook."""

    field_chars: int = 10_000
    items: int = 20
    mask: Mask | None = None


def summarize(value: Any, budget: Budget | None = None) -> dict[str, Any]:
    """Describe `value` without keeping more than `budget` of it; never raises.

    >>> summarize("hi there")["type"]
    'text'
    """
    budget = budget or Budget()
    try:
        return _summarize(value, budget)
    except Exception as exc:  # a summary must never break the model call it describes
        return {"type": type(value).__name__, "error": f"summary failed: {type(exc).__name__}"}


def _summarize(value: Any, budget: Budget) -> dict[str, Any]:
    if value is None or isinstance(value, bool | int | float):
        return {"type": type(value).__name__, "value": _json_number(value)}
    if isinstance(value, str):
        return _text(value, budget)
    if isinstance(value, Arguments):
        return {
            "type": "arguments",
            "arguments": {
                k: {"type": "filtered"} if is_sensitive_key(k) else _summarize(v, budget)
                for k, v in value.items()
            },
        }
    if isinstance(value, bytes | bytearray | memoryview):
        return _bytes(bytes(value))
    if hasattr(value, "model_dump") and callable(value.model_dump):
        return {
            "type": "pydantic",
            "class": type(value).__name__,
            **_preview(value.model_dump(mode="json"), budget),
        }
    if _is_array(value):
        return _array(value)
    if _is_pil_image(value):
        return {"type": "image", **_image_info(value)}
    if isinstance(value, Mapping):
        keys = [str(k) for k in list(value)[: budget.items]]
        return {"type": "mapping", "keys": keys, "count": len(value), **_preview(value, budget)}
    if isinstance(value, Sequence):
        if _is_chat(value):
            return _chat(value, budget)
        kept = list(value[: budget.items])
        return {"type": "sequence", "length": len(value), **_preview(kept, budget)}
    return {"type": type(value).__name__, "preview": truncate(repr(value), 200)}


def _text(text: str, budget: Budget) -> dict[str, Any]:
    preview = redact(truncate(text, budget.field_chars), budget.mask)
    return {"type": "text", "length": len(text), "lines": text.count("\n") + 1, "preview": preview}


def _preview(data: Any, budget: Budget) -> dict[str, Any]:
    redacted = redact(_jsonable(data), budget.mask)
    text = json.dumps(redacted, default=repr, ensure_ascii=False)
    if len(text) <= budget.field_chars:
        return {"preview": redacted}
    return {"preview": truncate(text, budget.field_chars), "truncated_from": len(text)}


def _is_chat(value: Sequence[Any]) -> bool:
    return bool(value) and all(isinstance(m, Mapping) and "role" in m for m in value[:3])


def _chat(messages: Sequence[Any], budget: Budget) -> dict[str, Any]:
    kept: list[Any] = []
    used = 0
    for message in reversed(messages[-budget.items :]):
        redacted = redact(_jsonable(dict(message)), budget.mask)
        size = len(json.dumps(redacted, default=repr))
        if kept and used + size > budget.field_chars:
            break
        kept.insert(0, redacted)
        used += size
    if kept and used > budget.field_chars:
        kept = [_preview(kept[0], budget)["preview"]]
    return {"type": "chat", "messages": len(messages), "kept": len(kept), "preview": kept}


def sniff(data: bytes) -> str:
    """The media type the first bytes of `data` announce, or `application/octet-stream`."""
    for magic, mime in _MAGIC:
        if data.startswith(magic) and (mime != "image/webp" or data[8:12] == b"WEBP"):
            return mime
    try:
        data[:512].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def _bytes(data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "bytes", "size": len(data), "mime": sniff(data)}
    if out["mime"].startswith("image/"):
        out["image"] = _verify_image(data)
    return out


def _verify_image(data: bytes) -> dict[str, Any]:
    try:
        from PIL import Image
    except ImportError:
        return {"verified": None, "note": "install inferwatch[image] to check images"}
    try:
        with Image.open(io.BytesIO(data)) as img:
            info = _image_info(img)
            img.verify()
        return {**info, "verified": True}
    except Exception as exc:
        return {"verified": False, "error": f"{type(exc).__name__}: {truncate(str(exc), 200)}"}


def _is_pil_image(value: Any) -> bool:
    return all(hasattr(value, a) for a in ("size", "mode", "getbands"))


def _image_info(img: Any) -> dict[str, Any]:
    width, height = img.size
    return {"format": img.format, "width": width, "height": height, "mode": img.mode}


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, type)


MAX_ARRAY_STATS = 1_000_000


def _element_count(arr: Any) -> int:
    count = 1
    for dim in arr.shape:
        count *= int(dim)
    return count


def _array(arr: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "dtype": str(arr.dtype), "shape": list(arr.shape)}
    if _element_count(arr) > MAX_ARRAY_STATS:
        return out  # min/max/NaN copy the array (and sync a GPU) on every call: not for big ones
    try:
        finite = arr[arr == arr]  # NaN != NaN: works for numpy and torch alike
        out["nan_count"] = int((arr != arr).sum())
        if int(finite.size if isinstance(finite.size, int) else finite.numel()):
            out["min"] = _json_number(float(finite.min()))
            out["max"] = _json_number(float(finite.max()))
    except Exception:
        pass  # non-numeric dtypes have no min or NaN
    return out


def _json_number(value: Any) -> Any:
    """NaN and infinity as text: JSON has no such numbers, and a NaN is what the reader needs
    to see (`"nan"`), not a reason for the event to be refused."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _jsonable(value: Any, _depth: int = 0) -> Any:
    """`value` as JSON can carry it, before redaction: bytes described (never kept: they are
    not redacted), NaN as text, other objects by a short repr, cycles and deep nesting cut."""
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return _json_number(value)
    if _depth > 20:
        return "[too deep]"
    if isinstance(value, bytes | bytearray | memoryview):
        return _bytes(bytes(value))
    if isinstance(value, Mapping):
        return {
            k if isinstance(k, str) else _short_repr(k): _jsonable(v, _depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_jsonable(v, _depth + 1) for v in value]
    return _short_repr(value)


def _short_repr(value: Any) -> str:
    try:
        return truncate(repr(value), 200)
    except Exception:
        return f"<{type(value).__name__}>"
