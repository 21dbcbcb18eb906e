"""The Generations page over real HTTP: a generation that the browser timed and the backend
recorded is one call with both timings, whichever record arrives first."""

from __future__ import annotations

import re
import time

import httpx
import inferwatch
import pytest
from fastapi import FastAPI

from tests.dashboard._seed import KEY, run_in_thread
from tests.dashboard.conftest import Running

TRACE = "0af7651916cd43dd8448eb211c80319c"
HTML = {"Accept": "text/html"}


def backend_generation(running: Running) -> None:
    """A request to a real app instrumented by `inferwatch.init`, carrying the `traceparent`
    the snippet's `timedFetch` puts on it; the model takes microseconds."""
    app = FastAPI()

    @inferwatch.watch_model("story-ngram")
    def write(prompt: str) -> str:
        return prompt[::-1]

    @app.post("/api/generate")
    async def generate(body: dict[str, str]) -> dict[str, str]:
        return {"story": write(body["prompt"])}

    inferwatch.init(app, store=running.store, environ={})

    async def drive() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            headers = {"traceparent": f"00-{TRACE}-b7ad6b7169203331-01"}
            response = await client.post("/api/generate", json={"prompt": "hi"}, headers=headers)
            assert response.status_code == 200

    run_in_thread(drive)
    assert inferwatch.flush(5)
    inferwatch.shutdown()


def browser_generation(running: Running) -> None:
    """What the snippet sends when the streamed answer ends: the user waited 1.84 s."""
    event = {
        "type": "generation",
        "ts": time.time() * 1000,
        "session": "sess-1",
        "name": "story",
        "status": "ok",
        "duration_ms": 1840.0,
        "first_token_ms": 420.0,
        "attrs": {"model": "story-ngram"},
        "trace_id": TRACE,
    }
    response = httpx.post(
        f"{running.url}/iw/ingest?key={KEY}",
        json={"events": [event]},
        headers={"Content-Type": "text/plain", "Origin": "http://127.0.0.1:3000"},
    )
    assert response.status_code == 200 and response.json()["invalid"] == 0


def table_rows(html: str, table_id: str) -> list[str]:
    found = re.search(
        rf'<table class="grid-table" id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S
    )
    assert found, f"no table {table_id}"
    return re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)


@pytest.mark.parametrize("browser_first", [False, True])
def test_the_generations_page_counts_one_browser_and_backend_generation_once_with_both_timings(
    running: Running, browser_first: bool
) -> None:
    steps = [backend_generation, browser_generation]
    for step in reversed(steps) if browser_first else steps:
        step(running)
    html = httpx.get(running.url + "/generations", headers=HTML).text
    assert re.search(r'Calls</span><span class="tile-value">1<', html)
    assert "1 timed by the browser too" in html
    (model,) = table_rows(html, "models")
    assert ">story-ngram<" in model and '<td class="r">1</td>' in model
    assert "1.84 s" in model  # what the user waited, beside the backend's percentiles
    (latest,) = table_rows(html, "latest")  # one call, not two
    assert "plat-backend" in latest and "plat-browser" in latest
    assert "1.84 s" in latest and "420 ms" in latest
    assert re.search(r'<td class="r">[\d.]+ µs</td>', latest)  # the model's microseconds
