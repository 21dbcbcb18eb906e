"""A small AI app for the reliability tests: a watched model whose failures the app handles."""

from __future__ import annotations

import asyncio
from typing import Any

import inferwatch
from fastapi import FastAPI

from tests.conftest import asgi_client


def make_app(**init: Any) -> FastAPI:
    """`inferwatch.init(app, **init)` on an app whose every answer is 200, even when its model
    fails: the model's exception is captured and a fallback returned."""
    app = FastAPI()
    inferwatch.init(app, environ={}, **init)

    @inferwatch.watch_model("classifier")
    def classify(text: str) -> str:
        if "fail" in text:
            raise ValueError(f"cannot classify {text}")
        return "positive"

    @app.post("/predict")
    async def predict(payload: dict[str, Any]) -> dict[str, str]:
        try:
            return {"label": classify(payload["text"])}
        except ValueError as exc:
            inferwatch.capture_exception(exc)
            return {"label": "unknown"}

    return app


async def _send(app: FastAPI, texts: list[str]) -> list[int]:
    async with asgi_client(app) as client:
        answers = [await client.post("/predict", json={"text": t}) for t in texts]
    return [a.status_code for a in answers]


def call(app: FastAPI, texts: list[str]) -> list[int]:
    """POST each text to `/predict` in turn; the status codes."""
    return asyncio.run(_send(app, texts))


def failures(n: int, size: int = 0, start: int = 0) -> list[str]:
    """`n` inputs that make the model fail, each padded to about `size` characters."""
    return [f"fail {i} " + "x" * size for i in range(start, start + n)]


def accounted(stats: dict[str, Any]) -> bool:
    """Every row the store accepted was either stored or dropped for a counted reason."""
    lost_after_accepting = {k: v for k, v in stats["dropped"].items() if k != "queue_full"}
    return bool(stats["accepted"] == stats["stored"] + sum(lost_after_accepting.values()))
