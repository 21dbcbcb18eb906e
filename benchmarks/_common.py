"""What every benchmark shares: timing, medians, resident memory, a direct ASGI caller."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

App = Any


def median(values: list[float]) -> float:
    return statistics.median(values)


def per_call_us(fn: Callable[[], object], n: int, repeats: int) -> tuple[float, float]:
    """Medians over `repeats` runs of one call's time in microseconds: (wall, thread CPU)."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.thread_time()
        for _ in range(n):
            fn()
        walls.append((time.perf_counter() - wall) / n * 1e6)
        cpus.append((time.thread_time() - cpu) / n * 1e6)
    return median(walls), median(cpus)


def rss_mb() -> float:
    """Resident memory of this process now, in MiB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def emit(result: dict[str, Any]) -> None:
    """The one line of JSON a benchmark script prints for run.py."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


class DirectASGI:
    """Calls an ASGI app with no HTTP client in between, so the app's own cost is what is timed."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()

    def request(self, method: str, path: str, body: bytes = b"") -> int:
        return self.loop.run_until_complete(self._call(method, path, body))

    def many(self, method: str, path: str, body: bytes, n: int) -> tuple[float, float]:
        """Microseconds per request over `n` sequential requests: (wall, this thread's CPU).

        The CPU time of the serving thread is what the app pays per request, and it is far
        less disturbed than wall time by other processes sharing the machine.
        """

        async def run() -> tuple[float, float]:
            wall, cpu = time.perf_counter(), time.thread_time()
            for _ in range(n):
                status = await self._call(method, path, body)
                if status != 200:
                    raise RuntimeError(f"{method} {path} answered {status}")
            return (time.perf_counter() - wall) / n * 1e6, (time.thread_time() - cpu) / n * 1e6

        return self.loop.run_until_complete(run())

    async def _call(self, method: str, target: str, body: bytes) -> int:
        path, _, query = target.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"accept", b"text/html,application/json"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"user-agent", b"bench/1"),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)  # a client that stays connected
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)
        return status
