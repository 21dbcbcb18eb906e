"""The OpenAI client (`openai`, and OpenAI-compatible servers through it: vLLM, Ollama, LM
Studio): chat completions, the Responses API and embeddings, sync and async, streaming or not.

Patched when the app imports the client's resource modules, never before; the client's public
methods only (`Completions.create`, `Responses.create`, `Embeddings.create` and their async
twins). Its `.stream()` helpers send through `.create(stream=True)`, so they are recorded too.
"""

from __future__ import annotations

import types
from typing import Any

from .._model import Deferred, ModelCall
from ._calls import instrument
from ._content import messages, parameters
from ._imports import when_imported

PROVIDER = "openai"


class OpenAIIntegration:
    """Model context for every call of the `openai` client, with no code beyond `init`.

    >>> inferwatch.init(app, integrations=[OpenAIIntegration()])  # doctest: +SKIP
    """

    name = PROVIDER

    def setup(self) -> None:
        """Patch each resource module when it is imported (now, if it already is)."""
        when_imported("openai.resources.chat.completions.completions", _patch_chat)
        when_imported("openai.resources.responses.responses", _patch_responses)
        when_imported("openai.resources.embeddings", _patch_embeddings)

    def __repr__(self) -> str:
        return "OpenAIIntegration()"


def _patch(module: types.ModuleType, classes: tuple[str, str], provider: Any) -> None:
    for name in classes:
        cls = getattr(module, name)
        cls.create = instrument(cls.create, provider)


def _patch_chat(module: types.ModuleType) -> None:
    _patch(module, ("Completions", "AsyncCompletions"), _Chat())


def _patch_responses(module: types.ModuleType) -> None:
    _patch(module, ("Responses", "AsyncResponses"), _Responses())


def _patch_embeddings(module: types.ModuleType) -> None:
    _patch(module, ("Embeddings", "AsyncEmbeddings"), _Embeddings())


def _usage(call: ModelCall, usage: Any, names: tuple[str, str]) -> None:
    if usage is not None:
        call.set_usage(getattr(usage, names[0], None), getattr(usage, names[1], None))


def _answered_by(call: ModelCall, result: Any) -> None:
    for key in ("model", "id"):
        value = getattr(result, key, None)
        if isinstance(value, str):
            call.response[key] = value[:200]


def _status(reason: Any) -> str:
    return "filtered" if reason == "content_filter" else "ok"


class _Chat:
    name, operation = PROVIDER, "chat"

    def request(self, kwargs: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
        model = str(kwargs.get("model", "?"))
        return model, Deferred(messages, kwargs.get("messages")), parameters(kwargs)

    def response(self, call: ModelCall, result: Any) -> str:
        _answered_by(call, result)
        _usage(call, getattr(result, "usage", None), ("prompt_tokens", "completion_tokens"))
        choices = getattr(result, "choices", None) or []
        call.set_output(Deferred(_chat_output, choices))
        return _status(getattr(choices[0], "finish_reason", None) if choices else None)

    def chunks(self) -> _ChatChunks:
        return _ChatChunks()


def _chat_output(choices: list[Any]) -> dict[str, Any]:
    first = choices[0] if choices else None
    message = getattr(first, "message", None)
    out: dict[str, Any] = {
        "text": getattr(message, "content", None),
        "finish_reason": getattr(first, "finish_reason", None),
    }
    calls = getattr(message, "tool_calls", None) or []
    names = [getattr(getattr(c, "function", None), "name", None) for c in calls]
    if names:
        out["tool_calls"] = [n for n in names if n]
    refusal = getattr(message, "refusal", None)
    if refusal:
        out["refusal"] = refusal
    if len(choices) > 1:
        out["choices"] = len(choices)
    return out


class _ChatChunks:
    """`ChatCompletionChunk`s: the first choice's text, its finish reason and tool calls, and the
    usage the last chunk carries with `stream_options={"include_usage": True}`."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.size = 0
        self.finish_reason: str | None = None
        self.tools: list[str] = []
        self.usage: Any = None
        self.model: str | None = None

    def add(self, chunk: Any) -> None:
        self.model = getattr(chunk, "model", None) or self.model
        self.usage = getattr(chunk, "usage", None) or self.usage
        for choice in (getattr(chunk, "choices", None) or [])[:1]:
            delta = getattr(choice, "delta", None)
            text = getattr(delta, "content", None)
            if isinstance(text, str) and self.size < 20_000:
                self.text.append(text)
                self.size += len(text)
            for tool in getattr(delta, "tool_calls", None) or []:
                name = getattr(getattr(tool, "function", None), "name", None)
                if name:
                    self.tools.append(name)
            self.finish_reason = getattr(choice, "finish_reason", None) or self.finish_reason

    def close(self, call: ModelCall) -> str:
        if self.model:
            call.response["model"] = self.model
        _usage(call, self.usage, ("prompt_tokens", "completion_tokens"))
        output: dict[str, Any] = {"text": "".join(self.text), "finish_reason": self.finish_reason}
        if self.tools:
            output["tool_calls"] = self.tools
        call.set_output(output)
        return _status(self.finish_reason)


class _Responses:
    name, operation = PROVIDER, "chat"

    def request(self, kwargs: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
        model = str(kwargs.get("model", "?"))
        value = Deferred(messages, kwargs.get("input"), kwargs.get("instructions"))
        return model, value, parameters(kwargs)

    def response(self, call: ModelCall, result: Any) -> str:
        _answered_by(call, result)
        _usage(call, getattr(result, "usage", None), ("input_tokens", "output_tokens"))
        call.set_output(Deferred(_responses_output, result))
        return _responses_status(result)

    def chunks(self) -> _ResponseEvents:
        return _ResponseEvents()


def _responses_status(result: Any) -> str:
    details = getattr(result, "incomplete_details", None)
    return _status(getattr(details, "reason", None))


def _responses_output(result: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"text": getattr(result, "output_text", None)}
    out["status"] = getattr(result, "status", None)
    items = getattr(result, "output", None) or []
    names = [getattr(i, "name", None) for i in items if getattr(i, "type", None) == "function_call"]
    if names:
        out["tool_calls"] = [n for n in names if n]
    return out


class _ResponseEvents:
    """Responses API stream events: text deltas, and the final response's usage and status."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.final: Any = None

    def add(self, event: Any) -> None:
        kind = getattr(event, "type", "")
        if kind == "response.output_text.delta" and sum(map(len, self.text)) < 20_000:
            self.text.append(str(getattr(event, "delta", "")))
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self.final = getattr(event, "response", None)

    def close(self, call: ModelCall) -> str:
        if self.final is None:
            call.set_output({"text": "".join(self.text)})
            return "ok"
        _answered_by(call, self.final)
        _usage(call, getattr(self.final, "usage", None), ("input_tokens", "output_tokens"))
        call.set_output({**_responses_output(self.final), "text": "".join(self.text)})
        return _responses_status(self.final)


class _Embeddings:
    name, operation = PROVIDER, "embeddings"

    def request(self, kwargs: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
        return str(kwargs.get("model", "?")), kwargs.get("input"), parameters(kwargs)

    def response(self, call: ModelCall, result: Any) -> str:
        _answered_by(call, result)
        _usage(call, getattr(result, "usage", None), ("prompt_tokens", "completion_tokens"))
        data = getattr(result, "data", None) or []
        vector = getattr(data[0], "embedding", None) if data else None
        dimensions = len(vector) if isinstance(vector, list) else None
        call.set_output({"vectors": len(data), "dimensions": dimensions})
        return "ok"

    def chunks(self) -> _ChatChunks:  # embeddings do not stream
        return _ChatChunks()
