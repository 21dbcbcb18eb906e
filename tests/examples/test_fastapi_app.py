"""The example app in-process: each failure mode of the debugging table leaves the crash report
it should, with a model context that explains it."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
from inferwatch.store import latest_event, list_generations, list_issues, list_usage, open_readonly
from PIL import Image

from examples.fastapi_app.app import Settings, create_app
from tests.conftest import LiveServer, asgi_client


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "store" / "events.db"
    inferwatch.shutdown()


def settings(store: Path, **changes: Any) -> Settings:
    base: dict[str, Any] = {
        "store": store,
        "environ": {},
        "cold_start_s": 0.5,
        "load_timeout_s": 0.05,
        "first_token_s": 0.0,
        "word_s": 0.0,
        "json_logs": False,
    }
    return Settings(**{**base, **changes})


@pytest.fixture
async def client(store: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(settings(store))) as c:
        yield c


def issues(store: Path) -> list[dict[str, Any]]:
    """Every issue with its latest event, after everything captured is written."""
    assert inferwatch.flush(5)
    with open_readonly(store) as conn:
        return [{**i, "event": latest_event(conn, i["id"])} for i in list_issues(conn)]


def only_issue(store: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    found = issues(store)
    assert len(found) == 1, [i["title"] for i in found]
    return found[0], found[0]["event"]["contexts"]["model"]


def png(mode: str, colour: Any) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (32, 32), colour).save(buf, "PNG")
    return buf.getvalue()


async def test_a_good_prediction_is_answered_and_leaves_no_issue(
    client: httpx.AsyncClient, store: Path
) -> None:
    response = await client.post("/api/classify", json={"text": "I love it, great answers"})
    assert response.status_code == 200
    assert response.json()["label"] == "positive"
    assert issues(store) == []


async def test_an_empty_prediction_from_a_model_that_did_not_load_explains_itself(
    client: httpx.AsyncClient, store: Path
) -> None:
    response = await client.post("/api/classify", json={"text": "I love it", "version": "2"})
    assert response.status_code == 500
    issue, model = only_issue(store)
    assert issue["title"].startswith("EmptyPrediction")
    assert model["name"] == "sentiment" and model["version"] == "2"
    assert model["input"]["preview"] == "I love it"
    load = next(n for n in model["notes"] if n["stage"] == "load")
    assert load["loaded"] is False and load["classes"] == 0
    assert model["output"]["preview"] == {"label": "", "score": 0.0}


async def test_the_assistant_answers_through_the_openai_client_and_leaves_no_issue(
    client: httpx.AsyncClient, store: Path
) -> None:
    response = await client.post("/api/review", json={"text": "Great acting, I love it"})
    assert response.status_code == 200 and response.json()["label"] == "positive"
    assert issues(store) == []
    with open_readonly(store) as conn:
        [call] = [g for g in list_generations(conn) if g["model"] == "review-assistant"]
    assert call["status"] == "ok" and call["output_tokens"] is not None


async def test_a_long_review_cuts_the_llm_json_and_the_crash_shows_the_call(
    client: httpx.AsyncClient, store: Path
) -> None:
    response = await client.post("/api/review", json={"text": "I love this film. " * 40})
    assert response.status_code == 500
    issue, model = only_issue(store)
    assert issue["title"].startswith("JSONDecodeError")
    assert model["name"] == "review-assistant" and model["provider"] == "openai"
    assert model["parameters"]["max_tokens"] == 40
    assert [m["role"] for m in model["input"]["preview"]] == ["system", "user"]
    assert model["output"]["preview"]["finish_reason"] == "length"
    assert model["output"]["preview"]["text"].startswith('{"label": "positive"')
    assert model["usage"]["output_tokens"] == 40


async def test_an_rgba_upload_is_reported_as_a_bad_input_shape_with_the_image_mode(
    client: httpx.AsyncClient, store: Path
) -> None:
    body = png("RGBA", (200, 30, 30, 128))
    response = await client.post("/api/image", content=body, headers={"content-type": "image/png"})
    assert response.status_code == 500
    issue, model = only_issue(store)
    assert "expected input of shape (n, 3), got (256, 4)" in issue["title"]
    assert model["input"]["image"] == {
        "format": "PNG",
        "width": 32,
        "height": 32,
        "mode": "RGBA",
        "verified": True,
    }
    preprocess = next(n for n in model["notes"] if n["stage"] == "preprocess")
    assert preprocess["mode"] == "RGBA"


async def test_an_rgb_upload_is_named_and_leaves_no_issue(
    client: httpx.AsyncClient, store: Path
) -> None:
    body = png("RGB", (30, 80, 220))
    response = await client.post("/api/image", content=body, headers={"content-type": "image/png"})
    assert response.status_code == 200
    assert response.json()["colour"] == "blue"
    assert issues(store) == []


async def test_a_text_file_sent_as_an_image_is_refused_and_reported_with_what_it_is(
    client: httpx.AsyncClient, store: Path
) -> None:
    response = await client.post(
        "/api/image", content=b"just some notes", headers={"content-type": "image/png"}
    )
    assert response.status_code == 415
    issue, model = only_issue(store)
    assert issue["title"].startswith("NotAnImage")
    assert model["input"] == {"type": "bytes", "size": 15, "mime": "text/plain"}
    upload = next(n for n in model["notes"] if n["stage"] == "upload")
    assert upload["content_type"] == "image/png"


async def test_an_upload_over_the_limit_is_refused_before_the_model_sees_it(
    client: httpx.AsyncClient, store: Path
) -> None:
    response = await client.post("/api/image", content=b"x" * (5 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert issues(store) == []


async def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded(
    client: httpx.AsyncClient, store: Path
) -> None:
    buf = io.BytesIO()
    Image.new("1", (5000, 4000)).save(buf, "PNG")  # a few KB on disk, 20 million pixels
    response = await client.post("/api/image", content=buf.getvalue())
    assert response.status_code == 413
    assert issues(store) == []


async def test_a_cold_start_slower_than_the_timeout_is_a_504_reported_with_the_wait(
    client: httpx.AsyncClient, store: Path
) -> None:
    response = await client.post("/api/generate", json={"prompt": "The model", "model": "large"})
    assert response.status_code == 504
    issue, model = only_issue(store)
    assert issue["title"] == "POST /api/generate returned 504"
    assert model["name"] == "story-large"
    assert model["error"]["type"] == "ColdStartTimeout"
    assert [n["stage"] for n in model["notes"]] == ["cold_start", "waited"]
    assert model["notes"][1]["ready"] is False


async def test_the_large_model_answers_once_it_has_loaded(store: Path) -> None:
    app = create_app(settings(store, cold_start_s=0.0, load_timeout_s=5.0))
    async with asgi_client(app) as client:
        response = await client.post("/api/generate", json={"prompt": "The", "model": "large"})
    assert response.status_code == 200 and response.text
    assert issues(store) == []


def test_the_story_streams_and_leaves_a_generation_record_with_first_chunk_time(
    store: Path,
) -> None:
    app = create_app(settings(store, word_s=0.02))
    request = {"prompt": "The user", "max_words": 12}
    with (
        LiveServer(app) as server,
        httpx.stream("POST", f"{server.url}/api/generate", json=request) as response,
    ):
        assert response.headers["content-type"].startswith("text/plain")
        chunks = [c for c in response.iter_text() if c]
    assert len(chunks) > 1  # a real server sends the words as they come
    assert inferwatch.flush(5)
    with open_readonly(store) as conn:
        (record,) = list_generations(conn, model="story-ngram")
    assert record["status"] == "ok"
    assert record["first_chunk_ms"] is not None
    assert record["request_id"] == response.headers["x-request-id"]


async def test_every_model_endpoint_logs_its_usage(client: httpx.AsyncClient, store: Path) -> None:
    await client.post("/api/classify", json={"text": "fine"})
    await client.post("/api/generate", json={"prompt": "The", "max_words": 3})
    await client.post("/api/image", content=png("RGB", (0, 0, 0)))
    assert inferwatch.flush(5)
    with open_readonly(store) as conn:
        endpoints = sorted(u["endpoint"] for u in list_usage(conn))
    assert endpoints == ["/api/classify", "/api/generate", "/api/image"]


async def test_model_calls_are_logged_as_json_lines_with_the_request_id(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        async with asgi_client(create_app(settings(store, json_logs=True))) as client:
            response = await client.post("/api/classify", json={"text": "lovely"})
    finally:
        root.handlers[:], root.level = saved
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    classified = next(line for line in lines if line["message"] == "classified")
    assert classified["request_id"] == response.headers["x-request-id"]
    assert any(line.get("step") == "received" for line in lines)


async def test_the_page_points_its_snippet_at_the_configured_collector(
    store: Path, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    tag = '<script src="http://127.0.0.1:8765/iw/inferwatch.js"></script>'
    (dist / "index.html").write_text(f"<!doctype html>{tag}")
    (dist / "app.js").write_text("console.log(1)")
    app = create_app(settings(store, react_dist=dist, collector_url="http://127.0.0.1:9999"))
    async with asgi_client(app) as client:
        page = await client.get("/")
        script = await client.get("/app.js")
    assert 'src="http://127.0.0.1:9999/iw/inferwatch.js"' in page.text
    assert script.status_code == 200


async def test_model_calls_show_in_the_prometheus_metrics(client: httpx.AsyncClient) -> None:
    await client.post("/api/classify", json={"text": "lovely"})
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'gen_ai_client_operation_duration_seconds_count{error_type="",model="sentiment"' in (
        response.text
    )


def test_the_page_has_the_snippet_tag_exactly_as_inferwatch_snippet_prints_it(
    tmp_path: Path,
) -> None:
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "inferwatch.cli",
            "snippet",
            "--key",
            "inferwatch-demo",
            "--url",
            "http://127.0.0.1:8765",
            "--store",
            str(tmp_path / "events.db"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    index = Path(__file__).parents[2] / "examples" / "react_app" / "index.html"
    assert printed in index.read_text()
