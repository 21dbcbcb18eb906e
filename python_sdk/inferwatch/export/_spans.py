"""The spans a unit of work leaves behind, in one shape both exporters render: `Span`s, kept on
a `Trace` until the sampling decision at its end.

A unit of work is a request (the middleware's), or a model call made outside any request (a
background job's). While it runs, each finished model call becomes a small `Span` of plain
values, never the call itself: a kept call would keep the prompt it was given alive until the
request ends. A trace keeps at most `MAX_SPANS` (Sentry's own limit a transaction); past it,
calls are counted, and still mark the trace failed when they failed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Literal

MAX_SPANS = 1000
MAX_ERRORS = 10  # error events noted on one trace (each becomes an `exception` span event)

Kind = Literal["server", "client", "internal"]


def new_span_id() -> str:
    """16 hex digits, never all zero (W3C calls that id invalid)."""
    return f"{random.getrandbits(64) or 1:016x}"


def new_trace_id() -> str:
    return f"{random.getrandbits(128) or 1:032x}"


@dataclass(slots=True)
class SpanEvent:
    """Something that happened at one moment of a span (`exception`, `first_token`)."""

    name: str
    at: float  # seconds since the epoch
    attributes: dict[str, Any]


@dataclass(slots=True)
class Span:
    """One span as both exporters need it. `parent_id` None: the root of its trace; a parent
    not among the trace's spans is a remote one (the caller's, from `traceparent`)."""

    name: str
    op: str  # Sentry's span operation: `http.server`, `gen_ai.chat`
    kind: Kind
    span_id: str
    parent_id: str | None
    start: float  # seconds since the epoch
    end: float
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)
    error: str | None = None  # set: the span ended in an error, described so
    call: Any = None  # the finished ModelCall, kept only when content is captured
    # What the call received and returned, as GenAI messages: read from `call` once kept.
    messages: tuple[list[Any], list[Any]] | None = None


class Trace:
    """A unit of work's spans, waiting for the decision made when it ends."""

    __slots__ = (
        "caller_sampled",
        "closed",
        "dropped",
        "errors",
        "failed",
        "parent_sampled",
        "parent_span_id",
        "span_id",
        "spans",
        "trace_id",
    )

    def __init__(
        self,
        trace_id: str,
        span_id: str,
        parent_span_id: str | None = None,
        parent_sampled: bool | None = None,
        caller_sampled: bool | None = None,
    ) -> None:
        self.trace_id, self.span_id = trace_id, span_id
        self.parent_span_id, self.parent_sampled = parent_span_id, parent_sampled
        self.caller_sampled = caller_sampled  # the `traceparent` flag, for `traces_sampler`
        self.spans: list[Span] = []
        self.errors: list[SpanEvent] = []
        self.dropped = 0
        self.failed = False  # a model call failed, or an error event was captured
        self.closed = False

    def add(self, span: Span, failed: bool) -> None:
        self.failed = self.failed or failed
        if self.closed:
            return  # a stream read to its end after its request ended: too late to send
        if len(self.spans) < MAX_SPANS:
            self.spans.append(span)
        else:
            self.dropped += 1

    def note_error(self, event: SpanEvent) -> None:
        self.failed = True
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(event)
