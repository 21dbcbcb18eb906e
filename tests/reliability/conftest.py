"""What the reliability tests share: wire payloads and a collector in a child process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import free_port

KEY = "0123456789abcdef0123456789abcdef"
AUTH = {"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client=test/1"}
ENVELOPE_URL = "/api/1/envelope/"
INGEST_URL = f"/iw/ingest?key={KEY}"


def now_ms() -> float:
    return time.time() * 1000


def browser_error(message: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "error",
        "ts": now_ms(),
        "session": "sess-1",
        "url": "http://127.0.0.1:5173/chat",
        "name": "TypeError",
        "message": message,
        "stack": "TypeError: x\n    at render (http://127.0.0.1:5173/assets/app.js:12:3)",
        **extra,
    }


def batch(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def sentry_event(message: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "python",
        "level": "error",
        "exception": {"values": [{"type": "ValueError", "value": message}]},
        **extra,
    }


def envelope(*events: dict[str, Any]) -> bytes:
    lines = [json.dumps({"event_id": events[0]["event_id"]} if events else {}).encode()]
    for event in events:
        payload = json.dumps(event).encode()
        lines += [json.dumps({"type": "event", "length": len(payload)}).encode(), payload]
    return b"\n".join(lines) + b"\n"


@contextmanager
def served_collector(store: Path, *flags: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`inferwatch serve` in a child process on loopback, with `flags` added to its command
    line; killed (SIGKILL) when the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "inferwatch.cli", "serve", "--store", str(store)]
    command += ["--port", str(port), "--key", KEY, *flags]
    env = {**os.environ, "SENTRY_DSN": "", "INFERWATCH_TOKEN": ""}
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(child, url)
        yield child, url
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(10)
        if child.stderr is not None:
            child.stderr.close()


def _wait_until_up(child: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(
                f"inferwatch serve exited: {child.stderr.read() if child.stderr else ''!r}"
            )
        try:
            if httpx.get(f"{url}/iw/inferwatch.js", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("inferwatch serve did not start within 30 s")
