"""The browser's generations as OpenTelemetry spans (`inferwatch serve --otlp-endpoint`): what
the user waited, submit -> first token -> done or abandoned, in the trace of the backend
request that served it (the snippet sends that trace id in `traceparent`)."""

from __future__ import annotations

from typing import Any

from . import _genai
from ._otel import OtlpExporter
from ._spans import Span, SpanEvent, new_span_id, new_trace_id

SOURCE = "inferwatch.source"


class GenerationSpans:
    """Stored browser generation rows to the OTLP endpoint, one span a generation.

    >>> GenerationSpans(OtlpExporter(url, {}, {"service.name": "web"})).export(rows)  # doctest: +SKIP
    """

    def __init__(self, exporter: OtlpExporter) -> None:
        self.exporter = exporter

    def export(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            trace_id = row.get("trace_id") or new_trace_id()
            self.exporter.export(trace_id, [generation_span(row)])

    def flush(self, timeout: float = 5.0) -> None:
        self.exporter.flush(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self.exporter.close(timeout)


def generation_span(row: dict[str, Any]) -> Span:
    """One generation row (as the collector stores it, redacted) as a CLIENT span: the browser
    is the client of the backend request that shares its trace id."""
    end = float(row["timestamp"])
    start = end - (row.get("duration_ms") or 0) / 1000
    attributes: dict[str, Any] = {
        _genai.OPERATION: _genai.DEFAULT_OPERATION,
        _genai.REQUEST_MODEL: row["model"],
        _genai.STATUS: row["status"],
        SOURCE: "browser",
    }
    events = []
    first = row.get("first_chunk_ms")
    if first is not None:
        attributes[_genai.FIRST_CHUNK] = first / 1000
        events.append(SpanEvent("first_token", start + first / 1000, {}))
    for key, name in (
        ("output_tokens", "inferwatch.generation.output_tokens"),
        ("request_id", "inferwatch.request_id"),
        ("session_id", "session.id"),
    ):
        if row.get(key) is not None:
            attributes[name] = row[key]
    failed = row["status"] == "error"
    if failed:
        attributes[_genai.ERROR_TYPE] = "_OTHER"
    return Span(
        name=f"generation {row['model']}",
        op="gen_ai.generation",
        kind="client",
        span_id=row.get("span_id") or new_span_id(),
        parent_id=None,
        start=start,
        end=end,
        attributes=attributes,
        events=events,
        error="the generation failed in the browser" if failed else None,
    )
