"""An AI app for the span tests: a chat route whose model call can fail (handled or not), a
route that answers 503, a streaming route; and what reached a respx-mocked Sentry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import inferwatch
import pytest
import respx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from sentry_sdk.envelope import Envelope

from tests.conftest import asgi_client

DSN = "https://abc123def456@o1.ingest.example.com/42"
ENVELOPE_URL = "https://o1.ingest.example.com/api/42/envelope/"
MODEL = "gpt-4o-mini"


def make_app(**init: Any) -> FastAPI:
    """`inferwatch.init(app, **init)` on a chat app; `prompt` says what happens:
    `crash` raises in the handler, `busy` answers 503, `model-fails` fails the model call (the
    handler answers 200 anyway), anything else is answered."""
    app = FastAPI()
    inferwatch.init(app, **{"environ": {}, **init})

    @inferwatch.watch_model(MODEL, provider="openai")
    def tokens(prompt: str) -> Iterator[str]:
        yield from ("Hel", "lo")

    @app.post("/chat/{room}")
    async def chat(room: str, body: dict[str, Any]) -> Any:
        prompt = body["prompt"]
        if prompt == "crash":
            raise RuntimeError("the handler crashed")
        if prompt == "busy":
            return JSONResponse({"error": "busy"}, 503)
        messages = [{"role": "user", "content": prompt}]
        try:
            with inferwatch.model_context(MODEL, input=messages, provider="openai") as call:
                if "model-fails" in prompt:
                    raise ValueError("the model failed")
                call.set_usage(input_tokens=12, output_tokens=3)
                call.set_output({"text": "Hello from the model", "finish_reason": "stop"})
        except ValueError:
            return {"answer": None}
        return {"answer": "Hello from the model"}

    @app.get("/stream")
    async def stream(prompt: str) -> StreamingResponse:
        return StreamingResponse(tokens(prompt), media_type="text/plain")

    return app


def send(app: FastAPI, *requests: tuple[str, str, Any]) -> list[httpx.Response]:
    """Each `(method, path, json body or headers)` in turn, through the app in-process."""

    async def run() -> list[httpx.Response]:
        async with asgi_client(app) as client:
            out = []
            for method, path, extra in requests:
                if method == "POST":
                    out.append(await client.post(path, json=extra))
                else:
                    out.append(await client.get(path, headers=extra or {}))
            return out

    return asyncio.run(run())


def chat(prompt: str, room: str = "r1") -> tuple[str, str, Any]:
    return ("POST", f"/chat/{room}", {"prompt": prompt})


@dataclass
class Sent:
    """What reached Sentry: the events, the transactions and the span items, parsed."""

    envelopes: list[Envelope] = field(default_factory=list)

    def items(self, kind: str) -> list[tuple[Envelope, dict[str, Any]]]:
        out = []
        for envelope in self.envelopes:
            for item in envelope.items:
                if item.type == kind:
                    out.append((envelope, json.loads(item.get_bytes())))
        return out

    @property
    def events(self) -> list[dict[str, Any]]:
        return [payload for _, payload in self.items("event")]

    @property
    def transactions(self) -> list[dict[str, Any]]:
        return [payload for _, payload in self.items("transaction")]

    @property
    def spans(self) -> list[dict[str, Any]]:
        """gen_ai spans, which sentry-sdk sends as a span item beside the transaction."""
        return [span for _, payload in self.items("span") for span in payload["items"]]


@pytest.fixture
def sentry() -> Iterator[Sent]:
    """A respx-mocked Sentry; read it after `inferwatch.flush()`."""
    sent = Sent()

    def receive(request: httpx.Request) -> httpx.Response:
        sent.envelopes.append(Envelope.deserialize(request.content))
        return httpx.Response(200, json={})

    with respx.mock:
        respx.post(ENVELOPE_URL).mock(side_effect=receive)
        yield sent


def attribute(span: dict[str, Any], name: str) -> Any:
    """A v2 span attribute's value (`{"type": ..., "value": ...}`)."""
    found = span.get("attributes", {}).get(name)
    return found["value"] if isinstance(found, dict) else None
