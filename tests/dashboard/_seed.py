"""Seeding a store through the real ingest routes, shared by the dashboard, serve and CLI tests.

Backend events come from a FastAPI app with `inferwatch.init(store=...)` and a `@watch_model`
that raises, driven through httpx's ASGI transport; browser events are POSTed to `/iw/ingest`
over real HTTP in the snippet's wire format (see `collector/_browser_schema.py`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import inferwatch
from fastapi import FastAPI, HTTPException

KEY = "testkey123"
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
SESSION = "sess-browser-1"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def run_in_thread(coroutine: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """`asyncio.run` in its own thread: Playwright's sync API keeps a loop in the test's thread."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]


def backend_app() -> FastAPI:
    app = FastAPI()

    @inferwatch.watch_model("sentiment", version="2")
    def predict(text: str) -> str:
        if "boom" in text:
            raise ValueError(f"model could not read {text}")
        return "positive"

    @app.post("/predict")
    async def endpoint(body: dict[str, Any]) -> dict[str, str]:
        inferwatch.log_usage("/predict", body)
        return {"label": predict(body["text"])}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/teapot")
    async def teapot() -> dict[str, str]:
        raise HTTPException(418)

    return app


def seed_backend(store: Path, texts: list[str], *, request_ids: list[str] | None = None) -> None:
    """Requests to a real FastAPI app instrumented by `inferwatch.init(store=...)`."""
    app = backend_app()
    inferwatch.init(app, store=store, environ={}, environment="prod", release="1.4.0")

    async def drive() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            await client.get("/health")
            for i, text in enumerate(texts):
                headers = {"X-Request-ID": request_ids[i]} if request_ids else {}
                await client.post("/predict", json={"text": text}, headers=headers)

    run_in_thread(drive)
    assert inferwatch.flush(5)
    inferwatch.shutdown()


def browser_batch(
    now_ms: float,
    *,
    message: str,
    selector: str,
    session: str = SESSION,
    request_id: str = "req-browser-1",
    trace_id: str = TRACE,
) -> dict[str, Any]:
    """What the snippet sends: a click, a page view, a console line, a generation, an error."""
    return {
        "events": [
            {
                "type": "pageview",
                "ts": now_ms - 9000,
                "session": session,
                "url": "http://127.0.0.1:3000/chat",
                "path": "/chat",
            },
            {
                "type": "click",
                "ts": now_ms - 5000,
                "session": session,
                "url": "http://127.0.0.1:3000/chat",
                "selector": selector,
            },
            {
                "type": "console",
                "ts": now_ms - 3000,
                "session": session,
                "level": "warn",
                "message": "slow response",
            },
            {
                "type": "generation",
                "ts": now_ms - 2000,
                "session": session,
                "name": "chat",
                "status": "ok",
                "duration_ms": 1840.0,
                "first_token_ms": 420.0,
                "attrs": {"model": "sentiment"},
                "trace_id": trace_id,
                "request_id": request_id,
            },
            {
                "type": "error",
                "ts": now_ms,
                "session": session,
                "url": "http://127.0.0.1:3000/chat",
                "name": "TypeError",
                "message": message,
                "release": "web-7",
                "environment": "prod",
                "stack": "TypeError: x\n    at render (http://127.0.0.1:3000/static/app.js:10:5)\n"
                "    at commit (http://127.0.0.1:3000/node_modules/react-dom/index.js:1:1)",
                "trace_id": trace_id,
                "breadcrumbs": [
                    {"type": "pageview", "ts": now_ms - 9000, "path": "/chat"},
                    {"type": "click", "ts": now_ms - 5000, "selector": selector},
                    {
                        "type": "console",
                        "ts": now_ms - 3000,
                        "level": "warn",
                        "message": "slow response",
                    },
                ],
            },
        ]
    }


def seed_browser(
    url: str,
    *,
    message: str,
    selector: str,
    session: str = SESSION,
    request_id: str = "req-browser-1",
    trace_id: str = TRACE,
) -> None:
    """POST one snippet batch to the running collector over real HTTP."""
    batch = browser_batch(
        time.time() * 1000,
        message=message,
        selector=selector,
        session=session,
        request_id=request_id,
        trace_id=trace_id,
    )
    response = httpx.post(
        f"{url}/iw/ingest?key={KEY}",
        json=batch,
        headers={"Content-Type": "text/plain", "Origin": "http://127.0.0.1:3000"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["invalid"] == 0, response.text
