"""The Anthropic client (`anthropic`): messages, sync and async, streaming or not.

Patched when the app imports the client's messages module, never before; the client's public
methods only: `Messages.create` (also with `stream=True`) and `Messages.stream`, whose stream
manager sends the request when its block is entered, and their async twins.
"""

from __future__ import annotations

import functools
import types
from typing import Any

from .._model import Deferred, ModelCall
from ._calls import active, instrument, start
from ._content import messages, parameters
from ._imports import when_imported
from ._streams import record_managed

PROVIDER = "anthropic"


class AnthropicIntegration:
    """Model context for every call of the `anthropic` client, with no code beyond `init`.

    >>> inferwatch.init(app, integrations=[AnthropicIntegration()])  # doctest: +SKIP
    """

    name = PROVIDER

    def setup(self) -> None:
        """Patch the messages module when it is imported (now, if it already is)."""
        when_imported("anthropic.resources.messages.messages", _patch_messages)

    def __repr__(self) -> str:
        return "AnthropicIntegration()"


def _patch_messages(module: types.ModuleType) -> None:
    provider = _Messages()
    for name in ("Messages", "AsyncMessages"):
        cls = getattr(module, name)
        cls.create = instrument(cls.create, provider)
        cls.stream = _stream_helper(cls.stream, provider)


def _stream_helper(method: Any, provider: _Messages) -> Any:
    if getattr(method, "__inferwatch_wrapped__", False):
        return method

    @functools.wraps(method)
    def stream(self: Any, *args: Any, **kwargs: Any) -> Any:
        manager = method(self, *args, **kwargs)
        if PROVIDER not in active:
            return manager
        return record_managed(manager, lambda: start(provider, kwargs), provider.chunks)

    stream.__inferwatch_wrapped__ = True  # type: ignore[attr-defined]
    return stream


class _Messages:
    name, operation = PROVIDER, "chat"

    def request(self, kwargs: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
        model = str(kwargs.get("model", "?"))
        value = Deferred(messages, kwargs.get("messages"), kwargs.get("system"))
        return model, value, parameters(kwargs)

    def response(self, call: ModelCall, result: Any) -> str:
        for key in ("model", "id"):
            value = getattr(result, key, None)
            if isinstance(value, str):
                call.response[key] = value[:200]
        usage = getattr(result, "usage", None)
        if usage is not None:
            call.set_usage(
                getattr(usage, "input_tokens", None), getattr(usage, "output_tokens", None)
            )
        blocks = getattr(result, "content", None) or []
        reason = getattr(result, "stop_reason", None)
        call.set_output(Deferred(_output, blocks, reason))
        return _status(reason)

    def chunks(self) -> _Events:
        return _Events()


def _status(reason: Any) -> str:
    return "filtered" if reason == "refusal" else "ok"


def _output(blocks: list[Any], reason: Any) -> dict[str, Any]:
    text = "".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", None) == "text")
    out: dict[str, Any] = {"text": text, "stop_reason": reason}
    tools = [getattr(b, "name", None) for b in blocks if getattr(b, "type", None) == "tool_use"]
    if tools:
        out["tool_calls"] = [t for t in tools if t]
    return out


class _Events:
    """Message stream events (raw, or the stream helper's, which adds its own `text` events):
    the text deltas, the tools used, the model, the stop reason and the usage."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.size = 0
        self.tools: list[str] = []
        self.model: str | None = None
        self.reason: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None

    def add(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "message_start":
            message = getattr(event, "message", None)
            self.model = getattr(message, "model", None)
            self.input_tokens = getattr(getattr(message, "usage", None), "input_tokens", None)
        elif kind == "content_block_start":
            block = getattr(event, "content_block", None)
            if getattr(block, "type", None) == "tool_use":
                self.tools.append(str(getattr(block, "name", "?")))
        elif kind == "content_block_delta":
            text = getattr(getattr(event, "delta", None), "text", None)
            if isinstance(text, str) and self.size < 20_000:
                self.text.append(text)
                self.size += len(text)
        elif kind == "message_delta":
            self.reason = getattr(getattr(event, "delta", None), "stop_reason", None) or self.reason
            tokens = getattr(getattr(event, "usage", None), "output_tokens", None)
            self.output_tokens = tokens if isinstance(tokens, int) else self.output_tokens

    def close(self, call: ModelCall) -> str:
        if self.model:
            call.response["model"] = self.model
        call.set_usage(self.input_tokens, self.output_tokens)
        output: dict[str, Any] = {"text": "".join(self.text), "stop_reason": self.reason}
        if self.tools:
            output["tool_calls"] = self.tools
        call.set_output(output)
        return _status(self.reason)
