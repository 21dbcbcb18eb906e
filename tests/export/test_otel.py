"""Requests, model calls and error events as OpenTelemetry spans, and the GenAI client metrics,
received by a real OTLP/HTTP receiver on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
import respx
from inferwatch import ConfigError

from tests.export._otlp import Receiver
from tests.export.conftest import MODEL, chat, make_app, send
from tests.integrations.conftest import OPENAI_URL
from tests.integrations.test_fastapi_route import app_with_client
from tests.integrations.test_openai import completion

CALLER_TRACE, CALLER_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running
        inferwatch.shutdown()  # while the receiver still answers its last export


def by_trace(receiver: Receiver, trace_id: str) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in receiver.spans if s["trace_id"] == trace_id}


def test_a_request_and_its_model_call_arrive_as_spans_with_the_genai_attributes(
    receiver: Receiver,
) -> None:
    app = make_app(store=None, otlp_endpoint=receiver.url, service_name="chat-api")
    [answer] = send(app, chat("hello"))
    inferwatch.flush(5)
    trace_id = answer.headers["x-request-id"]
    receiver.wait_for(lambda: len(by_trace(receiver, trace_id)) == 2)
    spans = by_trace(receiver, trace_id)
    root, call = spans["POST /chat/{room}"], spans[f"chat {MODEL}"]
    assert root["kind"] == "server" and root["parent_span_id"] is None
    assert root["attributes"]["http.route"] == "/chat/{room}"
    assert root["attributes"]["http.response.status_code"] == 200
    assert root["resource"]["service.name"] == "chat-api"
    assert call["kind"] == "client" and call["parent_span_id"] == root["span_id"]
    assert call["attributes"] == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL,
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 3,
        "inferwatch.model.status": "ok",
    }
    assert root["start_ns"] <= call["start_ns"] <= call["end_ns"] <= root["end_ns"]


def test_the_metrics_follow_the_genai_conventions(receiver: Receiver) -> None:
    app = make_app(store=None, otlp_endpoint=receiver.url)
    send(app, chat("hello"), ("GET", "/stream?prompt=hi", None))
    inferwatch.flush(5)
    receiver.wait_for(lambda: "gen_ai.client.token.usage" in receiver.points)
    points = receiver.points
    durations = points["gen_ai.client.operation.duration"]
    assert {p["unit"] for p in durations} == {"s"}
    assert sum(p["count"] for p in durations) == 2
    assert durations[0]["bounds"][:3] == [0.01, 0.02, 0.04]
    [first_chunk] = points["gen_ai.client.operation.time_to_first_chunk"]  # the stream only
    assert first_chunk["count"] == 1
    usage = {
        p["attributes"]["gen_ai.token.type"]: p["sum"] for p in points["gen_ai.client.token.usage"]
    }
    assert usage == {"input": 12, "output": 3}


def test_at_rate_zero_only_the_failed_request_is_sent_with_its_exception(
    receiver: Receiver,
) -> None:
    app = make_app(store=None, otlp_endpoint=receiver.url, traces_sample_rate=0.0)
    answers = send(app, chat("hello"), ("GET", "/stream?prompt=hi", None), chat("crash"))
    inferwatch.flush(5)
    receiver.wait_for(lambda: any(s["status"] == "error" for s in receiver.spans))
    [root] = [s for s in receiver.spans if s["kind"] == "server"]
    assert root["trace_id"] == answers[2].headers["x-request-id"]
    assert root["status"] == "error"
    assert root["attributes"]["error.type"] == "RuntimeError"
    [exception] = root["events"]
    assert exception["name"] == "exception"
    assert exception["attributes"]["exception.type"] == "RuntimeError"
    assert exception["attributes"]["exception.message"] == "the handler crashed"
    assert "in chat" in exception["attributes"]["exception.stacktrace"]
    assert len(exception["attributes"]["inferwatch.event_id"]) == 32


def test_a_caller_trace_is_continued(receiver: Receiver) -> None:
    app = make_app(store=None, otlp_endpoint=receiver.url)
    headers = {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"}
    send(app, ("GET", "/stream?prompt=hi", headers))
    inferwatch.flush(5)
    receiver.wait_for(lambda: len(by_trace(receiver, CALLER_TRACE)) == 2)
    spans = by_trace(receiver, CALLER_TRACE)
    assert spans["GET /stream"]["parent_span_id"] == CALLER_SPAN
    call = spans[f"chat {MODEL}"]
    assert call["attributes"]["gen_ai.request.stream"] is True
    assert 0 <= call["attributes"]["gen_ai.response.time_to_first_chunk"] < 5


def test_a_failed_model_call_keeps_its_request_with_the_error_on_the_call(
    receiver: Receiver,
) -> None:
    app = make_app(store=None, otlp_endpoint=receiver.url, traces_sample_rate=0.0)
    [answer] = send(app, chat("model-fails for bob@example.com"))
    assert answer.status_code == 200
    inferwatch.flush(5)
    trace_id = answer.headers["x-request-id"]
    receiver.wait_for(lambda: len(by_trace(receiver, trace_id)) == 2)
    call = by_trace(receiver, trace_id)[f"chat {MODEL}"]
    assert call["status"] == "error"
    assert call["attributes"]["error.type"] == "ValueError"
    assert call["events"][0]["attributes"]["exception.message"] == "the model failed"


def test_message_content_follows_the_genai_capture_variable_redacted(receiver: Receiver) -> None:
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=team%20a,authorization=Bearer abc",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
    }
    app = make_app(store=None, environ=environ)
    [answer] = send(app, chat("mail bob@example.com"))
    inferwatch.flush(5)
    trace_id = answer.headers["x-request-id"]
    receiver.wait_for(lambda: len(by_trace(receiver, trace_id)) == 2)
    call = by_trace(receiver, trace_id)[f"chat {MODEL}"]
    received = json.loads(call["attributes"]["gen_ai.input.messages"])
    assert received == [{"role": "user", "parts": [{"type": "text", "content": "mail [email]"}]}]
    returned = json.loads(call["attributes"]["gen_ai.output.messages"])
    assert returned[0]["parts"][0]["content"] == "Hello from the model"
    assert returned[0]["finish_reason"] == "stop"
    assert receiver.headers[0]["x-tenant"] == "team a"
    assert receiver.headers[0]["authorization"] == "Bearer abc"


def test_without_the_capture_variable_no_content_is_sent(receiver: Receiver) -> None:
    app = make_app(store=None, otlp_endpoint=receiver.url)
    [answer] = send(app, chat("mail bob@example.com"))
    inferwatch.flush(5)
    receiver.wait_for(lambda: len(by_trace(receiver, answer.headers["x-request-id"])) == 2)
    assert "bob@example.com" not in json.dumps(receiver.spans)
    assert not any("gen_ai.input.messages" in s["attributes"] for s in receiver.spans)


def test_a_model_call_outside_any_request_is_a_trace_of_its_own(receiver: Receiver) -> None:
    inferwatch.init(store=None, environ={}, otlp_endpoint=receiver.url, traces_sample_rate=0.0)

    @inferwatch.watch_model("summarizer", operation="text_completion")
    def summarize(text: str) -> str:
        with inferwatch.model_context("embedder", operation="embeddings"):
            pass
        raise ValueError("nightly job failed")

    with pytest.raises(ValueError):
        summarize("report")
    with inferwatch.model_context("kept-out"):  # succeeded, at rate 0: not sent
        pass
    inferwatch.flush(5)
    receiver.wait_for(lambda: len(receiver.spans) == 2)
    spans = {s["name"]: s for s in receiver.spans}
    root, inner = spans["text_completion summarizer"], spans["embeddings embedder"]
    assert root["parent_span_id"] is None and root["kind"] == "internal"
    assert inner["parent_span_id"] == root["span_id"] and inner["trace_id"] == root["trace_id"]


def test_an_endpoint_given_without_the_opentelemetry_sdk_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "inferwatch.export._otel", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"inferwatch\[otel\]"):
        inferwatch.init(store=None, environ={}, otlp_endpoint="http://127.0.0.1:4318")
    inferwatch.init(store=None, environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert "OpenTelemetry SDK is not installed" in caplog.text


@pytest.mark.parametrize("endpoint", ["collector:4318", "ftp://collector", 4318])
def test_a_bad_endpoint_is_refused_naming_the_option(endpoint: object) -> None:
    with pytest.raises(ConfigError, match=r"'otlp_endpoint' must be an http\(s\) URL"):
        inferwatch.init(store=None, environ={}, otlp_endpoint=endpoint)


NOTHING_EXPORTED = """
import sys, asyncio
import httpx, inferwatch
from fastapi import FastAPI

app = FastAPI()
inferwatch.init(app, store=None)

@inferwatch.watch_model("m")
def model(text):
    return text

@app.get("/")
async def home():
    return {"a": model("x")}

async def main():
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/")).status_code == 200

def loaded():
    names = ("opentelemetry.sdk", "opentelemetry.exporter", "inferwatch.export._otel")
    return sorted({m.split(".")[1] for m in sys.modules if m.startswith(names)})

asyncio.run(main())
inferwatch.flush(2)
print(loaded())
inferwatch.init(app, store=None, otlp_endpoint=sys.argv[1])  # and with one, to be sure
asyncio.run(main())
inferwatch.shutdown()
print(loaded())
"""


def test_without_an_endpoint_nothing_is_exported_and_no_opentelemetry_sdk_is_loaded(
    receiver: Receiver, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SENTRY_"))}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(NOTHING_EXPORTED), receiver.url],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    without, with_endpoint = done.stdout.strip().splitlines()
    assert without == "[]"
    assert with_endpoint == "['export', 'exporter', 'sdk']"  # inferwatch.export._otel, and OTel's
    assert len(receiver.spans) == 2  # only what was sent once the endpoint was given


def test_an_openai_call_in_a_route_is_a_span_with_what_the_client_said(
    receiver: Receiver,
) -> None:
    with respx.mock(assert_all_called=False) as api:
        api.post(OPENAI_URL + "/chat/completions").mock(
            return_value=httpx.Response(200, json=completion('{"name": "Ann"}'))
        )
        app = app_with_client(api)
        inferwatch.init(app, store=None, environ={}, otlp_endpoint=receiver.url)
        [answer] = send(app, ("POST", "/extract", {"text": "Ann"}))
    assert answer.status_code == 200
    inferwatch.flush(5)
    trace_id = answer.headers["x-request-id"]
    receiver.wait_for(lambda: len(by_trace(receiver, trace_id)) == 2)
    call = by_trace(receiver, trace_id)["chat gpt-4o-mini"]
    assert call["kind"] == "client"
    assert call["attributes"] == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.id": "chatcmpl-42",
        "gen_ai.usage.input_tokens": 21,
        "gen_ai.usage.output_tokens": 2,
        "inferwatch.model.status": "ok",
    }
