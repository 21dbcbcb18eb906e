"""Spans and GenAI metrics to an OpenTelemetry backend, through the OpenTelemetry SDK and its
OTLP/HTTP exporter (the `inferwatch[otel]` extra). Imported only when an endpoint is set.

Kept traces are rendered here with their own times and ids: a `TracerProvider` of our own (the
app's global one, if any, is left alone) whose id generator hands out the ids inferwatch chose,
so a span's id is the one the request's error events and its Sentry transaction carry, and the
trace id is the request's. Its sampler keeps every span: the decision was made (`_sampling`).
The metrics (`gen_ai.client.*`) count every call, kept or not.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind, Status, StatusCode

from .._version import VERSION
from . import _genai
from ._spans import Span

logger = logging.getLogger("inferwatch")
SCHEMA_URL = "https://opentelemetry.io/schemas/1.41.0"
INPUT_MESSAGES = "gen_ai.input.messages"  # JSON text: OTLP attributes hold no nested values
OUTPUT_MESSAGES = "gen_ai.output.messages"
_KINDS = {"server": SpanKind.SERVER, "client": SpanKind.CLIENT, "internal": SpanKind.INTERNAL}
# The bucket boundaries the GenAI conventions give their histograms.
SECONDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
TOKENS = [4.0**i for i in range(14)]  # 1, 4, 16, ... 67108864
_METRIC_ATTRIBUTES = (
    _genai.OPERATION,
    _genai.PROVIDER,
    _genai.REQUEST_MODEL,
    _genai.RESPONSE_MODEL,
    _genai.ERROR_TYPE,
)


class _ChosenIds(IdGenerator):
    """Hands out the ids set just before a span starts (under `OtlpExporter._lock`)."""

    def __init__(self) -> None:
        self.trace_id = self.span_id = 0

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        return self.span_id


def endpoint_for(base: str, signal: str) -> str:
    """`OTEL_EXPORTER_OTLP_ENDPOINT`'s rule: the signal's path appended to the base URL."""
    return f"{base.rstrip('/')}/v1/{signal}"


class OtlpExporter:
    """The OpenTelemetry side: `export(spans)`, `record(span)` for metrics, `flush`, `close`.

    >>> OtlpExporter("http://collector:4318", {}, {"service.name": "chat-api"})  # doctest: +SKIP
    """

    def __init__(
        self,
        endpoint: str,
        headers: Mapping[str, str],
        resource: Mapping[str, Any],
        *,
        metrics: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.closed = False
        self._lock = threading.Lock()
        self._ids = _ChosenIds()
        described = Resource.create(dict(resource))
        self.traces = TracerProvider(
            sampler=ALWAYS_ON,
            resource=described,
            id_generator=self._ids,
            shutdown_on_exit=False,  # `close`, from inferwatch's shutdown and exit handlers
        )
        exporter = OTLPSpanExporter(endpoint=endpoint_for(endpoint, "traces"), headers=headers)
        self.traces.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self.traces.get_tracer("inferwatch", VERSION, schema_url=SCHEMA_URL)
        self.meters: MeterProvider | None = None
        if metrics:
            self._start_metrics(endpoint, headers, described)

    def _start_metrics(self, endpoint: str, headers: Mapping[str, str], resource: Resource) -> None:
        exporter = OTLPMetricExporter(endpoint=endpoint_for(endpoint, "metrics"), headers=headers)
        reader = PeriodicExportingMetricReader(exporter)
        self.meters = MeterProvider([reader], resource=resource, shutdown_on_exit=False)
        meter = self.meters.get_meter("inferwatch", VERSION, schema_url=SCHEMA_URL)
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=SECONDS,
        )
        self.first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streaming response.",
            explicit_bucket_boundaries_advisory=SECONDS,
        )
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=TOKENS,
        )

    # -- spans -----------------------------------------------------------------------

    def export(self, trace_id: str, spans: Sequence[Span]) -> None:
        """Start and end `spans` (a root and its descendants, in any order) in the backend."""
        by_id = {s.span_id: s for s in spans}
        made: dict[str, trace_api.Span] = {}
        with self._lock:
            for span in spans:
                self._start(int(trace_id, 16), span, by_id, made)
        for span in spans:
            made[span.span_id].end(end_time=_ns(span.end))

    def _start(
        self,
        trace_id: int,
        span: Span,
        by_id: dict[str, Span],
        made: dict[str, trace_api.Span],
    ) -> trace_api.Span:
        if span.span_id in made:
            return made[span.span_id]
        parent = by_id.get(span.parent_id or "")
        if parent is not None:
            context = trace_api.set_span_in_context(self._start(trace_id, parent, by_id, made))
        else:
            context = _remote_parent(trace_id, span.parent_id)
        self._ids.trace_id, self._ids.span_id = trace_id, int(span.span_id, 16)
        started = self.tracer.start_span(
            span.name,
            context=context,
            kind=_KINDS[span.kind],
            attributes=span.attributes,
            start_time=_ns(span.start),
            record_exception=False,
            set_status_on_exception=False,
        )
        for event in span.events:
            started.add_event(event.name, event.attributes, timestamp=_ns(event.at))
        received, returned = span.messages or ([], [])
        for name, messages in ((INPUT_MESSAGES, received), (OUTPUT_MESSAGES, returned)):
            if messages:
                started.set_attribute(name, json.dumps(messages, ensure_ascii=False))
        if span.error is not None:
            started.set_status(Status(StatusCode.ERROR, span.error))
        made[span.span_id] = started
        return started

    # -- metrics ---------------------------------------------------------------------

    def record(self, span: Span) -> None:
        """The GenAI client metrics of one finished model call."""
        if self.meters is None:
            return
        attrs = span.attributes
        labels = {k: attrs[k] for k in _METRIC_ATTRIBUTES if k in attrs}
        self.duration.record(span.end - span.start, labels)
        if _genai.FIRST_CHUNK in attrs:
            self.first_chunk.record(attrs[_genai.FIRST_CHUNK], labels)
        for key, kind in ((_genai.INPUT_TOKENS, "input"), (_genai.OUTPUT_TOKENS, "output")):
            if key in attrs:
                self.tokens.record(attrs[key], {**labels, "gen_ai.token.type": kind})

    # -- lifecycle -------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Send what waits; True when done within `timeout` (the SDK's own flush does not
        bound its wait: an endpoint that is down holds it for the exporter's retries)."""
        return _within(timeout, self._flush)

    def _flush(self) -> None:
        self.traces.force_flush()
        if self.meters is not None:
            self.meters.force_flush()

    def close(self, timeout: float = 5.0) -> None:
        """Flush, then stop the exporters' threads, taking at most about `timeout`."""
        if self.closed:
            return
        self.closed = True
        _within(timeout, self._shutdown)

    def _shutdown(self) -> None:
        self._flush()
        self.traces.shutdown()
        if self.meters is not None:
            self.meters.shutdown()


def _within(timeout: float, work: Callable[[], None]) -> bool:
    """Run `work` in a thread of its own and wait for it at most `timeout` seconds."""
    done = threading.Event()

    def run() -> None:
        try:
            work()
        except Exception:
            logger.debug("inferwatch: the OTLP exporter failed to flush", exc_info=True)
        finally:
            done.set()

    threading.Thread(target=run, name="inferwatch-otlp-flush", daemon=True).start()
    return done.wait(timeout)


def _remote_parent(trace_id: int, parent_id: str | None) -> Context:
    """The caller's span as the parent (a `traceparent` that came in), or none: a root."""
    if parent_id is None:
        return Context()
    parent = trace_api.SpanContext(
        trace_id, int(parent_id, 16), is_remote=True, trace_flags=trace_api.TraceFlags(1)
    )
    return trace_api.set_span_in_context(trace_api.NonRecordingSpan(parent), Context())


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)
