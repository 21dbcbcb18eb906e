"""Alerts still go out when the process ends: the error that ended a script is the alert wanted.

The webhook is a real HTTP server on loopback, and the app a real Python process that ends as
scripts and servers end: with an uncaught exception, and through an ASGI lifespan shutdown.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import inferwatch
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient


class Webhook:
    """What a loopback webhook received, each body as JSON."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def test_a_script_that_dies_of_an_uncaught_error_still_sends_its_alert(
    tmp_path: Path, webhook: Webhook
) -> None:
    # Before: the error was stored by sentry-sdk's flush at exit, its alert queued, and the
    # alert worker (a daemon thread) stopped with the interpreter before posting it.
    script = textwrap.dedent(
        """
        import sys
        import inferwatch

        inferwatch.init(store=sys.argv[1], environ={}, alert_webhooks=[sys.argv[2]])
        raise RuntimeError("the upload crashed the batch job")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "events.db"), webhook.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "the upload crashed the batch job" in done.stderr
    [alert] = webhook.bodies
    assert alert["kind"] == "new_issue" and "the upload crashed the batch job" in alert["text"]


def test_an_app_shut_down_through_its_lifespan_sends_the_alerts_of_its_last_requests(
    tmp_path: Path, webhook: Webhook
) -> None:
    # uvicorn ends a worker stopped by SIGTERM by raising the signal again once the app has shut
    # down: no atexit handler runs, so the lifespan's drain is the last chance to send.
    app = FastAPI()

    @app.get("/predict")
    async def predict() -> None:
        raise ValueError("the model returned nothing")

    inferwatch.init(app, store=tmp_path / "events.db", environ={}, alert_webhooks=[webhook.url])
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/predict").status_code == 500
        [alert] = webhook.bodies  # sent during the shutdown, before the client closed
        assert "the model returned nothing" in alert["text"]
    finally:
        inferwatch.shutdown()
