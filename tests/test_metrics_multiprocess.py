"""Metrics under several worker processes sharing `PROMETHEUS_MULTIPROC_DIR`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port

WORKER = textwrap.dedent(
    """
    import sys, uvicorn, inferwatch
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        return {"id": item_id}

    @app.get("/healthz")
    async def health() -> dict:
        return {"ok": True}

    @inferwatch.watch_model("tiny")
    def predict(text: str) -> str:
        return text.upper()

    @app.get("/predict")
    async def predict_route(text: str) -> dict:
        return {"label": predict(text)}

    inferwatch.init(app, store=sys.argv[2], environ={}, metrics=True)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    """
)


class Worker:
    """One worker process, as gunicorn or `uvicorn --workers` would start it."""

    def __init__(self, tmp_path: Path, name: str, multiproc_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        script = tmp_path / "worker.py"
        script.write_text(WORKER)
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir)}
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(self.port), str(tmp_path / f"{name}.db")], env=env
        )

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the worker exited"
            try:
                httpx.get(f"{self.url}/healthz")
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("the worker did not start")

    def get(self, path: str) -> None:
        assert httpx.get(f"{self.url}{path}").status_code == 200

    def scrape(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        response = httpx.get(f"{self.url}/metrics")
        assert response.status_code == 200
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[Worker, Worker]]:
    multiproc_dir = tmp_path / "prometheus"
    multiproc_dir.mkdir()
    a, b = Worker(tmp_path, "a", multiproc_dir), Worker(tmp_path, "b", multiproc_dir)
    try:
        a.wait_until_up()
        b.wait_until_up()
        yield a, b
    finally:
        for worker in (a, b):
            if worker.proc.poll() is None:
                worker.stop()


ITEMS = (
    "http_requests_total",
    frozenset({"method": "GET", "route": "/items/{item_id}", "status": "200"}.items()),
)


def test_two_workers_metrics_add_up_in_either_workers_scrape(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    for i in range(3):
        a.get(f"/items/{i}")
    for i in range(5):
        b.get(f"/items/{i}")
    a.get("/predict?text=hi")
    b.get("/predict?text=hello")
    for scrape in (a.scrape(), b.scrape()):
        assert scrape[ITEMS] == 8
        duration = (
            "http_request_duration_seconds_count",
            frozenset({"method": "GET", "route": "/items/{item_id}"}.items()),
        )
        assert scrape[duration] == 8
        model = (
            "gen_ai_client_operation_duration_seconds_count",
            frozenset({"operation": "predict", "model": "tiny", "error_type": ""}.items()),
        )
        assert scrape[model] == 2
        assert not any(dict(labels).get("route") == "/healthz" for (_, labels) in scrape)


def test_a_dead_workers_counts_are_kept(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    a.get("/items/1")
    for i in range(4):
        b.get(f"/items/{i}")
    b.stop()  # counters must not go backwards when a worker dies
    assert a.scrape()[ITEMS] == 5


def test_each_workers_store_health_adds_up(workers: tuple[Worker, Worker]) -> None:
    a, b = workers  # each has answered one /healthz: one request row each so far
    for i in range(3):
        a.get(f"/items/{i}")
    for i in range(5):
        b.get(f"/items/{i}")
    accepted = ("inferwatch_store_accepted_rows_total", frozenset())
    b.scrape()  # a worker copies its own health into its files when it answers a scrape
    total = a.scrape()[accepted]
    assert total >= 4 + 6  # more than either worker alone has: A's rows and B's
    assert ("inferwatch_store_queue_depth", frozenset()) in a.scrape()


FORKED_WORKER = textwrap.dedent(
    """
    import json, multiprocessing, sys, threading
    import inferwatch
    from inferwatch import _metrics_route
    from prometheus_client.parser import text_string_to_metric_families

    inferwatch.init(store=sys.argv[1], environ={}, metrics=True)


    @inferwatch.watch_model("tiny")
    def predict(text):
        return text.upper()


    def accepted():
        for family in text_string_to_metric_families(_metrics_route.scrape().decode()):
            for sample in family.samples:
                if sample.name == "inferwatch_store_accepted_rows_total":
                    return sample.value


    def worker(answers):
        for i in range(3):
            predict(f"child {i}")
        answers.put({
            "threads": sorted(t.name for t in threading.enumerate()),
            "accepted": accepted(),
        })


    for i in range(5):
        predict(f"parent {i}")
    assert inferwatch.flush(5)
    before = accepted()  # the parent's 5 rows, in the parent's files
    fork = multiprocessing.get_context("fork")
    answers = fork.Queue()
    child = fork.Process(target=worker, args=(answers,))
    child.start()
    answer = answers.get(timeout=30)
    child.join(30)
    print(json.dumps({"before": before, **answer}))
    """
)


def test_a_worker_forked_after_init_mirrors_its_own_health_from_zero(tmp_path: Path) -> None:
    multiproc_dir = tmp_path / "prometheus"
    multiproc_dir.mkdir()
    script = tmp_path / "forking.py"
    script.write_text(FORKED_WORKER)
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "events.db")],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir), "SENTRY_DSN": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["before"] == 5
    assert report["accepted"] == 5 + 3  # the parent's and the worker's, each counted once
    assert "inferwatch-metrics" in report["threads"]
