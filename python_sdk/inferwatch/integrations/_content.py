"""What a client's request and response hold, as plain data a summary can describe.

Messages come as dicts or as the client's own pydantic objects; their content as text or as a
list of parts. Images in parts (a `data:` URL, Anthropic's base64 source) become what they are:
an image summary (format, size, mode, whether it verifies), never their bytes. Parameters keep
only plain values (numbers, strings, booleans) and tools by their names.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

from .._media import describe_bytes
from .._redact import redact_url

# Parameters a call is read by (`gen_ai.request.*`); anything else a request carries is content.
PARAMETERS = (
    "temperature", "top_p", "top_k", "max_tokens", "max_completion_tokens",
    "max_output_tokens", "n", "seed", "stream", "presence_penalty", "frequency_penalty",
    "reasoning_effort", "service_tier", "parallel_tool_calls",
)  # fmt: skip
_MAX_MESSAGES = 200  # the summary keeps the newest; older ones are counted, not read
_MAX_IMAGE_BASE64 = 48 * 1024 * 1024


def parameters(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: kwargs[k] for k in PARAMETERS if type(kwargs.get(k)) in (int, float, str, bool)}
    names = tool_names(kwargs.get("tools"))
    if names:
        out["tools"] = names
    choice = kwargs.get("tool_choice")
    if isinstance(choice, str):
        out["tool_choice"] = choice
    return out


def tool_names(tools: Any) -> list[str]:
    """`[{"type": "function", "function": {"name": "search"}}]` (and Anthropic's and the
    Responses API's shapes) as `["search"]`."""
    if not isinstance(tools, Iterable) or isinstance(tools, str | bytes | Mapping):
        return []
    names = []
    for tool in list(tools)[:64]:
        tool = plain(tool)
        if isinstance(tool, Mapping):
            function = tool.get("function")
            name = tool.get("name") or (
                function.get("name") if isinstance(function, Mapping) else None
            )
            names.append(str(name or tool.get("type") or "?")[:100])
    return names


def plain(value: Any) -> Any:
    """A client's pydantic object as a dict (its public `model_dump`), anything else as it is."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(exclude_none=True)
        except Exception:
            return value
    return value


def messages(items: Any, system: Any = None) -> list[Any]:
    """Chat messages with their image parts described; a system prompt given apart first."""
    out: list[Any] = []
    if isinstance(system, str | list):
        out.append({"role": "system", "content": parts(system)})
    if isinstance(items, str):
        return [*out, {"role": "user", "content": items}]
    if not isinstance(items, Iterable) or isinstance(items, Mapping | bytes):
        return [*out, items]
    listed = list(items)
    for item in listed[-_MAX_MESSAGES:]:
        item = plain(item)
        if isinstance(item, Mapping) and "content" in item:
            item = {**item, "content": parts(item["content"])}
        out.append(item)
    return out


def parts(content: Any) -> Any:
    if not isinstance(content, list):
        return content
    return [_part(plain(p)) for p in content[:_MAX_MESSAGES]]


def _part(part: Any) -> Any:
    if not isinstance(part, Mapping):
        return part
    kind = part.get("type")
    if kind in ("image_url", "input_image"):
        url = part.get("image_url")
        url = url.get("url") if isinstance(url, Mapping) else url
        return {"type": "image", **_image_from_url(url)}
    if kind == "image" and isinstance(part.get("source"), Mapping):
        source = part["source"]
        if source.get("type") == "base64":
            return {"type": "image", **_image_from_base64(source.get("data"))}
        return {"type": "image", "url": redact_url(str(source.get("url", "")))}
    return part


def _image_from_url(url: Any) -> dict[str, Any]:
    if not isinstance(url, str):
        return {}
    if url.startswith("data:") and "," in url[:200]:
        return _image_from_base64(url.split(",", 1)[1])
    return {"url": redact_url(url[:2000])}


def _image_from_base64(data: Any) -> dict[str, Any]:
    if not isinstance(data, str) or len(data) > _MAX_IMAGE_BASE64:
        return {"note": "not decoded: not base64 text, or too large"}
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return {"note": "not valid base64"}
    described = describe_bytes(raw)
    described.pop("type", None)
    return described
