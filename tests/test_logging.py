"""Structured logs: JSON lines with the request id, one line per request, logs as events once."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
from fastapi import FastAPI

from tests.conftest import Events, asgi_client, free_port

APP_LOGGER = "tests.app"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """JSON lines from the app's logger and `inferwatch.request`, as the docs set them up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(inferwatch.JsonFormatter())
    handler.addFilter(inferwatch.RequestIdFilter())
    loggers = [logging.getLogger(APP_LOGGER), logging.getLogger("inferwatch.request")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def make_app(store_path: Path) -> FastAPI:
    app = FastAPI()
    log = logging.getLogger(APP_LOGGER)

    @inferwatch.watch_model("sentiment")
    def predict(text: str) -> str:
        log.info("tokenised %d words", len(text.split()))
        raise ValueError("the model is not loaded")

    @app.post("/predict/{version}")
    async def predict_route(version: int) -> dict[str, str]:
        log.info("prediction requested", extra={"version": version})
        try:
            return {"label": predict("what a lovely day")}
        except ValueError:
            log.exception("prediction failed")
            raise

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    inferwatch.init(app, store=store_path, environ={})
    return app


async def test_a_request_logs_json_lines_with_the_request_id_of_its_stored_event(
    store_path: Path, stored_events: Events, lines: io.StringIO
) -> None:
    app = make_app(store_path)
    async with asgi_client(app) as client:
        response = await client.post("/predict/3", headers={"x-request-id": "req-abc-123"})
    assert response.status_code == 500
    [event] = stored_events()
    assert event["tags"]["request_id"] == "req-abc-123"
    logged = records(lines)
    assert {r["request_id"] for r in logged} == {"req-abc-123"}
    messages = [r["message"] for r in logged]
    assert messages[:3] == ["prediction requested", "tokenised 4 words", "prediction failed"]
    assert logged[0]["version"] == 3
    assert logged[1]["model"] == "sentiment"  # logged inside the model call
    assert "ValueError: the model is not loaded" in logged[2]["exception"]
    request_line = logged[-1]
    assert request_line["logger"] == "inferwatch.request"
    assert {k: request_line[k] for k in ("method", "route", "status")} == {
        "method": "POST",
        "route": "/predict/{version}",
        "status": 500,
    }
    assert request_line["duration_ms"] > 0


async def test_an_error_logged_with_its_exception_becomes_one_event_not_two(
    store_path: Path, stored_events: Events, lines: io.StringIO
) -> None:
    app = make_app(store_path)
    async with asgi_client(app) as client:
        await client.post("/predict/1")
    events = stored_events()
    assert len(events) == 1  # logged, then re-raised into the middleware: deduplicated
    [value] = events[0]["exception"]["values"][-1:]
    assert value["type"] == "ValueError"
    assert events[0]["contexts"]["model"]["name"] == "sentiment"


async def test_lower_levels_become_breadcrumbs_of_the_event(
    store_path: Path, stored_events: Events, lines: io.StringIO
) -> None:
    app = make_app(store_path)
    async with asgi_client(app) as client:
        await client.post("/predict/2")
    [event] = stored_events()
    crumbs = [c.get("message") for c in event["breadcrumbs"]["values"]]
    assert "prediction requested" in crumbs
    assert "tokenised 4 words" in crumbs


async def test_inferwatchs_own_log_lines_never_become_events(
    store_path: Path, stored_events: Events
) -> None:
    app = make_app(store_path)
    async with asgi_client(app) as client:
        logging.getLogger("inferwatch").error("inferwatch: the store is full")
        await client.get("/items/1")
    assert stored_events() == []


async def test_no_request_line_unless_the_logger_is_enabled(
    store_path: Path, stored_events: Events
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("inferwatch.request").addHandler(handler)
    try:
        app = make_app(store_path)
        async with asgi_client(app) as client:
            await client.get("/items/1")
    finally:
        logging.getLogger("inferwatch.request").removeHandler(handler)
    assert stream.getvalue() == ""  # WARNING by default: the hot path does not format a line


def test_a_json_line_leaves_out_uvicorns_coloured_copy_of_the_message() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Started %d", (42,), None)
    record.color_message = "Started \x1b[36m%d\x1b[0m"
    record.port = 8000
    line = json.loads(inferwatch.JsonFormatter().format(record))
    assert line["message"] == "Started 42" and line["port"] == 8000
    assert "color_message" not in line


def test_logging_config_is_a_valid_dict_config() -> None:
    config = inferwatch.logging_config("DEBUG")
    json.dumps(config)  # can be saved for `uvicorn --log-config logging.json`
    assert config["root"]["level"] == "DEBUG"
    assert config["loggers"]["uvicorn.access"]["propagate"] is False


SERVER = textwrap.dedent(
    """
    import sys, uvicorn, inferwatch
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        return {"id": item_id}

    inferwatch.init(app, store=sys.argv[2], environ={})
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]),
                log_config=inferwatch.logging_config())
    """
)


def test_uvicorn_with_the_documented_config_writes_one_json_line_a_request(
    tmp_path: Path,
) -> None:
    port = free_port()
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(script), str(port), str(tmp_path / "events.db")],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(port, proc)
            for item_id in (1, 2, 3):
                response = httpx.get(
                    f"http://127.0.0.1:{port}/items/{item_id}",
                    headers={"x-request-id": f"r{item_id}"},
                )
                assert response.status_code == 200
        finally:
            proc.terminate()
            proc.wait(10)
    parsed = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    requests = [
        r for r in parsed if r["logger"] == "inferwatch.request" and r["request_id"] != "warmup"
    ]
    assert [r["request_id"] for r in requests] == ["r1", "r2", "r3"]
    assert all(r["route"] == "/items/{item_id}" and r["status"] == 200 for r in requests)
    assert all(r["method"] == "GET" and r["duration_ms"] >= 0 for r in requests)
    assert not [r for r in parsed if r["logger"] == "uvicorn.access"]
    assert any(r["logger"] == "uvicorn.error" for r in parsed)  # startup lines, as JSON too


def _wait_until_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            httpx.get(f"http://127.0.0.1:{port}/items/0", headers={"x-request-id": "warmup"})
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")
