"""The real `anthropic` client, instrumented by `init` alone: messages, sync and async, raw
streams and the `messages.stream()` helper, and the ways a provider call fails."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anthropic
import httpx
import inferwatch
import pytest
import respx
from inferwatch.integrations import AnthropicIntegration

from tests.conftest import Events, rows
from tests.integrations.conftest import ANTHROPIC_URL, sse

MESSAGES = ANTHROPIC_URL + "/v1/messages"
ASKED = [{"role": "user", "content": "Mail jane@example.org the code 4111 1111 1111 1111"}]


def message(text: str = "Done.", stop: str = "end_turn", **extra: Any) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-test-2026",
        "content": [{"type": "text", "text": text}, *extra.pop("blocks", [])],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 3},
    }


def events(*texts: str) -> httpx.Response:
    start = {
        **message(),
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": 12, "output_tokens": 1},
    }
    return sse(
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        *(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": t},
                },
            )
            for t in texts
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 7},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
        done=False,
    )


@pytest.fixture(autouse=True)
def _init(store_path: Path) -> None:
    inferwatch.init(store=store_path, environ={}, integrations=[AnthropicIntegration()])


def generations(store_path: Path) -> list[dict[str, Any]]:
    assert inferwatch.flush(5)
    return rows(store_path, "SELECT * FROM generations ORDER BY id")


def test_a_message_is_a_generation_and_its_context_is_redacted(
    anthropic_client: anthropic.Anthropic,
    api: respx.Router,
    stored_events: Events,
    store_path: Path,
) -> None:
    tool = {"type": "tool_use", "id": "tu_1", "name": "send_mail", "input": {}}
    api.post(MESSAGES).mock(return_value=httpx.Response(200, json=message(blocks=[tool])))

    @inferwatch.watch_model("mailer")
    def mail(request: str) -> None:
        reply = anthropic_client.messages.create(
            model="claude-test", max_tokens=100, system="Be terse.", messages=ASKED
        )
        raise RuntimeError(f"no mail sent: {reply.stop_reason}")

    with pytest.raises(RuntimeError) as raised:
        mail("go")
    inferwatch.capture_exception(raised.value)
    [event] = stored_events()
    [call] = event["contexts"]["model"]["calls"]
    assert call["provider"] == "anthropic" and call["status"] == "ok"
    assert call["parameters"] == {"operation": "chat", "max_tokens": 100}
    assert [m["role"] for m in call["input"]["preview"]] == ["system", "user"]
    assert call["input"]["preview"][1]["content"] == "Mail [email] the code [card]"
    assert call["output"]["preview"] == {
        "text": "Done.",
        "stop_reason": "end_turn",
        "tool_calls": ["send_mail"],
    }
    [row, _] = generations(store_path)
    assert (row["model"], row["input_tokens"], row["output_tokens"]) == ("claude-test", 12, 3)


def test_a_raw_stream_and_the_stream_helper_record_first_chunk_text_and_usage(
    anthropic_client: anthropic.Anthropic, api: respx.Router, store_path: Path
) -> None:
    api.post(MESSAGES).mock(side_effect=[events("Hel", "lo"), events("Wor", "ld")])
    raw = anthropic_client.messages.create(
        model="claude-test-small", max_tokens=50, messages=ASKED, stream=True
    )
    assert sum(1 for _ in raw) == 7
    with anthropic_client.messages.stream(
        model="claude-test-small", max_tokens=50, messages=ASKED
    ) as stream:
        assert "".join(stream.text_stream) == "World"
    for row in generations(store_path):
        assert row["status"] == "ok" and row["first_chunk_ms"] is not None, row
        assert (row["input_tokens"], row["output_tokens"]) == (12, 7)


def test_a_stream_left_unread_is_abandoned(
    anthropic_client: anthropic.Anthropic, api: respx.Router, store_path: Path
) -> None:
    api.post(MESSAGES).mock(return_value=events("one ", "two ", "three"))
    with anthropic_client.messages.stream(
        model="claude-test-small", max_tokens=50, messages=ASKED
    ) as stream:
        for _text in stream.text_stream:
            break
    [row] = generations(store_path)
    assert row["status"] == "abandoned" and row["error_type"] is None


def test_overloaded_and_rate_limited_calls_keep_their_status_code_and_request_id(
    anthropic_client: anthropic.Anthropic, api: respx.Router, stored_events: Events
) -> None:
    api.post(MESSAGES).mock(
        return_value=httpx.Response(
            429,
            headers={"request-id": "req_011", "retry-after": "7"},
            json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
        )
    )
    with pytest.raises(anthropic.RateLimitError) as raised:
        anthropic_client.messages.create(model="claude-test-small", max_tokens=5, messages=ASKED)
    inferwatch.capture_exception(raised.value)
    [event] = stored_events()
    error = event["contexts"]["model"]["error"]
    assert (error["status_code"], error["request_id"], error["retry_after"]) == (
        429,
        "req_011",
        "7",
    )


def test_a_refusal_is_filtered_and_async_calls_are_recorded(
    async_anthropic_client: anthropic.AsyncAnthropic, api: respx.Router, store_path: Path
) -> None:
    api.post(MESSAGES).mock(
        side_effect=[httpx.Response(200, json=message("", "refusal")), events("a", "b")]
    )

    async def run() -> str:
        await async_anthropic_client.messages.create(
            model="claude-test-large", max_tokens=5, messages=ASKED
        )
        async with async_anthropic_client.messages.stream(
            model="claude-test-large", max_tokens=5, messages=ASKED
        ) as stream:
            return "".join([t async for t in stream.text_stream])

    assert asyncio.run(run()) == "ab"
    assert [(r["status"], r["first_chunk_ms"] is not None) for r in generations(store_path)] == [
        ("filtered", False),
        ("ok", True),
    ]
