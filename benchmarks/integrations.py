"""What the OpenAI integration adds to a call of the real client, in its own process.

    python benchmarks/integrations.py bare|inferwatch

The same `openai` client, answered by an in-memory transport (no network), with inferwatch's
OpenAI integration off (`bare`: `init(integrations=[])`) or on; per call of
`chat.completions.create`, in the calling thread.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx2
import openai
from _common import emit, per_call_us

N, REPEATS, WARMUP = 300, 9, 50
BODY = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "A short answer. " * 20},
            }
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": 60, "total_tokens": 110},
    }
).encode()
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Summarise this review: great film, long ending. " * 10},
]


def answer(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, content=BODY, headers={"content-type": "application/json"})


def main() -> None:
    import inferwatch
    from inferwatch.integrations import OpenAIIntegration

    config = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        chosen: list[Any] = [OpenAIIntegration()] if config == "inferwatch" else []
        inferwatch.init(store=Path(tmp) / "events.db", environ={}, integrations=chosen)
        client = openai.OpenAI(
            api_key="sk-bench",
            base_url="http://bench.local/v1",
            http_client=httpx2.Client(transport=httpx2.MockTransport(answer)),
        )

        def call() -> None:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

        per_call_us(call, WARMUP, 1)
        wall, cpu = per_call_us(call, N, REPEATS)
        inferwatch.shutdown()
    emit({"config": config, "wall_us": wall, "cpu_us": cpu})


if __name__ == "__main__":
    main()
