"""A model call as a span with the OpenTelemetry GenAI semantic conventions (v1.41.0 of
open-telemetry/semantic-conventions, `docs/gen-ai/gen-ai-spans.md` and `gen-ai-metrics.md`),
which Sentry's AI monitoring reads too (its op is `gen_ai.<operation>`).

Attributes describe the call, never its content: model, provider, operation, parameters, the
model that answered, token usage, time to first chunk, status. What the model received and
returned is added only when content is captured (`capture_message_content`), from the same
redacted, budgeted summaries as the model context, at the moment a kept trace is sent.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from .. import _runtime
from .._record import error_message, within_budget
from .._redact import redact_text
from ._spans import Span, SpanEvent, new_span_id

if TYPE_CHECKING:
    from .._model import ModelCall

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
STREAM = "gen_ai.request.stream"
ERROR_TYPE = "error.type"
STATUS = "inferwatch.model.status"  # ok, error, cancelled, abandoned, filtered
VERSION = "inferwatch.model.version"
DEFAULT_OPERATION = "chat"

# A call's parameters (as the integrations and `parameters` record them) by their attribute.
_PARAMETERS = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "max_output_tokens": "gen_ai.request.max_tokens",
    "seed": "gen_ai.request.seed",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "n": "gen_ai.request.choice.count",
}


def span_id_of(call: ModelCall) -> str:
    """The call's span id, made the first time it is asked for (a nested call that finishes
    first asks for its parent's)."""
    if call.span_id is None:
        call.span_id = new_span_id()
    return call.span_id


def operation_of(call: ModelCall) -> str:
    operation = call.parameters.get("operation")
    return operation if isinstance(operation, str) and operation else DEFAULT_OPERATION


def call_span(call: ModelCall, *, keep_content: bool) -> Span:
    """The span of a call that just finished (`finish` has set its duration and status)."""
    end = time.time()
    operation = operation_of(call)
    error = type(call.error).__name__ if call.error is not None else None
    return Span(
        name=f"{operation} {call.name}",
        op=f"gen_ai.{operation}",
        # A provider's model runs elsewhere (CLIENT); a watched function may run in this process.
        kind="client" if call.provider else "internal",
        span_id=span_id_of(call),
        parent_id=span_id_of(call.parent) if call.parent is not None else None,
        start=end - (call.duration_ms or 0) / 1000,
        end=end,
        attributes=attributes(call, operation, error),
        error=error,
        events=[_exception(call.error, end)] if call.error is not None else [],
        call=call if keep_content else None,
    )


def _exception(error: BaseException, at: float) -> SpanEvent:
    runtime = _runtime.current()
    mask = runtime.options.mask if runtime is not None else None
    attributes = {
        "exception.type": type(error).__name__,
        "exception.message": redact_text(error_message(error), mask),
    }
    return SpanEvent("exception", at, attributes)


def attributes(call: ModelCall, operation: str, error: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {OPERATION: operation, REQUEST_MODEL: call.name}
    if call.provider:
        out[PROVIDER] = call.provider
    for key, name in _PARAMETERS.items():
        value = call.parameters.get(key)
        if type(value) in (int, float):
            out[name] = value
    if call.streaming or call.parameters.get("stream") is True:
        out[STREAM] = True
    for key, name in (("model", RESPONSE_MODEL), ("id", RESPONSE_ID)):
        value = call.response.get(key)
        if isinstance(value, str):
            out[name] = value
    for key, name in (("input_tokens", INPUT_TOKENS), ("output_tokens", OUTPUT_TOKENS)):
        if key in call.usage:
            out[name] = call.usage[key]
    if call.first_chunk_ms is not None:
        out[FIRST_CHUNK] = call.first_chunk_ms / 1000
    if call.version:
        out[VERSION] = call.version
    out[STATUS] = call.status or "ok"
    if error is not None:
        out[ERROR_TYPE] = error
    return out


# -- content, only when captured ----------------------------------------------------------


def read_content(span: Span, runtime: _runtime.Runtime | None) -> None:
    """`span.messages`: what its call received and returned as GenAI messages
    (`[{"role", "parts"}]`), from its redacted summaries cut to the model context's budget."""
    call, span.call = span.call, None
    if call is None:
        return
    kept = within_budget({"input": call.input, "output": call.output}, runtime)
    received = input_messages(kept.get("input"))
    span.messages = received, output_messages(kept.get("output"), call.status)


def input_messages(summary: Any) -> list[Any]:
    if not isinstance(summary, dict):
        return []
    preview = summary.get("preview")
    if summary.get("type") == "chat" and isinstance(preview, list):
        return [_message(m) for m in preview]
    return [{"role": "user", "parts": [_text(preview)]}]


def output_messages(summary: Any, status: str | None) -> list[Any]:
    if not isinstance(summary, dict):
        return []
    preview = summary.get("preview")
    reason = "stop" if status == "ok" else status
    if isinstance(preview, dict) and "text" in preview:
        reason = preview.get("finish_reason") or reason
        preview = preview["text"]
    return [{"role": "assistant", "parts": [_text(preview)], "finish_reason": reason}]


def _message(message: Any) -> dict[str, Any]:
    if not isinstance(message, dict):
        return {"role": "user", "parts": [_text(message)]}
    value = message.get("content")
    parts = [_part(p) for p in value] if isinstance(value, list) else [_text(value)]
    return {"role": str(message.get("role", "user")), "parts": parts}


def _part(part: Any) -> dict[str, Any]:
    if isinstance(part, dict) and part.get("type") in ("text", "input_text", "output_text"):
        return _text(part.get("text"))
    if isinstance(part, dict) and isinstance(part.get("type"), str):
        return dict(part)  # an image summary and the like: what it is, never its bytes
    return _text(part)


def _text(value: Any) -> dict[str, Any]:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    return {"type": "text", "content": text}


def plain_text(messages: list[Any]) -> list[str]:
    """The text parts of messages, one string a message (Sentry's `gen_ai.response.text`)."""
    return [
        "".join(p.get("content", "") for p in m.get("parts", []) if p.get("type") == "text")
        for m in messages
    ]
