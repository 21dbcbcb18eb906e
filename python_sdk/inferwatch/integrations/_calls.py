"""One provider call as a `ModelCall`: what every client integration shares.

A `Provider` says how to read one kind of call (the request's model, input and parameters; the
response's text, tool calls, finish reason and usage; a stream's chunks). `instrument` wraps a
client method with it: the call is recorded exactly as `watch_model` records one, nested under
the model call it runs in, and a stream is recorded as the caller reads it (`_streams.py`).
Recording never changes what the client returns or raises.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from .._context import current_call
from .._model import ModelCall
from ._streams import Chunks, is_async_stream, is_stream, record_async_stream, record_stream

logger = logging.getLogger("inferwatch")

# The providers whose integrations are on in this process (`install`); a patched method of one
# that is off calls straight through.
active: set[str] = set()


class Provider(Protocol):
    """How to read one kind of call of one client."""

    name: str  # `gen_ai.provider.name`: "openai", "anthropic"
    operation: str  # `gen_ai.operation.name`: "chat", "embeddings"...

    def request(self, kwargs: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
        """The model asked for, the input (deferred), the parameters."""

    def response(self, call: ModelCall, result: Any) -> str:
        """Record what `result` holds on `call`; the call's status (`ok`, `filtered`)."""

    def chunks(self) -> Chunks:
        """A reader for this call's stream, when it streams."""


def instrument(method: Callable[..., Any], provider: Provider) -> Callable[..., Any]:
    """`method` (a client's public method) recording each call. An async method may be a plain
    function that returns a coroutine (the clients' argument checks wrap them so): what it
    returns is awaited in the recording, then."""
    if getattr(method, "__inferwatch_wrapped__", False):
        return method

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if provider.name not in active:
            return method(self, *args, **kwargs)
        call = start(provider, kwargs)
        try:
            result = method(self, *args, **kwargs)
        except BaseException as exc:
            failed(call, exc)
            raise
        if inspect.isawaitable(result):
            return _awaited(call, provider, result)
        if is_stream(result):
            return record_stream(result, call, provider.chunks())
        return answered(call, provider, result)

    wrapper.__inferwatch_wrapped__ = True  # type: ignore[attr-defined]
    return wrapper


async def _awaited(call: ModelCall, provider: Provider, pending: Awaitable[Any]) -> Any:
    try:
        result = await pending
    except BaseException as exc:
        failed(call, exc)
        raise
    if is_async_stream(result):
        return record_async_stream(result, call, provider.chunks())
    return answered(call, provider, result)


def start(provider: Provider, kwargs: dict[str, Any]) -> ModelCall:
    """The model call for a request about to be sent, nested under the call it runs in."""
    model, value, parameters = provider.request(kwargs)
    call = ModelCall(model, provider=provider.name, input=value)
    call.parameters = {"operation": provider.operation, **parameters}
    call.parent = current_call.get()
    return call


def answered(call: ModelCall, provider: Provider, result: Any) -> Any:
    try:
        status = provider.response(call, result)
    except Exception:
        logger.debug("inferwatch: could not read a %s response", provider.name, exc_info=True)
        status = "ok"
    call.finish(None, status=status)
    return result


def failed(call: ModelCall, exc: BaseException) -> None:
    """A provider's error with what it says of itself: status code, request id, retry after."""
    with contextlib.suppress(Exception):
        call.error_details = error_details(exc)
    call.finish(exc)


def error_details(exc: BaseException) -> dict[str, Any]:
    out: dict[str, Any] = {}
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        out["status_code"] = status
    request_id = getattr(exc, "request_id", None)
    if isinstance(request_id, str):
        out["request_id"] = request_id[:200]
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    retry = headers.get("retry-after") if headers is not None else None
    if isinstance(retry, str):
        out["retry_after"] = retry[:40]
    return out
