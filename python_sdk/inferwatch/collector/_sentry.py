"""`POST /api/{project_id}/envelope/` and `/store/`: ingest from any Sentry SDK.

Point an SDK's DSN at the collector (`http://KEY@127.0.0.1:8765/1`) and its errors are stored,
grouped and shown like every other event. Checks in order: origin (403), key (401/403), rate
(429), size (413, also while inflating), parse (400); then each item on its own. `event` items
are repaired where the store could not hold a value, redacted and stored (see `_events`); an event
that still could not be stored is invalid, and an envelope whose events are all invalid is a 400.
Every other item type is skipped and counted. A 200 means the events are committed to the store
(and to the forwarding outbox, when the collector has a DSN).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sentry_sdk.utils import BadDsn, Dsn
from starlette.concurrency import run_in_threadpool

from .. import _json
from .._envelope import Envelope, EnvelopeError, Item, parse
from .._forward import Forwarder
from .._types import Event
from ..store import Row
from ._collector import Collector
from ._decode import DecodedTooLarge, DecodeError, decode
from ._events import Sorted, header_event_id, sort_items
from ._guards import (
    INLINE_BYTES,
    BodyTooLarge,
    IngestRoute,
    client_id,
    cors_headers,
    origin_allowed,
    read_body,
    uninstrumented,
)
from ._refused import Refused


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
            return JSONResponse(
                {"detail": exc.message}, exc.status, headers={**headers, **exc.headers}
            )
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
    key = request_key(request)
    if key is not None:
        _check_key(collector, request, key)
    data = await read_decoded(request, config.max_envelope_bytes)
    envelope = _legacy_envelope(data, config.max_event_bytes) if legacy else parse_envelope(data)
    if key is None:
        key = _dsn_key(envelope.headers.get("dsn"))
        if key is None:
            raise Refused(401, "missing key: use a DSN like http://KEY@host/1 (X-Sentry-Auth)")
        _check_key(collector, request, key)
    items = await _keep(collector, envelope, len(data))
    _count(collector, items)
    if items.invalid and not items.events:  # a 200 says an event was stored: none was
        raise Refused(400, f"the event cannot be stored: {items.invalid[0]}")
    return items.events[0]["event_id"] if items.events else header_event_id(envelope.headers)


async def _keep(collector: Collector, envelope: Envelope, size: int) -> Sorted:
    """Sort the items, commit the events and hand them to the forwarder (whose outbox is only
    waited for on a worker thread, in one trip with the sorting and the commit)."""
    if collector.forwarder is not None or size > INLINE_BYTES:
        return await run_in_threadpool(_keep_blocking, collector, envelope)
    items = sort_items(envelope, collector.config.max_event_bytes)
    if items.events and not await collector.store.write_async(_rows(items)):
        raise _store_refused()
    return items


def _keep_blocking(collector: Collector, envelope: Envelope) -> Sorted:
    items = sort_items(envelope, collector.config.max_event_bytes)
    if items.events and not collector.store.write(_rows(items)):
        raise _store_refused()
    if not collector.forward_events(items.events):
        raise Refused(503, "the forwarding outbox cannot take envelopes now", {"Retry-After": "5"})
    return items


def _rows(items: Sorted) -> list[Row]:
    return [("event", e) for e in items.events]


def _store_refused() -> Refused:
    return Refused(503, "the store cannot take events now", {"Retry-After": "5"})


def request_key(request: Request) -> str | None:
    """The public key from `X-Sentry-Auth` (or `Authorization: Sentry ...`) or `?sentry_key=`."""
    for name in ("x-sentry-auth", "authorization"):
        value = request.headers.get(name, "")
        if value[:7].lower() == "sentry ":
            for part in value[7:].split(","):
                k, _, v = part.strip().partition("=")
                if k == "sentry_key" and v:
                    return v
    return request.query_params.get("sentry_key") or None


def _check_key(collector: Collector, request: Request, key: str) -> None:
    if not secrets.compare_digest(key.encode(), collector.config.key.encode()):
        raise Refused(403, "wrong key for this collector (the DSN's key must be the --key)")
    wait = collector.limiter.take(client_id(request, key))
    if wait:
        raise Refused(429, "rate limited", {"Retry-After": str(max(1, round(wait)))})


def _dsn_key(dsn: object) -> str | None:
    if not isinstance(dsn, str):
        return None
    try:
        return Dsn(dsn).public_key or None
    except BadDsn:
        return None


async def read_decoded(request: Request, limit: int) -> bytes:
    """The body, bounded before and after `Content-Encoding` is undone (413 past `limit`)."""
    try:
        body = await read_body(request, limit)
        encoding = request.headers.get("content-encoding")
        if not encoding:
            return body
        # Inflating up to 20 MiB takes tens of milliseconds: off the event loop.
        return await run_in_threadpool(decode, body, encoding, limit)
    except (BodyTooLarge, DecodedTooLarge) as exc:
        raise Refused(413, str(getattr(exc, "detail", exc))) from exc
    except DecodeError as exc:
        raise Refused(400, str(exc)) from exc


def parse_envelope(data: bytes) -> Envelope:
    try:
        return parse(data)
    except EnvelopeError as exc:
        raise Refused(400, f"not a Sentry envelope: {exc}") from exc


def _legacy_envelope(data: bytes, limit: int) -> Envelope:
    """The store endpoint's body (JSON, or base64 of zlib of JSON from old SDKs) as an envelope."""
    if not data.lstrip().startswith(b"{"):
        try:
            data = decode(base64.b64decode(data, validate=True), "deflate", limit)
        except (binascii.Error, DecodeError) as exc:
            raise Refused(400, "the body is not a JSON event") from exc
        except DecodedTooLarge as exc:
            raise Refused(413, str(exc)) from exc
    try:
        event = _json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise Refused(400, "the body is not a JSON event") from exc
    if not isinstance(event, dict):
        raise Refused(400, "the body must be a JSON object")
    return Envelope({}, [Item({"type": "event"}, data)])


async def store_events(collector: Collector, events: list[Event]) -> None:
    """Commit `events` to the store (503 when it cannot take them now)."""
    if events and not await collector.store.write_async([("event", e) for e in events]):
        raise _store_refused()


async def persist_forwarded(forwarder: Forwarder | None) -> None:
    """Wait (for the disk, never for Sentry) until what was submitted is in the outbox."""
    if forwarder is not None and not await run_in_threadpool(forwarder.persist, 5.0):
        raise Refused(503, "the forwarding outbox cannot take envelopes now", {"Retry-After": "5"})


def _count(collector: Collector, items: Sorted) -> None:
    collector.count("sentry_accepted", len(items.events))
    if items.invalid:
        collector.count("sentry_invalid", len(items.invalid))
    for item_type in items.skipped:
        collector.count(f"sentry_skipped_{item_type}")
