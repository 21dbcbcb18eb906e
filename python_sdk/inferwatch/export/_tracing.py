"""`Tracing`: what inferwatch sends past one machine. Each request (and each model call made
outside a request) collects its spans on a `Trace`; when it ends, `_sampling` decides, and a
kept trace goes to Sentry as a transaction (`_sentry`) and/or to an OTLP endpoint (`_otel`).

Installed by `init` only when there is somewhere to send spans (a DSN with a traces rate or
sampler, or an OTLP endpoint); otherwise `current` is None, and the middleware and model calls
check nothing else. Nothing here ever raises into the app.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from .. import _runtime
from .._context import RequestInfo, caller, current_request
from .._redact import redact_text
from .._types import Event
from . import _genai, _sentry
from ._sampling import Sampler
from ._spans import Span, SpanEvent, Trace, new_span_id, new_trace_id

if TYPE_CHECKING:
    from .._model import ModelCall
    from ._otel import OtlpExporter

logger = logging.getLogger("inferwatch")
current: Tracing | None = None


def install(tracing: Tracing | None) -> Tracing | None:
    """Make `tracing` current; returns the one it replaced."""
    global current
    previous, current = current, tracing
    return previous


class Tracing:
    """Where kept traces go, and how traces are kept.

    >>> Tracing(sentry=True, otlp=None, sampler=Sampler(0.1, None))  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        sentry: bool,
        otlp: OtlpExporter | None,
        sampler: Sampler,
        capture_content: bool = False,
    ) -> None:
        self.sentry, self.otlp, self.sampler = sentry, otlp, sampler
        self.capture_content = capture_content
        # Model calls made outside any request wait on their outermost call.
        self._strays: weakref.WeakKeyDictionary[ModelCall, Trace] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    # -- a request -------------------------------------------------------------------

    def start_request(self, request: RequestInfo) -> None:
        """Give the request a trace: its id, and a span id for its root, which the request's
        error events carry (what the caller said is read only when the request ends)."""
        request.trace = Trace(request.trace_id, new_span_id())

    def finish_request(
        self, request: RequestInfo, status: int, error: BaseException | None, seconds: float
    ) -> None:
        """Decide on the request's trace, and send it when kept."""
        trace, request.trace = request.trace, None
        if not isinstance(trace, Trace):
            return
        trace.closed = True
        try:
            # A client that went away cancels its request (not an Exception): no failure.
            failure = error if isinstance(error, Exception) else None
            if status >= 500 or failure is not None:
                trace.failed = True
            said = caller(request)
            trace.parent_span_id, trace.parent_sampled = said.span_id, said.sentry_sampled
            trace.caller_sampled = said.sampled
            rate = self.sampler.keep(
                trace, lambda: _sampling_context(request, trace, status, seconds)
            )
            if rate is None:
                return
            root = _request_span(request, trace, status, failure, seconds)
            if error is not None and failure is None:
                root.attributes["inferwatch.request.cancelled"] = True
            name = request.route or _path(request)
            self._send(trace, root, rate, name, _sentry.transaction_source(request.route))
        except Exception:
            logger.debug("inferwatch: could not send a request's spans", exc_info=True)

    def error_captured(self, event: Event) -> None:
        """Note an error event captured during a request: its trace is kept, and the event
        becomes an `exception` event of the request's span."""
        request = current_request.get()
        trace = request.trace if request is not None else None
        if isinstance(trace, Trace):
            try:
                trace.note_error(_exception_event(event))
            except Exception:
                logger.debug("inferwatch: could not note an error on its trace", exc_info=True)

    # -- a model call ----------------------------------------------------------------

    def call_finished(self, call: ModelCall) -> None:
        """Keep the call's span on its request's trace, or on its outermost call's."""
        try:
            span = _genai.call_span(call, keep_content=self.capture_content)
            if self.otlp is not None:
                self.otlp.record(span)
            request = current_request.get()
            if request is None:
                self._stray(call, span)
            elif isinstance(request.trace, Trace):
                if span.parent_id is None:
                    span.parent_id = request.trace.span_id
                request.trace.add(span, span.error is not None)
        except Exception:
            logger.debug("inferwatch: could not record a model call's span", exc_info=True)

    def _stray(self, call: ModelCall, span: Span) -> None:
        """A call outside any request: a trace of its own, decided when its outermost ends."""
        root = call
        while root.parent is not None:
            root = root.parent
        with self._lock:
            trace = self._strays.pop(root, None) if root is call else self._strays.get(root)
            if trace is None:
                trace = Trace(new_trace_id(), _genai.span_id_of(root))
                if root is not call:
                    self._strays[root] = trace
        if root is not call:
            trace.add(span, span.error is not None)
            return
        trace.closed = True
        trace.failed = trace.failed or span.error is not None
        rate = self.sampler.keep(trace, lambda: _call_sampling_context(trace, span))
        if rate is not None:
            self._send(trace, span, rate, span.name, "task")

    # -- sending ---------------------------------------------------------------------

    def _send(self, trace: Trace, root: Span, rate: float, name: str, source: str) -> None:
        if trace.dropped:
            root.attributes["inferwatch.dropped_spans"] = trace.dropped
        runtime = _runtime.current()
        for span in (root, *trace.spans):
            _genai.read_content(span, runtime)
        if self.sentry:
            _sentry.send(trace, root, rate, name, source)
        if self.otlp is not None:
            self.otlp.export(trace.trace_id, [root, *trace.spans])

    def flush(self, timeout: float = 5.0) -> None:
        """Hand what the OTLP exporter holds to the endpoint (Sentry's go with its events)."""
        if self.otlp is not None:
            try:
                self.otlp.flush(timeout)
            except Exception:
                logger.debug("inferwatch: could not flush the OTLP exporter", exc_info=True)

    def close(self, timeout: float = 5.0) -> None:
        if self.otlp is not None:
            try:
                self.otlp.close(timeout)
            except Exception:
                logger.debug("inferwatch: could not close the OTLP exporter", exc_info=True)


def _path(request: RequestInfo) -> str:
    return redact_text(str(request.scope.get("root_path", "")) + str(request.scope.get("path", "")))


def _request_span(
    request: RequestInfo, trace: Trace, status: int, error: Exception | None, seconds: float
) -> Span:
    """The request's own span, the root of its trace (or a child of the caller's)."""
    end = time.time()
    route = request.route
    attributes: dict[str, Any] = {
        "http.request.method": request.method,
        "url.path": _path(request),
        "url.scheme": str(request.scope.get("scheme", "http")),
        "inferwatch.request_id": request.request_id,
    }
    if route:
        attributes["http.route"] = route
    if status:
        attributes["http.response.status_code"] = status
    failure = None
    if error is not None:
        failure = attributes["error.type"] = type(error).__name__
    elif status >= 500:
        failure = attributes["error.type"] = str(status)
    return Span(
        name=f"{request.method} {route}" if route else request.method,
        op="http.server",
        kind="server",
        span_id=trace.span_id,
        parent_id=trace.parent_span_id,
        start=end - seconds,
        end=end,
        attributes=attributes,
        events=list(trace.errors),
        error=failure,
    )


def _sampling_context(
    request: RequestInfo, trace: Trace, status: int, seconds: float
) -> dict[str, Any]:
    """What `traces_sampler` is given: Sentry's keys, and what the end of a request knows."""
    return {
        "transaction_context": {
            "name": request.route or _path(request),
            "op": "http.server",
            "trace_id": trace.trace_id,
            "span_id": trace.span_id,
            "parent_span_id": trace.parent_span_id,
        },
        "parent_sampled": trace.caller_sampled,
        "request": {
            "method": request.method,
            "route": request.route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        },
        "model_calls": len(trace.spans) + trace.dropped,
    }


def _call_sampling_context(trace: Trace, root: Span) -> dict[str, Any]:
    return {
        "transaction_context": {"name": root.name, "op": root.op, "trace_id": trace.trace_id},
        "parent_sampled": None,
        "model_calls": len(trace.spans) + 1,
    }


def _exception_event(event: Event) -> SpanEvent:
    """An error event as an `exception` span event: its type, message (both redacted by the
    pipeline already), the frames as Python prints them, and its id in the store and Sentry."""
    values = (event.get("exception") or {}).get("values") or []
    last = values[-1] if values and isinstance(values[-1], dict) else {}
    attributes: dict[str, Any] = {
        "exception.type": str(last.get("type") or "Error"),
        "exception.message": str(last.get("value") or _message(event))[:1000],
        "inferwatch.event_id": str(event.get("event_id", "")),
    }
    frames = (last.get("stacktrace") or {}).get("frames") or []
    if frames:
        attributes["exception.stacktrace"] = _stacktrace(frames)
    at = event.get("timestamp")
    return SpanEvent("exception", at if isinstance(at, int | float) else time.time(), attributes)


def _message(event: Event) -> str:
    message = event.get("message") or (event.get("logentry") or {}).get("formatted") or ""
    return str(message)


def _stacktrace(frames: list[Any]) -> str:
    lines = ["Traceback (most recent call last):"]
    for frame in frames[-50:]:
        if isinstance(frame, dict):
            lines.append(
                f'  File "{frame.get("abs_path") or frame.get("filename")}",'
                f" line {frame.get('lineno')}, in {frame.get('function')}"
            )
            if frame.get("context_line"):
                lines.append(f"    {str(frame['context_line']).strip()}")
    return "\n".join(lines)[:8000]
