"""What every ingest route checks before it stores anything: body size and origin (the rate is
in `_flood`)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import sentry_sdk
from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect

from .._disconnects import HANG_UPS
from ._config import CollectorConfig, is_loopback_host

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


# Bodies up to this size are validated and redacted on the event loop (well under a millisecond
# for an envelope), and their commit is awaited there: a worker thread's trip cost more than the
# work it moved. Larger ones go to a worker thread, so the loop keeps serving meanwhile.
INLINE_BYTES = 32 * 1024


class IngestRoute(APIRoute):
    """An ingest route: documented in the OpenAPI schema from its endpoint's signature like any
    other, but called with the request and the path's parameters as they are (strings).

    FastAPI's parameter solving cost as much as the rest of a small envelope's ingest, and an
    ingest endpoint reads and checks its request itself. A client that hangs up while sending
    its body is noted in one rate-limited log line (see `inferwatch._disconnects`), not a traceback.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        route = f"{'/'.join(sorted(self.methods or ()))} {self.path}"

        async def handle(request: Request) -> Response:
            try:
                return cast(Response, await endpoint(request, **request.path_params))
            except ClientDisconnect:
                HANG_UPS.note(route)
                return Response(status_code=400)  # nobody reads it: uvicorn drops it

        return handle


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The body is larger than the limit of {limit} bytes.")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read in chunks and refused as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def origin_allowed(origin: str | None, config: CollectorConfig) -> bool:
    """Browsers send `Origin` on every POST; a request without one is not from a page."""
    if origin is None:
        return True
    if origin in config.allow_origins:
        return True
    host = urlsplit(origin).hostname or ""
    return config.loopback and is_loopback_host(host)


def cors_headers(origin: str | None, config: CollectorConfig) -> dict[str, str]:
    if origin is None or not origin_allowed(origin, config):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Content-Encoding, X-Sentry-Auth",
        "Access-Control-Expose-Headers": "Retry-After, X-Sentry-Rate-Limits",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


def client_id(request: Request, key: str) -> str:
    return f"{key}:{request.client.host if request.client else '-'}"


def uninstrumented(handler: F) -> F:
    """Run an ingest handler where nothing it does can become an event.

    A collector whose own process runs inferwatch or sentry-sdk must not report its own ingest:
    an event about ingest would be ingested, and so on. Events captured inside are dropped, and
    `Middleware` sees the marker and leaves the route alone.
    """
    _drop_events_while_ingesting()

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        # A context variable, not a scope of its own: a fork of sentry-sdk's scopes cost as much
        # as reading a small envelope. Worker threads of the handler see it through their copy.
        token = _ingesting.set(True)
        try:
            return await handler(*args, **kwargs)
        finally:
            _ingesting.reset(token)

    wrapper.__inferwatch_ingest__ = True  # type: ignore[attr-defined]
    return cast(F, wrapper)


_ingesting: ContextVar[bool] = ContextVar("inferwatch_ingesting", default=False)


@functools.cache
def _drop_events_while_ingesting() -> None:
    """Once a process, on the global scope, which every event passes and `init` keeps."""
    sentry_sdk.get_global_scope().add_event_processor(_drop)


def _drop(event: Any, hint: Any) -> Any:
    return None if _ingesting.get() else event
