"""A review assistant that asks an LLM through the `openai` client, and the LLM it asks.

`POST /v1/chat/completions` is a small OpenAI-compatible server the example serves itself (the
sentiment model, answering in JSON), so the demo needs no key and no network; point
`EXAMPLE_LLM_URL` at vLLM, Ollama or LM Studio (`http://127.0.0.1:11434/v1`) and the same route
asks a real one. The assistant's route has no `watch_model`: inferwatch's OpenAI integration
records each call of the client.

Its failure mode is an LLM's classic: the answer is JSON, `max_tokens` is small, a long review's
answer is cut mid-JSON (`finish_reason: length`), and `json.loads` fails after the model
answered. The crash report shows the call: the messages, the cut answer, the finish reason.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2
import openai
from fastapi import FastAPI
from pydantic import BaseModel, Field

from . import models

LLM_MODEL = "review-assistant"
SYSTEM = "Answer with JSON only: the review's label, its score, and a one-line summary."


class ReviewIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    max_tokens: int = Field(default=40, ge=1, le=400)


def assistant_routes(app: FastAPI, sentiment: models.NaiveBayes, llm_url: str | None) -> None:
    """The local LLM (`/v1/chat/completions`) and the route that asks it (`/api/review`)."""
    _llm_routes(app, sentiment)
    # No URL: the client reaches this same app in-process, through its ASGI transport.
    http = None if llm_url else httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app))
    client = openai.AsyncOpenAI(
        base_url=llm_url or "http://example.local/v1", api_key="local", http_client=http
    )

    @app.post("/api/review")
    async def review(body: ReviewIn) -> dict[str, Any]:
        reply = await client.chat.completions.create(
            model=LLM_MODEL,
            messages=[
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": body.text},
            ],
            max_tokens=body.max_tokens,
            temperature=0,
        )
        # The bug: the answer is parsed without looking at `finish_reason` first.
        answer: dict[str, Any] = json.loads(reply.choices[0].message.content or "")
        return answer


def _llm_routes(app: FastAPI, sentiment: models.NaiveBayes) -> None:
    @app.post("/v1/chat/completions", include_in_schema=False)
    async def chat(body: dict[str, Any]) -> dict[str, Any]:
        text = " ".join(
            str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user"
        )
        label, score = sentiment.predict(text)
        answer = json.dumps({"label": label, "score": round(score, 3), "summary": text})
        words = answer.split(" ")
        limit = int(body.get("max_tokens") or 400)
        cut = len(words) > limit
        content = " ".join(words[:limit])
        return {
            "id": f"chatcmpl-local-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", LLM_MODEL)),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "length" if cut else "stop",
                    "message": {"role": "assistant", "content": content},
                }
            ],
            "usage": {
                "prompt_tokens": len(text.split()),
                "completion_tokens": min(len(words), limit),
                "total_tokens": len(text.split()) + min(len(words), limit),
            },
        }
