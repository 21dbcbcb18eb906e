"""A kept trace as a Sentry transaction, through sentry-sdk's own tracing API.

The transaction is started and finished with the times the request had, once it is known to
be kept: a request that is dropped never costs a `Transaction`. Model calls become child spans
with Sentry's AI monitoring conventions: op `gen_ai.<operation>`, name `<operation> <model>`,
data `gen_ai.*` (sentry-sdk then sends them as span items, which Sentry's AI views read).
The transaction has the span id the request's error events carry in `contexts.trace`, so
Sentry links them.
"""

from __future__ import annotations

import json

import sentry_sdk
from sentry_sdk.consts import SPANSTATUS
from sentry_sdk.tracing import Span as SentrySpan
from sentry_sdk.tracing import Transaction

from . import _genai
from ._spans import Span, Trace

ORIGIN = "auto.inferwatch"
# What Sentry reads besides the OpenTelemetry names (sentry-sdk's own AI integrations set them).
SYSTEM = "gen_ai.system"
FIRST_TOKEN = "gen_ai.response.time_to_first_token"
STREAMING = "gen_ai.response.streaming"
REQUEST_MESSAGES = "gen_ai.request.messages"
RESPONSE_TEXT = "gen_ai.response.text"
HTTP_STATUS = "http.response.status_code"


def send(trace: Trace, root: Span, sample_rate: float, name: str, source: str) -> None:
    """Start and finish the transaction of `root` and its model calls, with their own times:
    named `name` (the route template), `source` as Sentry calls it (`route`, `url`, `task`)."""
    transaction = Transaction(
        name=name,
        op=root.op,
        source=source,
        trace_id=trace.trace_id,
        span_id=root.span_id,
        parent_span_id=root.parent_id,
        sampled=True,  # decided already (`_sampling`): sentry-sdk must not sample it again
        start_timestamp=root.start,
        origin=ORIGIN,
    )
    started = sentry_sdk.start_transaction(transaction)
    if not isinstance(started, Transaction):
        return  # sentry-sdk's span streaming mode, which has no transactions
    started.sample_rate = sample_rate  # what it stands for, in the trace's sampling context
    _describe(started, root)
    code = root.attributes.get(HTTP_STATUS)
    if isinstance(code, int):
        started.set_http_status(code)
    made: dict[str, SentrySpan] = {}
    by_id = {s.span_id: s for s in trace.spans}
    for span in by_id.values():
        _child(span, by_id, made, started)
    for span in by_id.values():
        made[span.span_id].finish(end_timestamp=span.end)
    if trace.dropped:
        started.set_data("inferwatch.dropped_spans", trace.dropped)
    started.finish(end_timestamp=root.end)


def _child(
    span: Span, by_id: dict[str, Span], made: dict[str, SentrySpan], root: Transaction
) -> SentrySpan:
    """The Sentry span of `span`, its parent made first (a parent starts before its calls); a
    call whose parent is not among the trace's spans hangs from the transaction."""
    if span.span_id in made:
        return made[span.span_id]
    parent_span = by_id.get(span.parent_id or "")
    parent = _child(parent_span, by_id, made, root) if parent_span else root
    child = parent.start_child(
        op=span.op, name=span.name, span_id=span.span_id, start_timestamp=span.start, origin=ORIGIN
    )
    _describe(child, span)
    _add_content(child, span)
    made[span.span_id] = child
    return child


def _describe(target: SentrySpan, span: Span) -> None:
    for key, value in span.attributes.items():
        target.set_data(key, value)
    provider = span.attributes.get(_genai.PROVIDER)
    if provider:
        target.set_data(SYSTEM, provider)
    if _genai.FIRST_CHUNK in span.attributes:
        target.set_data(FIRST_TOKEN, span.attributes[_genai.FIRST_CHUNK])
    if _genai.STREAM in span.attributes:
        target.set_data(STREAMING, True)
    status = span.attributes.get(_genai.STATUS)
    if span.error is not None:
        target.set_status(SPANSTATUS.INTERNAL_ERROR)
    elif status in ("cancelled", "abandoned"):
        target.set_status(SPANSTATUS.CANCELLED)
    elif status is not None:
        target.set_status(SPANSTATUS.OK)


def _add_content(target: SentrySpan, span: Span) -> None:
    if span.messages is None:
        return
    received, returned = span.messages
    chat = [{"role": m["role"], "content": _genai.plain_text([m])[0]} for m in received]
    if chat:
        target.set_data(REQUEST_MESSAGES, json.dumps(chat, ensure_ascii=False))
    if returned:
        text = _genai.plain_text(returned)
        target.set_data(RESPONSE_TEXT, json.dumps(text, ensure_ascii=False))


def transaction_source(route: str | None) -> str:
    """Sentry's transaction source: a route template, or the raw URL when no route matched."""
    return "route" if route else "url"
