"""Nothing leaks: secrets put wherever an AI app meets them never reach the store file, Sentry
or the dashboard's HTML."""

from __future__ import annotations

import asyncio
import gzip
import logging
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import httpx
import inferwatch
import pytest
import respx
from fastapi import FastAPI, Request
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.dashboard import Access, dashboard_router
from inferwatch.store import Store, open_readonly

from tests.conftest import asgi_client
from tests.reliability.conftest import (
    AUTH,
    ENVELOPE_URL,
    INGEST_URL,
    KEY,
    batch,
    browser_error,
    envelope,
    now_ms,
    sentry_event,
)

DSN = "https://abc123def456@o1.ingest.example.com/42"
SENTRY = "https://o1.ingest.example.com/api/42/envelope/"

# Secrets found by what they look like, wherever they are.
EMAIL = "alice.smith@example.com"
OPENAI = "sk-proj-abcDEF1234567890ghijKLMNOP"
ANTHROPIC = "sk-ant-api03-AbCdEf0123456789GhIjKl"
AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
GOOGLE = "AIzaSyA1234567890abcdefghijklmnopqrstuv"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
CARDS = ["4111 1111 1111 1111", "4242424242424242", "5555-5555-5555-4444"]
BEARER_TOKEN = "tok_9f8e7d6c5b4a3f2e1d0c"
PATTERNED = [EMAIL, OPENAI, ANTHROPIC, AWS, GITHUB, GOOGLE, JWT, *CARDS]

# Secrets that look like nothing: only the name they are kept under gives them away.
KEY_NAMES = [
    "password",
    "Password",
    "passwd",
    "pwd",
    "user_password",
    "secret",
    "client_secret",
    "api_key",
    "apiKey",
    "X-Api-Key",
    "access_token",
    "refreshToken",
    "auth",
    "authorization",
    "private_key",
    "credentials",
    "session_token",
    "csrf_token",
    "cookie",
    "Set-Cookie",
    "ssn",
    "cvv",
]
BY_NAME = {
    name: f"plainvalue{i}x{name.lower().replace('-', '')}q" for i, name in enumerate(KEY_NAMES)
}
COOKIE_VALUE = "c00kievalue7f3a9"
ALL_SECRETS = [*PATTERNED, *BY_NAME.values(), BEARER_TOKEN, COOKIE_VALUE]


def prose() -> str:
    """A sentence a user might paste, carrying every secret that can be recognised."""
    return (
        f"I am {EMAIL}; my key is {OPENAI} (old {ANTHROPIC}), aws {AWS}, gh {GITHUB}, "
        f"maps {GOOGLE}, session {JWT}, cards {', '.join(CARDS)}"
    )


def leaks(data: bytes) -> list[str]:
    return [s for s in ALL_SECRETS if s.encode() in data]


def store_bytes(folder: Path) -> bytes:
    """Every byte of every file beside the store (the database, its WAL, the outbox)."""
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


def decoded(request: httpx.Request) -> bytes:
    body, encoding = request.content, request.headers.get("content-encoding", "")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


def secret_headers() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {BEARER_TOKEN}",
        "Cookie": f"sessionid={COOKIE_VALUE}; theme=dark",
        "X-Api-Key": BY_NAME["X-Api-Key"],
        "X-Forwarded-For": "10.0.0.1",
        "X-Note": prose(),
    }


def secret_query() -> dict[str, str]:
    return {"token": BY_NAME["session_token"], "password": BY_NAME["password"], "q": prose()}


def model_input() -> dict[str, Any]:
    return {
        "prompt": prose(),
        **BY_NAME,
        "nested": {"deeper": [{"credentials": {"user": "bob", "password": BY_NAME["password"]}}]},
        "messages": [{"role": "user", "content": prose()}],
        "by_user": {EMAIL: "a secret as a mapping key"},
    }


def backend_app() -> FastAPI:
    app = FastAPI()

    @inferwatch.watch_model("chat")
    def chat(payload: dict[str, Any]) -> str:
        password = payload["password"]  # a local variable holding a secret
        logging.getLogger("app").warning("calling upstream for %s with %s", EMAIL, OPENAI)
        raise RuntimeError(f"upstream refused {OPENAI} for {EMAIL} ({len(password)}) {JWT}")

    def with_attachments(payload: dict[str, Any]) -> dict[str, Any]:
        """What a model gets beside JSON: bytes, which redaction cannot read."""
        return {**payload, "files": [prose().encode(), {"raw": BY_NAME["private_key"].encode()}]}

    @app.post("/chat")
    async def handled(request: Request) -> dict[str, str]:
        payload = with_attachments(await request.json())
        inferwatch.log_usage("/chat", payload)
        try:
            return {"answer": chat(payload)}
        except RuntimeError as exc:
            inferwatch.capture_exception(exc)
            return {"answer": "sorry"}

    @app.post("/chat-unhandled")
    async def unhandled(request: Request) -> dict[str, str]:
        payload = with_attachments(await request.json())
        with inferwatch.model_context("chat", input=payload) as call:
            call.set_output({"text": prose(), "token": BY_NAME["access_token"]})
            call.note("tokenize", user=EMAIL, api_key=BY_NAME["api_key"])
            raise ValueError(f"bad output for {EMAIL}: {prose()}")

    return app


@pytest.fixture
def sentry() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.post(SENTRY).mock(return_value=httpx.Response(200, json={}))
        yield router
        inferwatch.shutdown()  # send everything while the mock still answers


def test_secrets_in_model_inputs_outputs_headers_queries_and_errors_leak_nowhere(
    store_path: Path, sentry: respx.MockRouter
) -> None:
    app = backend_app()
    inferwatch.init(app, dsn=DSN, store=store_path, environ={}, generations_sample_rate=1.0)

    async def run() -> list[int]:
        async with asgi_client(app) as client:
            kwargs: dict[str, Any] = {
                "json": model_input(),
                "headers": secret_headers(),
                "params": secret_query(),
            }
            return [
                (await client.post("/chat", **kwargs)).status_code,
                (await client.post("/chat-unhandled", **kwargs)).status_code,
            ]

    assert asyncio.run(run()) == [200, 500]
    assert inferwatch.flush(10)
    inferwatch.shutdown()
    sent = [decoded(call.request) for call in sentry.calls]
    assert len(sent) == 2  # both failures reached Sentry, without a secret
    assert [leaks(body) for body in sent] == [[], []]
    assert leaks(store_bytes(store_path.parent)) == []
    with open_readonly(store_path) as conn:  # and the events are there, redacted, not dropped
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM usage").fetchone()[0] == 1


def browser_batch() -> bytes:
    page = f"http://127.0.0.1:5173/chat?token={BY_NAME['session_token']}&email={EMAIL}"
    crumbs = [
        {"type": "console", "ts": now_ms(), "level": "error", "message": prose()},
        {"type": "click", "ts": now_ms(), "selector": f'a[href="mailto:{EMAIL}"]'},
        {"type": "pageview", "ts": now_ms(), "path": f"/reset?password={BY_NAME['password']}"},
    ]
    return batch(
        browser_error(
            f"fetch failed with {JWT} for {EMAIL}",
            url=page,
            stack=f"Error: {OPENAI}\n    at send (http://127.0.0.1:5173/app.js?key={GOOGLE}:1:2)",
            breadcrumbs=crumbs,
            user={"email": EMAIL, "id": 7},
            componentStack=f"at Checkout card={CARDS[0]}",
        ),
        {"type": "console", "ts": now_ms(), "level": "warn", "message": prose(), "url": page},
        {
            "type": "click",
            "ts": now_ms(),
            "session": "s",
            "selector": f'button[aria-label="Pay with {CARDS[1]}"]',
        },
        {"type": "click", "ts": now_ms(), "selector": f'input[placeholder="{EMAIL}"]'},
        {"type": "pageview", "ts": now_ms(), "path": f"/u/{EMAIL}", "referrer": page},
        {
            "type": "generation",
            "ts": now_ms(),
            "name": "chat",
            "status": "error",
            "attrs": {"model": "m", "user": EMAIL, "api_key": BY_NAME["api_key"]},
        },
    )


def foreign_sdk_event() -> dict[str, Any]:
    """What another Sentry SDK (with send_default_pii) might send."""
    return sentry_event(
        f"login failed for {EMAIL} with {OPENAI}",
        request={
            "url": f"https://app.example/login?api_key={BY_NAME['api_key']}",
            "headers": secret_headers(),
            "cookies": {"sessionid": COOKIE_VALUE},
            "data": model_input(),
            "query_string": f"password={BY_NAME['password']}",
        },
        user={"email": EMAIL, "ip_address": "10.0.0.1"},
        extra=BY_NAME,
        breadcrumbs={
            "values": [{"message": prose(), "data": {"Authorization": f"Bearer {BEARER_TOKEN}"}}]
        },
        contexts={"model": {"input": model_input()}},
        tags={"email": EMAIL},
    )


async def test_secrets_from_browsers_and_other_sdks_leak_neither_to_the_store_nor_the_dashboard(
    store_path: Path,
) -> None:
    store = Store(store_path)
    collector = Collector(store, CollectorConfig(key=KEY))
    app = create_app(collector)
    app.include_router(dashboard_router(store_path, Access(token=None, loopback=True)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as client:
        ingest = await client.post(
            INGEST_URL, content=browser_batch(), headers={"content-type": "text/plain"}
        )
        assert ingest.json()["invalid"] == 0
        foreign = await client.post(
            ENVELOPE_URL, content=envelope(foreign_sdk_event()), headers=AUTH
        )
        assert foreign.status_code == 200
        assert store.flush(10)
        with open_readonly(store_path) as conn:
            issue_ids = [r[0] for r in conn.execute("SELECT id FROM issues")]
        assert len(issue_ids) == 2
        pages = ["/", "/?status=all", "/generations", "/usage"] + [
            f"/issues/{i}" for i in issue_ids
        ]
        html = b""
        for url in pages:
            response = await client.get(url, headers={"accept": "text/html"})
            assert response.status_code == 200, url
            html += response.content
    collector.close()
    store.close()
    assert leaks(store_bytes(store_path.parent)) == []
    assert leaks(html) == []
