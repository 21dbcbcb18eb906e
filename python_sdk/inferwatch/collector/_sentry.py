"""`POST /api/{project_id}/envelope/` and `/store/`: ingest from any Sentry SDK.

Point an SDK's DSN at the collector (`http://KEY@127.0.0.1:8765/1`) and its errors are stored,
grouped and shown like every other event. Checks in order: origin (403), key (401/403), rate
(429, before the body is read), size (413, also while inflating), parse (400), rate again by the
events the envelope holds (429, or 413 past what the bucket can ever hold); then each item on its
own. A key only in the envelope header's `dsn` is read from a bounded prefix of the body, and
nothing more is read or inflated before it is checked. `event` items are read by Sentry's own
normalizer, redacted and stored (see `_events`), but those that would open an issue past the
new-issue cap; an event that still could not be stored is invalid, and an envelope whose events
are all invalid is a 400. Attachments and user feedback are stored beside the events; every other
item type is skipped. Every item is counted by outcome, type and reason (`_counts`). A 200 means
the events are committed to the store (and to the forwarding outbox, when the collector has a
DSN).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .._envelope import Envelope
from .._forward import Forwarder
from ._body import Body
from ._collector import Collector
from ._events import Limits, Sorted, header_event_id, sort_items
from ._flood import before_body
from ._guards import (
    INLINE_BYTES,
    IngestRoute,
    client_id,
    cors_headers,
    origin_allowed,
    uninstrumented,
)
from ._normalize import Arrival, Normalizer, normalizer_for
from ._refused import Refused
from ._sentry_request import (
    check_key,
    header_key,
    parsed,
    read_decoded,
    refuse_if,
    request_client,
    request_key,
)


def sentry_router(collector: Collector) -> APIRouter:
    """Sentry's ingest routes, to mount in any FastAPI app or serve with `create_app`.

    >>> app.include_router(sentry_router(collector))  # doctest: +SKIP
    """
    router = APIRouter()
    for path in ("/api/{project_id}/envelope/", "/api/{project_id}/store/"):
        router.add_api_route(
            path, _preflight(collector), methods=["OPTIONS"], include_in_schema=False
        )
    for path, legacy in (
        ("/api/{project_id}/envelope/", False),
        ("/api/{project_id}/store/", True),
    ):
        router.add_api_route(
            path,
            _handler(collector, legacy=legacy),
            methods=["POST"],
            route_class_override=IngestRoute,
        )
    return router


def _preflight(collector: Collector) -> Any:
    async def preflight(request: Request) -> Response:
        origin = request.headers.get("origin")
        return Response(status_code=204, headers=cors_headers(origin, collector.config))

    return preflight


def _handler(collector: Collector, *, legacy: bool) -> Any:
    @uninstrumented
    async def ingest(request: Request, project_id: str) -> Response:
        headers = cors_headers(request.headers.get("origin"), collector.config)
        try:
            event_id = await _ingest(collector, request, project_id, legacy=legacy)
        except Refused as exc:
            collector.count(f"refused_{exc.status}")
            collector.record_refusal(exc.status)
            return JSONResponse(
                {"detail": exc.message}, exc.status, headers={**headers, **exc.headers}
            )
        finally:
            collector.flush_counts()
        return JSONResponse({"id": event_id}, headers=headers)

    return ingest


async def _ingest(
    collector: Collector, request: Request, project_id: str, *, legacy: bool
) -> str | None:
    config = collector.config
    if not origin_allowed(request.headers.get("origin"), config):
        raise Refused(403, "this origin is not allowed (see --allow-origin)")
    if not project_id.isdigit():
        raise Refused(400, f"the project id must be a number, got {project_id[:40]!r}")
    body = Body(request, config.max_envelope_bytes)
    key = request_key(request) or await header_key(body, legacy=legacy)
    check_key(collector, key)
    client = client_id(request, key)
    refuse_if(before_body(collector.limiter, client))
    data = await read_decoded(body)
    envelope = parsed(collector, client, data, legacy=legacy)
    project = int(project_id) if len(project_id) < 19 else None
    normalizer = normalizer_for(arrival(collector, request, project))
    items = await _keep(collector, key, envelope, normalizer, len(data))
    if items.invalid and not items.events:  # a 200 says an event was stored: none was
        raise Refused(400, f"the event cannot be stored: {items.invalid[0]}")
    return items.events[0]["event_id"] if items.events else header_event_id(envelope.headers)


def arrival(collector: Collector, request: Request, project_id: int | None) -> Arrival:
    """What the request says about the events it carries (see `_normalize.Arrival`)."""
    return Arrival(
        received=time.time(),
        user_agent=request.headers.get("user-agent"),
        client=request_client(request),
        project_id=project_id,
        max_age_days=collector.config.max_event_age_days,
    )


def limits(collector: Collector) -> Limits:
    config = collector.config
    return Limits(config.max_event_bytes, config.max_attachment_bytes)


async def _keep(
    collector: Collector, key: str, envelope: Envelope, normalizer: Normalizer, size: int
) -> Sorted:
    """Sort the items, commit what is kept and hand the events to the forwarder (whose outbox
    is only waited for on a worker thread, in one trip with the sorting and the commit)."""
    # Resolving frames through source maps may decode a map (tens of ms): never on the loop.
    resolving = not collector.sourcemaps.maps.empty()
    if collector.forwarder is not None or size > INLINE_BYTES or resolving:
        return await run_in_threadpool(_keep_blocking, collector, key, envelope, normalizer)
    items = _sorted(collector, key, envelope, normalizer)
    if items.rows() and not await collector.store.write_async(items.rows()):
        raise _store_refused()
    _count_stored(collector, items)
    return items


def _keep_blocking(
    collector: Collector, key: str, envelope: Envelope, normalizer: Normalizer
) -> Sorted:
    items = _sorted(collector, key, envelope, normalizer)
    if items.rows() and not collector.store.write(items.rows()):
        raise _store_refused()
    _count_stored(collector, items)
    if not collector.forward_events(items.events):
        raise Refused(503, "the forwarding outbox cannot take envelopes now", {"Retry-After": "5"})
    return items


def _sorted(collector: Collector, key: str, envelope: Envelope, normalizer: Normalizer) -> Sorted:
    items = sort_items(envelope, normalizer, limits(collector))
    collector.sourcemaps.resolve_events(items.events)  # before grouping: by the original frames
    kept = collector.admit_new_issues(key, items.events)
    items.outcomes += [("refused", "event", "new_issue_cap")] * (len(items.events) - len(kept))
    items.events = kept
    _count(collector, items)
    return items


def _count_stored(collector: Collector, items: Sorted) -> None:
    for outcome, item_type, reason in items.stored():
        collector.record(outcome, item_type, reason)


def _store_refused() -> Refused:
    return Refused(503, "the store cannot take events now", {"Retry-After": "5"})


async def store_sorted(collector: Collector, key: str, items: Sorted) -> None:
    """Commit what `items` keeps to the store (503 when it cannot take it now), but the events
    that would open an issue past `key`'s new-issue cap."""
    dropped = len(items.events)
    items.events = collector.admit_new_issues(key, items.events)
    for _ in range(dropped - len(items.events)):
        collector.record("refused", "event", "new_issue_cap")
    if items.rows() and not await collector.store.write_async(items.rows()):
        raise _store_refused()
    _count_stored(collector, items)


async def persist_forwarded(forwarder: Forwarder | None) -> None:
    """Wait (for the disk, never for Sentry) until what was submitted is in the outbox."""
    if forwarder is not None and not await run_in_threadpool(forwarder.persist, 5.0):
        raise Refused(503, "the forwarding outbox cannot take envelopes now", {"Retry-After": "5"})


def _count(collector: Collector, items: Sorted) -> None:
    collector.count("sentry_accepted", len(items.events))
    if items.invalid:
        collector.count("sentry_invalid", len(items.invalid))
    for outcome, item_type, reason in items.outcomes:
        collector.record(outcome, item_type, reason)
        if outcome == "skipped":
            collector.count(f"sentry_skipped_{item_type}")
