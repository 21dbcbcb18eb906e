"""The real `openai` client, instrumented by `init` alone: chat completions, the Responses API
and embeddings, sync and async, streaming, and the ways a provider call fails."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import openai
import pytest
import respx
from inferwatch.integrations import OpenAIIntegration

from tests.conftest import Events, rows
from tests.integrations.conftest import OPENAI_URL, sse

CHAT = OPENAI_URL + "/chat/completions"
SECRET_MESSAGES = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "I am bob@example.com, my key is sk-proj-abcdefghij0123456789xyz"},
]


def completion(text: str = "Paris.", finish: str = "stop", **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-42",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                "message": {"role": "assistant", "content": text, **extra},
            }
        ],
        "usage": {"prompt_tokens": 21, "completion_tokens": 2, "total_tokens": 23},
    }


def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    delta = {"content": content} if content is not None else {}
    return {
        "id": "chatcmpl-7",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


STREAM = [
    chunk("The "),
    chunk("answer "),
    chunk("is 42."),
    chunk(finish="stop"),
    {**chunk(), "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}},
]


@pytest.fixture(autouse=True)
def _init(store_path: Path) -> None:
    inferwatch.init(store=store_path, environ={}, integrations=[OpenAIIntegration()])


def generations(store_path: Path) -> list[dict[str, Any]]:
    assert inferwatch.flush(5)
    return rows(store_path, "SELECT * FROM generations ORDER BY id")


def test_a_chat_completion_is_a_generation_with_its_model_and_token_usage(
    openai_client: openai.OpenAI, api: respx.Router, store_path: Path
) -> None:
    api.post(CHAT).mock(return_value=httpx.Response(200, json=completion()))
    answer = openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=SECRET_MESSAGES, temperature=0.1
    )
    assert answer.choices[0].message.content == "Paris."  # what the app gets is untouched
    [row] = generations(store_path)
    assert row["model"] == "gpt-4o-mini" and row["status"] == "ok"
    assert (row["input_tokens"], row["output_tokens"]) == (21, 2)
    assert row["source"] == "backend" and row["duration_ms"] > 0


def test_a_failure_after_the_answer_carries_the_call_redacted(
    openai_client: openai.OpenAI, api: respx.Router, stored_events: Events, store_path: Path
) -> None:
    api.post(CHAT).mock(return_value=httpx.Response(200, json=completion("not json")))
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]

    @inferwatch.watch_model("answerer")
    def answer(question: str) -> Any:
        reply = openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=SECRET_MESSAGES, tools=tools, max_tokens=50
        )
        return json.loads(reply.choices[0].message.content or "")

    with pytest.raises(json.JSONDecodeError) as raised:
        answer("capital of France?")
    inferwatch.capture_exception(raised.value)
    [event] = stored_events()
    outer = event["contexts"]["model"]
    assert outer["name"] == "answerer" and outer["status"] == "error"
    [call] = outer["calls"]  # the client call nests under the watched function
    assert call["provider"] == "openai" and call["status"] == "ok"
    assert call["parameters"] == {"operation": "chat", "max_tokens": 50, "tools": ["lookup"]}
    assert call["response"] == {"model": "gpt-4o-mini-2024-07-18", "id": "chatcmpl-42"}
    assert call["input"]["preview"][-1]["content"] == "I am [email], my key is [api_key]"
    assert call["output"]["preview"] == {"text": "not json", "finish_reason": "stop"}
    assert call["usage"] == {"input_tokens": 21, "output_tokens": 2}
    stored = b"".join(p.read_bytes() for p in store_path.parent.iterdir() if p.is_file())
    assert b"bob@example.com" not in stored and b"abcdefghij0123456789" not in stored


def test_a_stream_read_to_the_end_records_its_first_chunk_text_and_usage(
    openai_client: openai.OpenAI, api: respx.Router, store_path: Path
) -> None:
    api.post(CHAT).mock(return_value=sse(*STREAM))
    stream = openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=SECRET_MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    assert isinstance(stream, openai.Stream)  # the client's own type, still
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "The answer is 42."
    [row] = generations(store_path)
    assert row["status"] == "ok" and row["first_chunk_ms"] is not None
    assert row["first_chunk_ms"] <= row["duration_ms"]
    assert (row["input_tokens"], row["output_tokens"]) == (9, 4)


def test_a_stream_the_caller_leaves_is_abandoned_with_the_chunks_seen(
    openai_client: openai.OpenAI, api: respx.Router, stored_events: Events, store_path: Path
) -> None:
    api.post(CHAT).mock(return_value=sse(*STREAM))
    with inferwatch.model_context("chat-route") as outer:
        stream = openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=SECRET_MESSAGES, stream=True
        )
        for piece in stream:
            if piece.choices and piece.choices[0].delta.content == "answer ":
                break
        stream.close()
    [row] = [r for r in generations(store_path) if r["model"] == "gpt-4o-mini"]
    assert row["status"] == "abandoned" and row["error_type"] is None
    [call] = outer.record("ok")["calls"]
    assert call["status"] == "abandoned" and call["output"]["chunks"] == 2
    assert call["output"]["preview"]["text"] == "The answer "
    assert stored_events() == []  # abandoned is not an error


def test_the_stream_helper_is_recorded_through_create(
    openai_client: openai.OpenAI, api: respx.Router, store_path: Path
) -> None:
    api.post(CHAT).mock(return_value=sse(*STREAM))
    with openai_client.chat.completions.stream(
        model="gpt-4o-mini", messages=SECRET_MESSAGES
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "The answer is 42."
    [row] = generations(store_path)
    assert row["status"] == "ok" and row["first_chunk_ms"] is not None


def test_a_rate_limit_is_an_error_with_its_status_request_id_and_retry_after(
    openai_client: openai.OpenAI, api: respx.Router, stored_events: Events, store_path: Path
) -> None:
    api.post(CHAT).mock(
        return_value=httpx.Response(
            429,
            headers={"x-request-id": "req_abc123", "retry-after": "20"},
            json={"error": {"message": "Rate limit reached", "type": "requests"}},
        )
    )
    with pytest.raises(openai.RateLimitError) as raised:
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=SECRET_MESSAGES)
    inferwatch.capture_exception(raised.value)
    [event] = stored_events()
    model = event["contexts"]["model"]
    assert model["name"] == "gpt-4o-mini" and model["provider"] == "openai"
    assert model["error"]["type"] == "RateLimitError"
    assert (model["error"]["status_code"], model["error"]["request_id"]) == (429, "req_abc123")
    assert model["error"]["retry_after"] == "20"
    [row] = generations(store_path)
    assert row["status"] == "error" and row["error_type"] == "RateLimitError"


@pytest.mark.parametrize(
    ("route", "error"),
    [
        ({"side_effect": httpx.ReadTimeout("slow")}, openai.APITimeoutError),
        (
            {"return_value": httpx.Response(400, json={"error": {"message": "bad"}})},
            openai.BadRequestError,
        ),
        ({"side_effect": httpx.ConnectError("refused")}, openai.APIConnectionError),
    ],
    ids=["timeout", "bad request", "connection"],
)
def test_timeouts_bad_requests_and_connection_errors_are_recorded_as_errors(
    openai_client: openai.OpenAI,
    api: respx.Router,
    store_path: Path,
    route: dict[str, Any],
    error: type[Exception],
) -> None:
    api.post(CHAT).mock(**route)
    with pytest.raises(error):
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=SECRET_MESSAGES)
    [row] = generations(store_path)
    assert row["status"] == "error" and row["error_type"] == error.__name__


def test_a_content_filter_finish_is_recorded_as_filtered(
    openai_client: openai.OpenAI, api: respx.Router, store_path: Path
) -> None:
    api.post(CHAT).mock(return_value=httpx.Response(200, json=completion("", "content_filter")))
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=SECRET_MESSAGES)
    [row] = generations(store_path)
    assert row["status"] == "filtered"


def test_async_calls_and_async_streams_are_recorded(
    async_openai_client: openai.AsyncOpenAI, api: respx.Router, store_path: Path
) -> None:
    api.post(CHAT).mock(side_effect=[httpx.Response(200, json=completion()), sse(*STREAM)])

    async def run() -> str:
        await async_openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=SECRET_MESSAGES
        )
        stream = await async_openai_client.chat.completions.create(
            model="gpt-4o", messages=SECRET_MESSAGES, stream=True
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(run()) == "The answer is 42."
    rows_ = generations(store_path)
    assert [(r["model"], r["status"]) for r in rows_] == [("gpt-4o-mini", "ok"), ("gpt-4o", "ok")]
    assert rows_[1]["first_chunk_ms"] is not None


def test_the_responses_api_and_embeddings_are_recorded(
    openai_client: openai.OpenAI, api: respx.Router, store_path: Path
) -> None:
    api.post(OPENAI_URL + "/responses").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "resp_1",
                "object": "response",
                "created_at": 1,
                "model": "gpt-4.1-2025",
                "status": "completed",
                "output": [
                    {
                        "type": "message",
                        "id": "msg_1",
                        "role": "assistant",
                        "status": "completed",
                        "content": [{"type": "output_text", "text": "Hi!", "annotations": []}],
                    }
                ],
                "parallel_tool_calls": True,
                "tool_choice": "auto",
                "tools": [],
                "usage": {
                    "input_tokens": 5,
                    "output_tokens": 2,
                    "total_tokens": 7,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens_details": {"reasoning_tokens": 0},
                },
            },
        )
    )
    api.post(OPENAI_URL + "/embeddings").mock(
        return_value=httpx.Response(
            200,
            json={
                "object": "list",
                "model": "text-embedding-3-small",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
                "usage": {"prompt_tokens": 4, "total_tokens": 4},
            },
        )
    )
    assert openai_client.responses.create(model="gpt-4.1", input="hello").output_text == "Hi!"
    openai_client.embeddings.create(model="text-embedding-3-small", input=["a cat"])
    rows_ = generations(store_path)
    assert [(r["model"], r["input_tokens"], r["output_tokens"]) for r in rows_] == [
        ("gpt-4.1", 5, 2),
        ("text-embedding-3-small", 4, None),
    ]


def test_images_in_a_message_are_described_not_kept(
    openai_client: openai.OpenAI, api: respx.Router, stored_events: Events
) -> None:
    import base64
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGBA", (8, 6)).save(png, "PNG")
    url = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    api.post(CHAT).mock(return_value=httpx.Response(500, json={"error": {"message": "down"}}))
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": url}},
        ],
    }
    with pytest.raises(openai.InternalServerError) as raised:
        openai_client.chat.completions.create(model="gpt-4o", messages=[message])
    inferwatch.capture_exception(raised.value)
    [event] = stored_events()
    [part_text, image] = event["contexts"]["model"]["input"]["preview"][0]["content"]
    assert part_text["text"] == "what is this?"
    assert image["type"] == "image" and image["mime"] == "image/png"
    assert image["image"] == {
        "format": "PNG",
        "width": 8,
        "height": 6,
        "mode": "RGBA",
        "verified": True,
    }
    assert base64.b64encode(png.getvalue()).decode()[:40] not in json.dumps(event)


def test_integrations_off_record_nothing(
    openai_client: openai.OpenAI, api: respx.Router, store_path: Path
) -> None:
    inferwatch.init(store=store_path, environ={}, integrations=[])
    api.post(CHAT).mock(return_value=httpx.Response(200, json=completion()))
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=SECRET_MESSAGES)
    assert generations(store_path) == []


def test_a_responses_stream_records_its_text_usage_and_first_chunk(
    openai_client: openai.OpenAI, api: respx.Router, store_path: Path
) -> None:
    final = {
        "id": "resp_2",
        "object": "response",
        "created_at": 1,
        "model": "gpt-4.1-2025",
        "status": "completed",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 8,
            "output_tokens": 5,
            "total_tokens": 13,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }
    delta = {"item_id": "msg_1", "output_index": 0, "content_index": 0, "logprobs": []}
    api.post(OPENAI_URL + "/responses").mock(
        return_value=sse(
            *(
                {"type": "response.output_text.delta", "delta": d, "sequence_number": i, **delta}
                for i, d in enumerate(["Hel", "lo"])
            ),
            {"type": "response.completed", "response": final, "sequence_number": 2},
            done=False,
        )
    )
    stream = openai_client.responses.create(model="gpt-4.1", input="hi", stream=True)
    assert [e.type for e in stream][-1] == "response.completed"
    [row] = generations(store_path)
    assert row["status"] == "ok" and row["first_chunk_ms"] is not None
    assert (row["input_tokens"], row["output_tokens"]) == (8, 5)
