"""What the model received, what it did and what it returned: `watch_model` and `model_context`.

On an exception the record is attached to the exception, so whoever captures it (the middleware,
`capture_exception`, a logging call) sends it as `contexts["model"]`. On success a generation
record goes to the store, sampled by `generations_sample_rate`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import Token
from types import TracebackType
from typing import Any, TypeVar, cast

from . import _metrics, _runtime
from ._context import current_model, current_request
from ._redact import truncate
from ._summary import Arguments, Budget, summarize

logger = logging.getLogger("inferwatch")
F = TypeVar("F", bound=Callable[..., Any])
_ATTR = "__inferwatch_model__"
_MISSING: Any = object()


class ModelCall:
    """One model call being recorded; `model_context` yields it.

    >>> with inferwatch.model_context("classifier", input=text) as call:  # doctest: +SKIP
    ...     call.note("tokenize", tokens=len(ids))
    ...     call.set_output(label)
    """

    def __init__(
        self,
        name: str,
        *,
        version: str | None = None,
        input: Any = _MISSING,
        sample_rate: float | None = None,
    ) -> None:
        runtime = _runtime.current()
        self.name, self.version, self.sample_rate = name, version, sample_rate
        self._budget = runtime.budget if runtime else Budget()
        request = current_request.get()
        self.request_id = request.request_id if request else None
        self.trace_id = request.trace_id if request else None
        # Values are summarised only when something reads them (a failure, an INFO log line):
        # summarising and redacting every successful call's input and output was most of what
        # a watched model call cost.
        self._values: dict[str, Any] = {}
        self._summaries: dict[str, dict[str, Any] | None] = {}
        self.output_chunks: int | None = None
        self.notes: list[dict[str, Any]] = []
        self.usage: dict[str, int] = {}
        self.first_chunk_ms: float | None = None
        self.streaming = False
        self.duration_ms: float | None = None
        self._start = time.perf_counter()
        self._token: Token[str | None] | None = None
        if input is not _MISSING:
            self.set_input(input)

    def set_input(self, value: Any) -> None:
        """Record what the model received (summarised, redacted and truncated when needed)."""
        self._set("input", value)
        if self._logging():
            self._log("received", input=self.input)

    def set_output(self, value: Any) -> None:
        """Record what the model returned."""
        self._set("output", value)

    @property
    def input(self) -> dict[str, Any] | None:
        return self._summary("input")

    @property
    def output(self) -> dict[str, Any] | None:
        summary = self._summary("output")
        if summary is not None and self.output_chunks is not None:
            summary["chunks"] = self.output_chunks
        return summary

    def _set(self, key: str, value: Any) -> None:
        self._values[key] = value
        self._summaries.pop(key, None)

    def _summary(self, key: str) -> dict[str, Any] | None:
        if key not in self._summaries:
            value = self._values.get(key, _MISSING)
            if isinstance(value, _Unbound):
                value = value.bind()
            self._summaries[key] = None if value is _MISSING else summarize(value, self._budget)
        return self._summaries[key]

    def set_usage(self, input_tokens: int | None = None, output_tokens: int | None = None) -> None:
        """Record token usage."""
        for key, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
            if value is not None:
                self.usage[key] = int(value)

    def note(self, stage: str, **data: Any) -> None:
        """Record what was processed at one stage (`note("resize", width=224)`)."""
        summary = {k: _small(v, self._budget) for k, v in data.items()}
        self.notes.append({"stage": stage, "at_ms": self._elapsed(), **summary})
        self._log("processed", stage=stage, data=summary)

    def mark_first_chunk(self) -> None:
        if self.first_chunk_ms is None:
            self.first_chunk_ms = self._elapsed()

    def record(self, status: str, error: BaseException | None = None) -> dict[str, Any]:
        """The whole record, as it goes into `contexts["model"]`, within the size budget."""
        out: dict[str, Any] = {"name": self.name, "status": status, "duration_ms": self.duration_ms}
        if self.version:
            out["version"] = self.version
        for key in ("input", "notes", "output", "usage", "first_chunk_ms", "request_id"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if error is not None:
            out["error"] = {"type": type(error).__name__, "message": _message(error)}
        return _within(out, _runtime.current())

    # -- lifecycle, used by model_context and watch_model ------------------------------

    def __enter__(self) -> ModelCall:
        self._token = current_model.set(self.name)
        self._start = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            # A sync generator under StreamingResponse runs each step in a copy of the context,
            # so the last step is not where the first set it (and that copy is dropped anyway).
            with contextlib.suppress(ValueError):
                current_model.reset(self._token)
        self.finish(exc)

    async def __aenter__(self) -> ModelCall:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def finish(self, exc: BaseException | None) -> None:
        """Close the record: attach it to `exc`, or store a sampled generation record."""
        try:
            self.duration_ms = self._elapsed()
            status = _status(exc)
            if status == "error" and exc is not None:
                record = self.record(status, exc)
                _attach(exc, record)
                request = current_request.get()
                if request is not None:
                    request.failed_models.append(record)
            if self._logging():
                self._log(
                    "returned", status=status, output=self.output, duration_ms=self.duration_ms
                )
            self._store(status, exc)
            if _metrics.enabled:
                self._observe(status, exc)
        except Exception:  # recording must never change what the model call does
            logger.debug("inferwatch: could not record a model call", exc_info=True)

    def _store(self, status: str, exc: BaseException | None) -> None:
        runtime = _runtime.current()
        if runtime is None or runtime.store is None:
            return
        rate = (
            runtime.options.generations_sample_rate
            if self.sample_rate is None
            else self.sample_rate
        )
        if status == "ok" and random.random() >= rate:
            return
        runtime.store.add(
            "generation",
            {
                "timestamp": time.time(),
                "source": "backend",
                "model": self.name,
                "version": self.version,
                "status": status,
                "duration_ms": self.duration_ms,
                "first_chunk_ms": self.first_chunk_ms,
                "input_tokens": self.usage.get("input_tokens"),
                "output_tokens": self.usage.get("output_tokens"),
                "error_type": type(exc).__name__ if status == "error" else None,
                "request_id": self.request_id,
                "trace_id": self.trace_id,
            },
        )

    def _observe(self, status: str, exc: BaseException | None) -> None:
        _metrics.observe_model_call(
            self.name,
            streaming=self.streaming,
            seconds=(self.duration_ms or 0) / 1000,
            error_type=status if status == "cancelled" else type(exc).__name__ if exc else None,
            first_chunk_seconds=None if self.first_chunk_ms is None else self.first_chunk_ms / 1000,
            usage=self.usage,
        )

    def _elapsed(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 3)

    def _logging(self) -> bool:
        runtime = _runtime.current()
        if runtime is not None and not runtime.options.log_model_calls:
            return False
        return logger.isEnabledFor(logging.INFO)

    def _log(self, what: str, **fields: Any) -> None:
        if self._logging():
            logger.info(
                "model %s %s",
                self.name,
                what,
                extra={"model": self.name, "step": what, "request_id": self.request_id, **fields},
            )


def model_context(
    name: str,
    *,
    input: Any = _MISSING,
    version: str | None = None,
    sample_rate: float | None = None,
) -> ModelCall:
    """Record one model call in a `with` (or `async with`) block.

    >>> with inferwatch.model_context("ranker", input=query) as call:  # doctest: +SKIP
    ...     call.set_output(ranked)
    """
    return ModelCall(name, version=version, input=input, sample_rate=sample_rate)


def watch_model(
    name: str, version: str | None = None, *, sample_rate: float | None = None
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
                input=_Unbound(signature, args, kwargs),
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


class _Unbound:
    """A watched function's arguments, matched to its parameters only when the input is read
    (a failure, an INFO log line): binding them on every call was a fifth of what watching a
    successful call cost."""

    __slots__ = ("args", "kwargs", "signature")

    def __init__(
        self, signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.signature, self.args, self.kwargs = signature, args, kwargs

    def bind(self) -> Any:
        """The model's input: the single argument, or the arguments by name (`self` left out)."""
        try:
            bound = self.signature.bind_partial(*self.args, **self.kwargs)
        except TypeError:
            return {"args": list(self.args), "kwargs": self.kwargs}
        named = {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}
        if len(named) == 1:
            return next(iter(named.values()))
        return Arguments(named)


def _status(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, GeneratorExit | KeyboardInterrupt) or type(exc).__name__ == "CancelledError":
        return "cancelled"
    return "error"


def _attach(exc: BaseException, record: dict[str, Any]) -> None:
    try:
        if getattr(exc, _ATTR, None) is None:  # the innermost model call is the one that failed
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


def _message(error: BaseException) -> str:
    try:
        return truncate(str(error), 500)
    except Exception:  # an exception whose `__str__` fails is still recorded
        return f"<unprintable {type(error).__name__}>"


def _small(value: Any, budget: Budget) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str) and len(value) <= 200:
        return summarize(value, budget)["preview"]
    return summarize(value, Budget(field_chars=1000, items=10, mask=budget.mask))


def _within(record: dict[str, Any], runtime: _runtime.Runtime | None) -> dict[str, Any]:
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
