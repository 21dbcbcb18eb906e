"""A FastAPI route that calls the OpenAI client and then fails on the model's answer: the crash
report carries the call, what it received and returned, joined to the request by its id."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import openai
import respx
from fastapi import FastAPI

from tests.conftest import Events, asgi_client, rows
from tests.integrations.conftest import OPENAI_URL, http_client
from tests.integrations.test_openai import completion


def app_with_client(router: respx.Router) -> FastAPI:
    app = FastAPI()
    client = openai.AsyncOpenAI(
        api_key="sk-test",
        base_url=OPENAI_URL,
        http_client=http_client("openai", router, is_async=True),
        max_retries=0,
    )

    @app.post("/extract")
    async def extract(body: dict[str, Any]) -> dict[str, Any]:
        reply = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"Extract the fields of: {body['text']}"}],
            response_format={"type": "json_object"},
        )
        return dict(json.loads(reply.choices[0].message.content or ""))  # the model's JSON

    return app


def test_a_crash_after_the_answer_carries_the_model_call_and_the_request_id(
    api: respx.Router, store_path: Path, stored_events: Events
) -> None:
    api.post(OPENAI_URL + "/chat/completions").mock(
        return_value=httpx.Response(200, json=completion('{"name": "Ann", "email": ')),
    )
    app = app_with_client(api)
    inferwatch.init(app, store=store_path, environ={})  # the integration is on by default

    async def post() -> httpx.Response:
        async with asgi_client(app) as client:
            return await client.post(
                "/extract", json={"text": "Ann, ann@example.com"}, headers={"X-Request-ID": "r-77"}
            )

    response = asyncio.run(post())
    assert response.status_code == 500 and response.headers["x-request-id"] == "r-77"
    [event] = stored_events()
    assert event["exception"]["values"][-1]["type"] == "JSONDecodeError"
    model = event["contexts"]["model"]
    assert model["name"] == "gpt-4o-mini" and model["status"] == "ok"
    assert model["request_id"] == "r-77" and event["tags"]["request_id"] == "r-77"
    assert model["input"]["preview"][0]["content"] == "Extract the fields of: Ann, [email]"
    assert model["output"]["preview"]["text"] == '{"name": "Ann", "email": '
    [generation] = rows(store_path, "SELECT model, status, request_id FROM generations")
    assert generation == {"model": "gpt-4o-mini", "status": "ok", "request_id": "r-77"}
