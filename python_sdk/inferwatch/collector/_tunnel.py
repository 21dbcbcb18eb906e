"""`POST /iw/tunnel`: Sentry's tunnel for apps whose React code already uses @sentry/browser.

`Sentry.init({ dsn, tunnel: "http://127.0.0.1:8765/iw/tunnel" })` makes the browser post its
envelopes here, on a path ad blockers leave alone. The `dsn` in the envelope header must equal,
character for character, one of the collector's `tunnel_dsns`; anything else is refused with
403 and nothing is sent anywhere. The upstream address always comes from that allowlist, never
from the body. Events are stored locally (redacted), and the envelope goes through the durable
outbox to that Sentry project's envelope endpoint: rebuilt with its JSON items redacted and its
other items (attachments, replay recordings) dropped and counted (see `_tunnel_redaction`), or,
with the collector's `tunnel_verbatim` option, byte for byte.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .._envelope import Envelope
from ._body import Body
from ._collector import Collector
from ._events import Sorted, header_event_id, sort_items
from ._flood import before_body, charge
from ._guards import IngestRoute, cors_headers, origin_allowed, uninstrumented
from ._normalize import Normalizer, normalizer_for
from ._refused import Refused
from ._sentry import arrival, limits, persist_forwarded, store_sorted
from ._sentry_request import envelope_cost, parse_envelope, read_decoded, refuse_if, tunnel_dsn
from ._tunnel_redaction import redacted_envelope

TUNNEL_PATH = "/iw/tunnel"


def tunnel_router(collector: Collector) -> APIRouter:
    """The tunnel route, to mount in any FastAPI app or serve with `create_app`.

    >>> app.include_router(tunnel_router(collector))  # doctest: +SKIP
    """
    router = APIRouter()

    @router.options(TUNNEL_PATH, include_in_schema=False)
    async def preflight(request: Request) -> Response:
        origin = request.headers.get("origin")
        return Response(status_code=204, headers=cors_headers(origin, collector.config))

    @uninstrumented
    async def tunnel(request: Request) -> Response:
        headers = cors_headers(request.headers.get("origin"), collector.config)
        try:
            event_id = await _tunnel(collector, request)
        except Refused as exc:
            collector.count(f"tunnel_refused_{exc.status}")
            collector.record_refusal(exc.status)
            return JSONResponse(
                {"detail": exc.message}, exc.status, headers={**headers, **exc.headers}
            )
        finally:
            collector.flush_counts()
        return JSONResponse({"id": event_id}, headers=headers)

    # An ingest route: a client hanging up mid-body is a log line, not a traceback.
    router.add_api_route(TUNNEL_PATH, tunnel, methods=["POST"], route_class_override=IngestRoute)
    return router


async def _tunnel(collector: Collector, request: Request) -> Any:
    config = collector.config
    if not origin_allowed(request.headers.get("origin"), config):
        raise Refused(403, "this origin is not allowed (see --allow-origin)")
    host = request.client.host if request.client else "-"
    client = f"tunnel:{host}"
    refuse_if(before_body(collector.limiter, client))
    body = Body(request, config.max_envelope_bytes)
    dsn = await tunnel_dsn(body, config.tunnel_dsns)  # from the first bytes: 403 before the rest
    data = await read_decoded(body)
    envelope = parse_envelope(data)
    tokens = envelope_cost(envelope, len(data))
    refuse_if(charge(collector.limiter, client, tokens, envelope.categories))
    normalizer = normalizer_for(arrival(collector, request, None))
    items, forwarded = await run_in_threadpool(_prepare, collector, envelope, data, normalizer)
    if forwarded is not None:  # None: every item was dropped, nothing is left to forward
        forwarder = collector.tunnel_forwarder(dsn)
        forwarder.submit(forwarded)
        await persist_forwarded(forwarder)
        collector.count("tunnel_forwarded")
    try:
        await store_sorted(collector, dsn, items)
    except Refused:
        collector.count("tunnel_store_failed")  # forwarded all the same; the copy is a bonus
    return items.events[0]["event_id"] if items.events else header_event_id(envelope.headers)


def _prepare(
    collector: Collector, envelope: Envelope, data: bytes, normalizer: Normalizer
) -> tuple[Sorted, bytes | None]:
    """What to store and the envelope to forward (None: nothing left to forward), in one trip
    to a worker thread: both redact, which is CPU work."""
    items = sort_items(envelope, normalizer, limits(collector))
    for outcome, item_type, reason in items.outcomes:
        collector.record(outcome, item_type, reason)
    if collector.config.tunnel_verbatim:
        return items, data
    rebuilt = redacted_envelope(envelope)
    for item_type in rebuilt.dropped:
        collector.count(f"tunnel_dropped_{item_type}")
    return items, rebuilt.body
