"""`POST /iw/ingest`: the snippet's batches. `GET /iw/inferwatch.js`: the built snippet.

Checks in order: origin (403), key (401/403), rate (429, before the body is read), size (413),
JSON (400), rate again by the events the batch holds (429, or 413 past what the bucket can ever
hold); then each event is validated on its own, so one bad event never costs the good ones
beside it. Errors that would open an issue past the new-issue cap are dropped and counted, and
so are the noise errors of `_inbound_filters`. Refusals are counted and logged (`_refusals`);
their JSON `error` is readable by the page, so the snippet can say in the console why.
"""

from __future__ import annotations

import secrets
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .. import _json, _metrics
from ..store import Row
from . import _browser_schema as schema
from ._browser_rows import batch_rows
from ._collector import Collector
from ._flood import before_body, charge, cost
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
from ._refusals import reason_for
from ._repair import may_need_repair


def browser_router(collector: Collector) -> APIRouter:
    """The snippet's routes, to mount in any FastAPI app or serve with `create_app`."""
    router = APIRouter()
    config = collector.config

    @router.options("/iw/ingest", include_in_schema=False)
    async def preflight(request: Request) -> Response:
        return Response(
            status_code=204, headers=cors_headers(request.headers.get("origin"), config)
        )

    @uninstrumented
    async def ingest(request: Request) -> Response:
        origin = request.headers.get("origin")
        headers = cors_headers(origin, config)
        key = request.query_params.get("key") or request.headers.get("x-inferwatch-key")

        def refuse(status: int, message: str, reason: str = "", **extra: str) -> JSONResponse:
            collector.count(f"refused_{status}")
            collector.record_refusal(status)
            collector.flush_counts()
            collector.refusals.note(reason or reason_for(status), message, key=key, origin=origin)
            return JSONResponse({"error": message}, status, headers={**headers, **extra})

        if not origin_allowed(origin, config):
            # the page may read why (the answer says nothing else), so the snippet can say it
            allow = {"Access-Control-Allow-Origin": str(origin), "Vary": "Origin"}
            return refuse(403, f"origin {origin} is not allowed (see --allow-origin)", **allow)
        if not key:
            return refuse(401, "missing key: add ?key=KEY (see `inferwatch snippet`)")
        if not secrets.compare_digest(key.encode(), config.key.encode()):
            return refuse(
                403, "wrong key for this collector (see `inferwatch snippet`)", "wrong_key"
            )
        client = client_id(request, key)
        if limited := before_body(collector.limiter, client):
            return refuse(limited.status, limited.message, **limited.headers)
        try:
            body = await read_body(request, config.max_body_bytes)
        except BodyTooLarge as exc:
            return refuse(413, exc.detail)
        events, error = _parse(body)
        tokens = cost(len(events), len(body))
        if limited := charge(collector.limiter, client, tokens, _categories(events)):
            return refuse(limited.status, limited.message, **limited.headers)
        if error:
            return refuse(400, error)
        # Validation and redaction of a large batch are CPU work for a worker thread; a small
        # one costs less than the trip there (see INLINE_BYTES).
        suspect = may_need_repair(body)
        user_agent = request.headers.get("user-agent")
        if len(body) <= INLINE_BYTES:
            rows, invalid, repaired, noise = batch_rows(events, suspect, user_agent)
        else:
            rows, invalid, repaired, noise = await run_in_threadpool(
                batch_rows, events, suspect, user_agent
            )
        await collector.sourcemaps.resolve_rows(rows)  # before grouping: by the original frames
        rows, dropped = _admit(collector, key, rows)
        if rows and not await collector.store.write_async(rows):
            return refuse(503, "the store cannot take events now", **{"Retry-After": "5"})
        errors = [data for kind, data in rows if kind == "event"]
        forwarding = errors and collector.forwarder is not None
        if forwarding and not await run_in_threadpool(collector.forward_events, errors):
            return refuse(503, "the forwarding outbox cannot take events now")
        if collector.generation_spans is not None:
            collector.generation_spans.export([d for kind, d in rows if kind == "generation"])
        if _metrics.enabled:
            _metrics.observe_browser(rows, len(invalid))
        accepted = len(events) - len(invalid) - dropped - noise
        collector.record_batch("browser", len(events), accepted, len(invalid), dropped)
        if noise:
            collector.record("refused", "browser", "filtered", noise)
        collector.count("browser_accepted", accepted)
        collector.count("browser_invalid", len(invalid))
        if repaired:
            collector.count("browser_repaired", repaired)
        answered = {"accepted": accepted, "invalid": len(invalid), "errors": invalid[:5]}
        if dropped:  # past the new-issue cap: said only when it happened
            answered["dropped"] = dropped
        if noise:
            collector.count("browser_filtered", noise)
            answered["filtered"] = noise
        collector.flush_counts()
        return JSONResponse(answered, headers=headers)

    router.add_api_route("/iw/ingest", ingest, methods=["POST"], route_class_override=IngestRoute)

    @router.get("/iw/inferwatch.js", include_in_schema=False)
    async def snippet() -> Response:
        return Response(
            snippet_source(),
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
        )

    @router.get("/iw/inferwatch.min.js.map", include_in_schema=False)
    async def snippet_map() -> Response:
        return Response(_static("inferwatch.min.js.map"), media_type="application/json")

    return router


def snippet_source() -> bytes:
    """The built snippet shipped inside the package."""
    return _static("inferwatch.min.js")


def _static(name: str) -> bytes:
    return (resources.files("inferwatch") / "_static" / name).read_bytes()


def _parse(body: bytes) -> tuple[list[Any], str | None]:
    try:
        batch = _json.loads(body)
    except (ValueError, RecursionError):
        return [], "the body is not JSON (send the batch as JSON text)"
    if not isinstance(batch, dict) or not isinstance(batch.get("events"), list):
        return [], 'the body must be an object with an "events" list'
    if len(batch["events"]) > schema.MAX_EVENTS:
        return [], f"a batch holds at most {schema.MAX_EVENTS} events"
    return batch["events"], None


def _categories(events: list[Any]) -> set[str]:
    """The rate-limit categories of a batch: its errors are Sentry's `error`, the rest `default`."""
    return {
        "error" if isinstance(e, dict) and e.get("type") == "error" else "default" for e in events
    }


def _admit(collector: Collector, key: str, rows: list[Row]) -> tuple[list[Row], int]:
    """`rows` but the errors that would open an issue past the new-issue cap, and their number."""
    errors = [data for kind, data in rows if kind == "event"]
    if not errors:
        return rows, 0
    kept = {id(e) for e in collector.admit_new_issues(key, errors)}
    out = [(kind, data) for kind, data in rows if kind != "event" or id(data) in kept]
    return out, len(rows) - len(out)
