"""What the model received, what it did and what it returned: `ModelCall`, one call being
recorded (`watch_model` and `model_context`, in `_watch.py`, and the client integrations in
`integrations/` make them).

On an exception the record is attached to the exception, so whoever captures it (the middleware,
`capture_exception`, a logging call) sends it as `contexts["model"]`. On success a generation
record goes to the store, sampled by `generations_sample_rate`, and the call is kept on its
request, so a failure after the model answered still carries what it received and returned.
A call made inside another (an OpenAI call inside a watched function) nests under it: the outer
record lists it in `calls`. When spans are exported (`export/`), a finished call also becomes a
span on its request's trace.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import random
import time
from contextvars import Token
from types import TracebackType
from typing import Any

from . import _metrics, _runtime
from ._context import current_call, current_request
from ._record import attach_record, error_message, note_value, within_budget
from ._summary import Arguments, Budget, summarize
from .export import _tracing

logger = logging.getLogger("inferwatch")
MISSING: Any = object()
"""Marks an input not given (None is an input a model can receive)."""
MAX_CALLS = 10  # nested calls a record keeps, and finished calls a request keeps: the newest


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
        input: Any = MISSING,
        sample_rate: float | None = None,
        provider: str | None = None,
        operation: str | None = None,
    ) -> None:
        runtime = _runtime.current()
        self.name, self.version, self.sample_rate = name, version, sample_rate
        self.provider = provider
        # `gen_ai.operation.name` (chat, embeddings...), temperature, max tokens, tools offered...
        self.parameters: dict[str, Any] = {"operation": operation} if operation else {}
        self.response: dict[str, Any] = {}  # the model that answered, its response id...
        self.status: str | None = None
        self.error: BaseException | None = None
        self.error_details: dict[str, Any] = {}  # a provider's status code, request id...
        self.parent: ModelCall | None = None
        self.children: list[ModelCall] = []
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
        self.span_id: str | None = None  # given when its span is exported (export/)
        self._start = time.perf_counter()
        self._token: Token[Any] | None = None
        if input is not MISSING:
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
            value = self._values.get(key, MISSING)
            if isinstance(value, Deferred | Unbound):
                value = value.bind()
            self._summaries[key] = None if value is MISSING else summarize(value, self._budget)
        return self._summaries[key]

    def set_usage(self, input_tokens: int | None = None, output_tokens: int | None = None) -> None:
        """Record token usage."""
        for key, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens)):
            if value is not None:
                self.usage[key] = int(value)

    def note(self, stage: str, **data: Any) -> None:
        """Record what was processed at one stage (`note("resize", width=224)`)."""
        summary = {k: note_value(v, self._budget) for k, v in data.items()}
        self.notes.append({"stage": stage, "at_ms": self._elapsed(), **summary})
        self._log("processed", stage=stage, data=summary)

    def mark_first_chunk(self) -> None:
        if self.first_chunk_ms is None:
            self.first_chunk_ms = self._elapsed()

    def record(self, status: str, error: BaseException | None = None) -> dict[str, Any]:
        """The whole record, as it goes into `contexts["model"]`, within the size budget."""
        return within_budget(self._record(status, error), _runtime.current())

    def _record(self, status: str, error: BaseException | None) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": status, "duration_ms": self.duration_ms}
        for key in ("version", "provider", "parameters", "response"):
            value = getattr(self, key)
            if value:
                out[key] = value
        for key in ("input", "notes", "output", "usage", "first_chunk_ms", "request_id"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if error is not None:
            out["error"] = {
                "type": type(error).__name__,
                "message": error_message(error),
                **self.error_details,
            }
        if self.children:
            out["calls"] = [c._record(c.status or "ok", c.error) for c in self.children]
        return out

    # -- lifecycle, used by model_context and watch_model ------------------------------

    def __enter__(self) -> ModelCall:
        self.parent = current_call.get()
        self._token = current_call.set(self)
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
                current_call.reset(self._token)
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

    def finish(self, exc: BaseException | None, status: str | None = None) -> None:
        """Close the record: attach it to `exc`, or store a sampled generation record. `status`
        overrides the one `exc` implies (`abandoned` for a stream left unread, `filtered`)."""
        try:
            self.duration_ms = self._elapsed()
            self.status = status or _status(exc)
            self.error = exc if self.status == "error" else None
            if self.error is not None:
                # This call's record holds its nested calls: it replaces one of theirs.
                attach_record(
                    self.error, self.record("error", self.error), replace=bool(self.children)
                )
            self._keep()
            if _tracing.current is not None:
                _tracing.current.call_finished(self)
            if self._logging():
                self._log(
                    "returned", status=self.status, output=self.output, duration_ms=self.duration_ms
                )
            self._store(self.status, exc)
            if _metrics.enabled:
                self._observe(self.status, exc)
        except Exception:  # recording must never change what the model call does
            logger.debug("inferwatch: could not record a model call", exc_info=True)

    def _keep(self) -> None:
        """Under the call this one ran in, or on the request: the newest `MAX_CALLS` of them."""
        request = current_request.get()
        kept = (
            self.parent.children
            if self.parent is not None
            else (request.model_calls if request is not None else None)
        )
        if kept is not None:
            kept.append(self)
            del kept[:-MAX_CALLS]

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
                "error_type": type(exc).__name__ if status == "error" and exc else None,
                "request_id": self.request_id,
                "trace_id": self.trace_id,
            },
        )

    def _observe(self, status: str, exc: BaseException | None) -> None:
        _metrics.observe_model_call(
            self.name,
            streaming=self.streaming,
            seconds=(self.duration_ms or 0) / 1000,
            error_type=type(exc).__name__
            if status == "error" and exc
            else None
            if status in ("ok", "error")
            else status,
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


class Deferred:
    """A value worked out only when it is read: `fn(*args)`. An integration hands the client's
    request and response this way, so a successful call pays nothing to describe them."""

    __slots__ = ("args", "fn")

    def __init__(self, fn: Any, *args: Any) -> None:
        self.fn, self.args = fn, args

    def bind(self) -> Any:
        return self.fn(*self.args)


class Unbound:
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
