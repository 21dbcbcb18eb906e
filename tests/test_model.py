"""`watch_model` and `model_context`: what the model received, did and returned."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from tests.conftest import Events, LiveServer, asgi_client, rows

SECRET_INPUT = "please classify: bob@example.com says sk-proj-abcdefghijklmnopqrstuvwx is broken"


@pytest.fixture
def iw(store_path: Path) -> Path:
    inferwatch.init(store=store_path, environ={})
    return store_path


def generations(store_path: Path) -> list[dict[str, Any]]:
    inferwatch.flush(5)
    return rows(store_path, "SELECT * FROM generations ORDER BY id")


def make_app() -> FastAPI:
    app = FastAPI()

    @inferwatch.watch_model("sentiment", version="3")
    def classify(text: str) -> str:
        if "broken" in text:
            raise ValueError(f"cannot classify input of {len(text)} chars")
        return "positive"

    @app.post("/predict")
    async def predict(body: dict[str, str]) -> dict[str, str]:
        return {"label": classify(body["text"])}

    return app


async def test_a_failing_model_call_in_a_request_is_stored_with_its_redacted_model_context(
    iw: Path, stored_events: Events
) -> None:
    app = make_app()
    inferwatch.init(app, store=iw, environ={})
    async with asgi_client(app) as client:
        ok = await client.post("/predict", json={"text": "lovely"})
        failed = await client.post("/predict", json={"text": SECRET_INPUT})
    assert ok.status_code == 200 and failed.status_code == 500
    [event] = stored_events()
    model = event["contexts"]["model"]
    assert (model["name"], model["version"], model["status"]) == ("sentiment", "3", "error")
    assert model["input"]["type"] == "text" and model["input"]["length"] == len(SECRET_INPUT)
    assert model["input"]["preview"] == "please classify: [email] says [api_key] is broken"
    assert model["error"] == {"type": "ValueError", "message": "cannot classify input of 80 chars"}
    assert event["tags"]["request_id"] == model["request_id"]
    assert event["tags"]["model"] == "sentiment"
    assert event["transaction"] == "/predict"
    text = str(event)
    assert "bob@example.com" not in text and "sk-proj-" not in text


def test_sync_function_records_a_generation_and_returns_its_value(iw: Path) -> None:
    @inferwatch.watch_model("echo")
    def echo(text: str) -> str:
        return text.upper()

    assert echo("hi") == "HI"
    [gen] = generations(iw)
    assert (gen["model"], gen["status"], gen["source"]) == ("echo", "ok", "backend")
    assert gen["duration_ms"] >= 0 and gen["first_chunk_ms"] is None


async def test_async_function_is_watched(iw: Path, stored_events: Events) -> None:
    @inferwatch.watch_model("async-model")
    async def run(prompt: str, *, temperature: float) -> str:
        await asyncio.sleep(0)
        if temperature > 1:
            raise ValueError("temperature too high")
        return prompt

    assert await run("a", temperature=0.5) == "a"
    try:
        await run("b", temperature=2.0)
    except ValueError as exc:
        inferwatch.capture_exception(exc)
    assert [g["status"] for g in generations(iw)] == ["ok", "error"]
    model = stored_events()[0]["contexts"]["model"]
    assert model["input"]["type"] == "arguments"
    assert model["input"]["arguments"]["temperature"] == {"type": "float", "value": 2.0}
    assert model["input"]["arguments"]["prompt"]["preview"] == "b"


def test_a_method_records_its_arguments_without_self_and_a_bad_call_what_it_was_given(
    iw: Path, stored_events: Events
) -> None:
    # Arguments are matched to the parameters only when a failure reads them.
    class Ranker:
        @inferwatch.watch_model("ranker")
        def rank(self, query: str) -> list[str]:
            raise LookupError("index not loaded")

    for call in (lambda: Ranker().rank("shoes"), lambda: Ranker().rank("a", "b", k=3)):
        try:
            call()
        except (LookupError, TypeError) as exc:
            inferwatch.capture_exception(exc)
    fit, misfit = (e["contexts"]["model"]["input"] for e in stored_events())
    assert fit["preview"] == "shoes"
    assert misfit["type"] == "mapping" and misfit["preview"]["kwargs"] == {"k": 3}
    assert misfit["preview"]["args"][1:] == ["a", "b"]


def test_sync_generator_records_first_chunk_and_output(iw: Path) -> None:
    @inferwatch.watch_model("stream")
    def tokens(prompt: str) -> Iterator[str]:
        yield ""
        yield "Hello"
        yield " world"

    assert "".join(tokens("x")) == "Hello world"
    [gen] = generations(iw)
    assert gen["status"] == "ok" and gen["first_chunk_ms"] is not None


async def test_async_generator_error_mid_stream_carries_what_was_streamed(
    iw: Path, stored_events: Events
) -> None:
    @inferwatch.watch_model("astream")
    async def tokens(prompt: str) -> AsyncIterator[str]:
        yield "partial"
        raise RuntimeError("model crashed mid-stream")

    seen: list[str] = []
    with pytest.raises(RuntimeError) as info:
        async for chunk in tokens("x"):
            seen.append(chunk)
    inferwatch.capture_exception(info.value)
    assert seen == ["partial"]
    [gen] = generations(iw)
    assert (gen["status"], gen["error_type"]) == ("error", "RuntimeError")
    assert gen["first_chunk_ms"] is not None
    assert stored_events()[0]["contexts"]["model"]["first_chunk_ms"] is not None


def test_a_generator_closed_early_is_recorded_as_cancelled_not_an_error(iw: Path) -> None:
    @inferwatch.watch_model("stream")
    def tokens() -> Iterator[str]:
        yield "a"
        yield "b"

    gen = tokens()
    next(gen)
    gen.close()
    assert [g["status"] for g in generations(iw)] == ["cancelled"]


def test_model_context_attaches_the_record_to_the_captured_exception(
    iw: Path, stored_events: Events
) -> None:
    try:
        with inferwatch.model_context("ranker", input={"query": "x", "api_key": "k-123"}) as call:
            call.note("tokenize", tokens=3, comment="mail me at a@b.io")
            call.set_usage(input_tokens=3, output_tokens=0)
            call.set_output([])
            raise KeyError("missing index")
    except KeyError as exc:
        inferwatch.capture_exception(exc)
    model = stored_events()[0]["contexts"]["model"]
    assert model["usage"] == {"input_tokens": 3, "output_tokens": 0}
    assert model["notes"][0]["stage"] == "tokenize" and model["notes"][0]["tokens"] == 3
    assert model["notes"][0]["comment"] == "mail me at [email]"
    assert model["input"]["preview"] == {"query": "x", "api_key": "[Filtered]"}
    assert model["output"] == {"type": "sequence", "length": 0, "preview": []}
    [gen] = generations(iw)
    assert (gen["input_tokens"], gen["output_tokens"]) == (3, 0)


def test_success_records_are_sampled_but_errors_never(iw: Path) -> None:
    @inferwatch.watch_model("sampled", sample_rate=0.0)
    def run(fail: bool) -> int:
        if fail:
            raise ValueError("x")
        return 1

    for _ in range(20):
        run(False)
    with pytest.raises(ValueError):
        run(True)
    assert [g["status"] for g in generations(iw)] == ["error"]


def test_the_three_questions_are_logged_with_the_request_id(
    iw: Path, caplog: pytest.LogCaptureFixture
) -> None:
    @inferwatch.watch_model("clf")
    def run(text: str) -> str:
        with inferwatch.model_context("inner") as call:
            call.note("normalise", length=len(text))
        return "ok"

    with caplog.at_level(logging.INFO, logger="inferwatch"):
        run("hello bob@example.com")
    steps = [(r.__dict__.get("model"), r.__dict__.get("step")) for r in caplog.records]
    assert ("clf", "received") in steps and ("inner", "processed") in steps
    assert ("clf", "returned") in steps
    received = next(r for r in caplog.records if r.__dict__.get("step") == "received")
    assert received.__dict__["input"]["preview"] == "hello [email]"


def test_the_context_budget_cuts_big_inputs_and_says_so(
    store_path: Path, stored_events: Events
) -> None:
    inferwatch.init(store=store_path, environ={}, max_context_bytes=5_000)
    chat = [{"role": "user", "content": f"message {i} " + "x" * 900} for i in range(40)]
    try:
        with inferwatch.model_context("chat", input=chat):
            raise ValueError("context too long")
    except ValueError as exc:
        inferwatch.capture_exception(exc)
    model = stored_events()[0]["contexts"]["model"]
    assert model["input"]["type"] == "chat" and model["input"]["messages"] == 40
    assert 0 < model["input"]["kept"] < 40
    assert "message 39" in str(model["input"]["preview"])  # the newest messages are kept
    assert model["truncated"]["original_bytes"] > 5_000
    assert len(json.dumps(model)) <= 5_000


def test_log_usage_stores_a_redacted_record(iw: Path) -> None:
    inferwatch.log_usage(
        "/predict?user=bob@example.com", {"text": "hi from bob@example.com", "password": "hunter2"}
    )
    inferwatch.flush(5)
    [usage] = rows(iw, "SELECT endpoint, data FROM usage")
    assert usage["endpoint"] == "/predict?user=[email]"
    assert "bob@example.com" not in usage["data"] and "hunter2" not in usage["data"]
    assert "[email]" in usage["data"]


def test_a_streaming_response_still_streams_through_the_middleware(iw: Path) -> None:
    app = FastAPI()
    inferwatch.init(app, store=iw, environ={})
    first_chunk_seen = threading.Event()

    @inferwatch.watch_model("streamer")
    async def tokens() -> AsyncIterator[str]:
        yield "first\n"
        # Only a response that streams lets the client see the first chunk before this returns.
        seen = await asyncio.to_thread(first_chunk_seen.wait, 10)
        yield "second\n" if seen else "buffered\n"

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(tokens(), media_type="text/plain")

    with LiveServer(app) as server, httpx.stream("GET", server.url + "/stream") as response:
        lines = response.iter_lines()
        assert next(lines) == "first"
        first_chunk_seen.set()
        assert next(lines) == "second"
        assert response.headers["x-request-id"]
    [gen] = generations(iw)
    assert gen["status"] == "ok" and gen["request_id"] == response.headers["x-request-id"]


def test_a_sync_generator_streamed_by_starlette_keeps_streaming_and_is_recorded(iw: Path) -> None:
    app = FastAPI()
    inferwatch.init(app, store=iw, environ={})

    @inferwatch.watch_model("sync-streamer")
    def tokens() -> Iterator[str]:  # Starlette runs each step in a thread, in a copied context
        yield "a\n"
        yield "b\n"

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(tokens(), media_type="text/plain")

    with LiveServer(app) as server:
        response = httpx.get(server.url + "/stream")
    assert response.status_code == 200 and response.text == "a\nb\n"
    assert [g["status"] for g in generations(iw)] == ["ok"]


def test_a_generator_of_arrays_is_watched_without_comparing_them(iw: Path) -> None:
    import numpy as np

    @inferwatch.watch_model("embedder")
    def batches() -> Iterator[Any]:
        yield np.zeros(3)
        yield np.ones(3)

    assert len(list(batches())) == 2
    [gen] = generations(iw)
    assert gen["status"] == "ok" and gen["first_chunk_ms"] is not None
