"""`Middleware`: a pure ASGI middleware for FastAPI and Starlette apps.

It gives each request an id (from `X-Request-ID`, `traceparent` or `sentry-trace`, or a new one)
and returns it in `X-Request-ID`; captures unhandled exceptions and 5xx answers with the request
and the model context; records the route template and the duration. It never reads the request
body and passes every message through as it comes, so streaming responses keep streaming.
When spans go to Sentry or an OTLP endpoint (`export/`), each request is a trace, decided on
when the request ends.
When the app has shut down (ASGI lifespan), it writes what is still queued before the server
hears so: uvicorn ends a worker stopped by SIGTERM by raising that signal again once the app has
shut down, so no `atexit` handler runs, and rows of the last moments would be lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import sentry_sdk
from sentry_sdk.scope import Scope as SentryScope
from sentry_sdk.utils import event_from_exception
from starlette.concurrency import run_in_threadpool

from . import _logging, _metrics, _runtime
from ._context import RequestInfo, current_request
from ._route_label import route_label
from .export import _tracing

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
DRAIN_SECONDS = 5.0  # how long an app's shutdown waits for the rows still queued


class Middleware:
    """Request ids, error capture and timing for every HTTP request of an ASGI app.

    >>> served = inferwatch.Middleware(app)  # doctest: +SKIP
    (`inferwatch.init(app)` does this for you, around the whole app: outside Starlette's error
    middleware, so the 500 it answers for an unhandled exception carries the id too.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, _drain_before_shutdown_completes(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = RequestInfo.from_scope(scope if isinstance(scope, dict) else dict(scope))
        tracing = _tracing.current  # None unless spans go to Sentry or an OTLP endpoint
        if tracing is not None:
            tracing.start_request(request)
        token = current_request.set(request)
        # The request's own isolation scope, so tags, user and breadcrumbs set while serving it
        # stay with it. Unlike `sentry_sdk.isolation_scope()` this does not also fork the
        # current scope, which a request only writes to inside its own `new_scope()`: that
        # second fork was a third of what the middleware cost a trivial request.
        outer = sentry_sdk.get_isolation_scope()
        SentryScope.set_isolation_scope(outer.fork())
        header = (b"x-request-id", request.request_id.encode("latin-1"))
        status = 0
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        failure: BaseException | None = None
        try:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                status = status or 500
                if not _is_ingest(scope):
                    _capture_exception(exc)
                failure = exc
                raise
            except BaseException as exc:  # cancelled: the client went away
                failure = exc
                raise
            if status >= 500 and not _is_ingest(scope):
                _capture_status(request, status)
        finally:
            if tracing is not None and not _is_ingest(scope):
                # Before the request's scope goes: its tags and user go on the transaction.
                tracing.finish_request(request, status, failure, time.perf_counter() - start)
            SentryScope.set_isolation_scope(outer)
            current_request.reset(token)
            _record(request, status, (time.perf_counter() - start) * 1000)


def _drain_before_shutdown_completes(send: Send) -> Send:
    async def send_after_draining(message: Message) -> None:
        if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            runtime = _runtime.current()
            if runtime is not None:
                await run_in_threadpool(runtime.drain, DRAIN_SECONDS)
        await send(message)

    return send_after_draining


def _is_ingest(scope: Scope) -> bool:
    """A collector ingest route (marked by `uninstrumented`): reporting on it would loop."""
    return bool(getattr(scope.get("endpoint"), "__inferwatch_ingest__", False))


def _capture_exception(exc: BaseException) -> None:
    client = sentry_sdk.get_client()
    event, hint = event_from_exception(
        exc,
        client_options=client.options,
        mechanism={"type": "inferwatch.asgi", "handled": False},
    )
    sentry_sdk.capture_event(event, hint=hint)


def _capture_status(request: RequestInfo, status: int) -> None:
    route = request.route or str(request.scope.get("path", ""))
    sentry_sdk.capture_message(f"{request.method} {route} returned {status}", level="error")


def _record(request: RequestInfo, status: int, duration_ms: float) -> None:
    route = route_label(request.route, request.scope, status or 500)
    if _metrics.enabled:
        _metrics.observe_request(
            request.method, route, status or 500, duration_ms / 1000, request.scope.get("endpoint")
        )
    if _logging.request_logger.isEnabledFor(logging.INFO):
        _logging.log_request(request, route, status or 500, duration_ms)
    runtime = _runtime.current()
    if runtime is None or runtime.store is None:
        return
    runtime.store.add(
        "request",
        {
            "timestamp": time.time(),
            "method": request.method,
            "route": route,
            "status": status or 500,
            "duration_ms": round(duration_ms, 3),
            "request_id": request.request_id,
        },
    )
