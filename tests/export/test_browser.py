"""`inferwatch serve --otlp-endpoint`: the browser's generation timing as spans, in the trace of
the backend request that served it; the SDK's spans and the collector's reach one receiver."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
from inferwatch import ConfigError
from inferwatch.serve import ServeConfig, add_arguments, build, config_from_args

from tests.export._otlp import Receiver
from tests.export.conftest import MODEL, make_app, send
from tests.reliability.conftest import INGEST_URL, batch, served_collector

TRACE, SPAN = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # the collector's batches, sent soon
    with Receiver() as running:
        yield running
        inferwatch.shutdown()


def generation(**fields: Any) -> dict[str, Any]:
    return {
        "type": "generation",
        "ts": time.time() * 1000,
        "session": "sess-1",
        "name": "chat",
        "status": "ok",
        "duration_ms": 1200,
        "first_token_ms": 300,
        "attrs": {"model": MODEL},
        "output_tokens": 42,
        **fields,
    }


def test_the_browsers_wait_and_the_backend_request_arrive_in_one_trace(
    receiver: Receiver, tmp_path: Path
) -> None:
    app = make_app(store=None, otlp_endpoint=receiver.url)
    send(app, ("GET", "/stream?prompt=hi", {"traceparent": f"00-{TRACE}-{SPAN}-01"}))
    inferwatch.flush(5)
    with served_collector(tmp_path / "events.db", "--otlp-endpoint", receiver.url) as (_, url):
        answer = httpx.post(
            url + INGEST_URL,
            content=batch(generation(trace_id=TRACE, span_id=SPAN, request_id=TRACE)),
        )
        assert answer.json()["accepted"] == 1
        receiver.wait_for(lambda: len([s for s in receiver.spans if s["trace_id"] == TRACE]) == 3)
    spans = {s["name"]: s for s in receiver.spans if s["trace_id"] == TRACE}
    browser, request = spans[f"generation {MODEL}"], spans["GET /stream"]
    assert browser["span_id"] == SPAN and browser["parent_span_id"] is None
    assert request["parent_span_id"] == SPAN  # the backend served the browser's request
    assert browser["kind"] == "client"
    assert browser["resource"]["service.name"] == "inferwatch-browser"
    assert browser["attributes"]["gen_ai.operation.name"] == "chat"
    assert browser["attributes"]["gen_ai.request.model"] == MODEL
    assert browser["attributes"]["gen_ai.response.time_to_first_chunk"] == 0.3
    assert browser["attributes"]["inferwatch.source"] == "browser"
    assert browser["attributes"]["inferwatch.generation.output_tokens"] == 42
    assert browser["end_ns"] - browser["start_ns"] == pytest.approx(1.2e9, abs=1e6)
    [first] = browser["events"]
    assert first["name"] == "first_token"
    assert first["time_ns"] - browser["start_ns"] == pytest.approx(0.3e9, abs=1e6)


def test_an_abandoned_or_failed_generation_says_so(receiver: Receiver, tmp_path: Path) -> None:
    with served_collector(tmp_path / "events.db", "--otlp-endpoint", receiver.url) as (_, url):
        events = [
            generation(status="abandoned", first_token_ms=None, trace_id="1" * 32),
            generation(status="error", trace_id="2" * 32),
        ]
        assert httpx.post(url + INGEST_URL, content=batch(*events)).json()["accepted"] == 2
        receiver.wait_for(lambda: len(receiver.spans) == 2)
    spans = {s["trace_id"]: s for s in receiver.spans}
    abandoned, failed = spans["1" * 32], spans["2" * 32]
    assert abandoned["attributes"]["inferwatch.model.status"] == "abandoned"
    assert abandoned["status"] == "unset" and abandoned["events"] == []
    assert "gen_ai.response.time_to_first_chunk" not in abandoned["attributes"]
    assert failed["status"] == "error"
    assert failed["attributes"]["error.type"] == "_OTHER"


def test_a_bad_otlp_endpoint_is_refused_before_serving(tmp_path: Path) -> None:
    config = ServeConfig(store=tmp_path / "events.db", otlp_endpoint="collector:4318")
    with pytest.raises(ConfigError, match="--otlp-endpoint"):
        build(config)


def test_the_endpoint_and_headers_come_from_the_standard_variables(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", default=str(tmp_path / "events.db"))
    add_arguments(parser)
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
        "OTEL_EXPORTER_OTLP_HEADERS": "api-key=abc",
    }
    config = config_from_args(parser.parse_args([]), environ)
    assert config.otlp_endpoint == "http://collector:4318"
    assert config.otlp_headers == {"api-key": "abc"}
    flagged = config_from_args(parser.parse_args(["--otlp-endpoint", "http://o:4318"]), environ)
    assert flagged.otlp_endpoint == "http://o:4318"
