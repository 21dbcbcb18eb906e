"""`POST /iw/tunnel`: Sentry's tunnel for apps whose React code already uses @sentry/browser.

`Sentry.init({ dsn, tunnel: "http://127.0.0.1:8765/iw/tunnel" })` makes the browser post its
envelopes here, on a path ad blockers leave alone. The `dsn` in the envelope header must equal,
character for character, one of the collector's `tunnel_dsns`; anything else is refused with
403 and nothing is sent anywhere. The upstream address always comes from that allowlist, never
from the body. Events are stored locally (redacted), and the envelope goes, byte for byte, through
the durable outbox to that Sentry project's envelope endpoint.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ._body import Body
from ._collector import Collector
from ._flood import before_body, charge
from ._guards import cors_headers, origin_allowed, uninstrumented
from ._sentry import header_event_id, persist_forwarded, sort_items, store_events
from ._sentry_request import (
    Refused,
    envelope_cost,
    parse_envelope,
    read_decoded,
    refuse_if,
    tunnel_dsn,
)

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

    @router.post(TUNNEL_PATH)
    @uninstrumented
    async def tunnel(request: Request) -> Response:
        headers = cors_headers(request.headers.get("origin"), collector.config)
        try:
            event_id = await _tunnel(collector, request)
        except Refused as exc:
            collector.count(f"tunnel_refused_{exc.status}")
            return JSONResponse(
                {"detail": exc.message}, exc.status, headers={**headers, **exc.headers}
            )
        return JSONResponse({"id": event_id}, headers=headers)

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
    items = await run_in_threadpool(sort_items, envelope, config.max_event_bytes)
    forwarder = collector.tunnel_forwarder(dsn)
    forwarder.submit(data)
    await persist_forwarded(forwarder)
    try:
        await store_events(collector, dsn, items.events)
    except Refused:
        collector.count("tunnel_store_failed")  # forwarded all the same; the copy is a bonus
    collector.count("tunnel_forwarded")
    return items.events[0]["event_id"] if items.events else header_event_id(envelope.headers)
