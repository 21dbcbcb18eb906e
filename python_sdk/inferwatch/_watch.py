"""`watch_model` and `model_context`: the ways into a `ModelCall`, for a function (sync, async,
or a generator that streams) and for a block of code."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar, cast

from ._model import MISSING, ModelCall, Unbound

F = TypeVar("F", bound=Callable[..., Any])


def model_context(
    name: str,
    *,
    input: Any = MISSING,
    version: str | None = None,
    sample_rate: float | None = None,
    operation: str | None = None,
    provider: str | None = None,
) -> ModelCall:
    """Record one model call in a `with` (or `async with`) block. `operation` and `provider`
    name it as spans do (`gen_ai.operation.name`, default `chat`; `gen_ai.provider.name`).

    >>> with inferwatch.model_context("ranker", input=query) as call:  # doctest: +SKIP
    ...     call.set_output(ranked)
    """
    return ModelCall(
        name,
        version=version,
        input=input,
        sample_rate=sample_rate,
        operation=operation,
        provider=provider,
    )


def watch_model(
    name: str,
    version: str | None = None,
    *,
    sample_rate: float | None = None,
    operation: str | None = None,
    provider: str | None = None,
) -> Callable[[F], F]:
    """Record every call of a function that runs a model: sync, async, or a (async) generator.

    >>> @inferwatch.watch_model("sentiment", version="2")  # doctest: +SKIP
    ... def predict(text: str) -> str: ...
    """

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        def start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> ModelCall:
            return ModelCall(
                name,
                version=version,
                sample_rate=sample_rate,
                input=Unbound(signature, args, kwargs),
                operation=operation,
                provider=provider,
            )

        if inspect.isasyncgenfunction(fn):
            return cast(F, _async_generator(fn, start))
        if inspect.isgeneratorfunction(fn):
            return cast(F, _generator(fn, start))
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with start(args, kwargs) as call:
                    result = await fn(*args, **kwargs)
                    call.set_output(result)
                    return result

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with start(args, kwargs) as call:
                result = fn(*args, **kwargs)
                call.set_output(result)
                return result

        return cast(F, wrapper)

    return decorate


def _generator(fn: Callable[..., Iterator[Any]], start: Callable[..., ModelCall]) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        call = start(args, kwargs)
        stream = _Stream(call)
        with call:
            for chunk in fn(*args, **kwargs):
                stream.seen(chunk)
                yield chunk
            stream.done()

    return wrapper


def _async_generator(fn: Callable[..., AsyncIterator[Any]], start: Callable[..., ModelCall]) -> Any:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        call = start(args, kwargs)
        stream = _Stream(call)
        with call:
            async for chunk in fn(*args, **kwargs):
                stream.seen(chunk)
                yield chunk
            stream.done()

    return wrapper


class _Stream:
    """Counts the chunks of a streaming model call and keeps the start of its text."""

    def __init__(self, call: ModelCall) -> None:
        self.call, self.chunks = call, 0
        call.streaming = True
        self.text: list[str] = []

    def seen(self, chunk: Any) -> None:
        if chunk is None or (isinstance(chunk, str | bytes) and not chunk):  # arrays: no `==`
            return
        self.call.mark_first_chunk()
        self.chunks += 1
        if isinstance(chunk, str) and sum(map(len, self.text)) < 2000:
            self.text.append(chunk)

    def done(self) -> None:
        self.call.set_output("".join(self.text) if self.text else None)
        self.call.output_chunks = self.chunks
