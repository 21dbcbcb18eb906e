"""Collector ingest on loopback: Sentry envelopes and browser batches of 50 a second through the
`inferwatch serve` app under uvicorn, against a bare FastAPI endpoint that only reads the body.
A third server, the bare endpoint that also runs Sentry's normalizer (`sentry_relay`) on each
event and nothing else, measures what the normalizer alone leaves of the bare rate: the most any
collector that reads every event as Sentry does can reach on the machine. The servers and the
load generator are separate processes; `run.py` keeps the servers up side by side and alternates
short bursts of load between them.

    python benchmarks/collector_ingest.py server bare|normalizer|collector PORT STORE
    python benchmarks/collector_ingest.py load PORT envelope|browser SECONDS CONNECTIONS
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from _common import emit
from fastapi import Request, Response  # at module level: the bare route's annotations name them

KEY = "0123456789abcdef0123456789abcdef"
BATCH = 50


def serve(kind: str, port: int, store: Path) -> None:
    import uvicorn
    from fastapi import FastAPI

    if kind == "bare":
        app = FastAPI()

        @app.post("/{path:path}")
        async def sink(request: Request) -> Response:
            await request.body()
            return Response(b'{"accepted":1}', media_type="application/json")

        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
        return
    if kind == "normalizer":
        uvicorn.run(normalizer_app(), host="127.0.0.1", port=port, log_level="warning")
        return
    from inferwatch.collector._flood import RateLimiter
    from inferwatch.serve import ServeConfig, build

    served = build(ServeConfig(store=store, port=port, key=KEY))
    # `serve`'s per-client limit (300 events/s, bursts of 1,000) would measure the limiter, not ingest.
    served.collector.limiter = RateLimiter(1e9, 10**9)
    try:
        uvicorn.run(served.app, host="127.0.0.1", port=port, log_level="warning")
    finally:
        served.close()


def normalizer_app() -> Any:
    """The bare endpoint, and Sentry's normalizer on each event item of the envelope (with the
    settings the collector gives it), its output read back into Python: no checks, redaction,
    grouping or store."""
    from datetime import datetime, timezone

    from fastapi import FastAPI
    from sentry_relay.processing import StoreNormalizer

    app = FastAPI()
    made: dict[int, Any] = {}  # one normalizer a second, as the collector shares one

    @app.post("/{path:path}")
    async def sink(request: Request) -> Response:
        lines = (await request.body()).split(b"\n")
        second = int(time.time())
        if second not in made:
            made.clear()
            made[second] = StoreNormalizer(
                received_at=datetime.now(timezone.utc).isoformat(),
                max_secs_in_past=30 * 86400,
                max_secs_in_future=60,
                normalize_user_agent=False,
                enable_trimming=False,
            )
        normalizer = made[second]
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                normalizer.normalize_event(raw_event=payload, json_loads=json.loads)
        return Response(b'{"accepted":1}', media_type="application/json")

    return app


def envelope_body(n: int) -> bytes:
    """A Sentry envelope of one error event of about 5 KB (15 frames with source lines, a request,
    breadcrumbs), the size the issue's ingest goal names."""
    event = {
        "event_id": uuid.UUID(int=n).hex,
        "timestamp": time.time(),
        "platform": "python",
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"lookup {n % 20} failed",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": f"app/m{f}.py",
                                "abs_path": f"/srv/app/app/m{f}.py",
                                "function": f"f{f}",
                                "module": f"app.m{f}",
                                "lineno": f,
                                "in_app": True,
                                "pre_context": [f"    def f{f}(x):", "        y = load(x)"],
                                "context_line": f"        return step{f}(y, n={n % 20})",
                                "post_context": ["", f"    def g{f}():"],
                            }
                            for f in range(15)
                        ]
                    },
                }
            ]
        },
        "tags": {"request_id": uuid.uuid4().hex},
        "request": {
            "url": "http://api.internal/predict",
            "method": "POST",
            "headers": {"User-Agent": "python-httpx/0.28", "Content-Type": "application/json"},
        },
        "breadcrumbs": {
            "values": [
                {"timestamp": time.time(), "category": "http", "message": f"GET /items/{b}"}
                for b in range(8)
            ]
        },
        "sdk": {"name": "sentry.python", "version": "2.0.0"},
    }
    payload = json.dumps(event).encode()
    header = json.dumps({"event_id": event["event_id"]}).encode()
    item = json.dumps({"type": "event", "length": len(payload)}).encode()
    return header + b"\n" + item + b"\n" + payload + b"\n"


def browser_body(n: int) -> bytes:
    now = time.time() * 1000
    events: list[dict[str, Any]] = []
    for i in range(BATCH):
        if i % 10 == 0:
            events.append(
                {
                    "type": "error",
                    "ts": now,
                    "session": f"s{n % 100}",
                    "url": "http://127.0.0.1:5173/chat",
                    "name": "TypeError",
                    "message": f"Cannot read properties of undefined (reading 'x{i}')",
                    "stack": "TypeError: x\n    at render (http://127.0.0.1:5173/assets/app.js:12:3)",
                }
            )
        elif i % 2:
            events.append(
                {"type": "click", "ts": now, "session": f"s{n % 100}", "selector": f"button#b{i}"}
            )
        else:
            events.append({"type": "console", "ts": now, "level": "warn", "message": f"slow {i}"})
    return json.dumps({"events": events}).encode()


def request_bytes(kind: str, port: int, n: int) -> bytes:
    if kind == "envelope":
        path, body = "/api/1/envelope/", envelope_body(n)
        extra = f"X-Sentry-Auth: Sentry sentry_key={KEY}, sentry_version=7\r\n"
    else:
        path, body = f"/iw/ingest?key={KEY}", browser_body(n)
        extra = ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


async def _connection(
    port: int, requests: list[bytes], until: float, counts: dict[str, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    while time.perf_counter() < until:
        writer.write(requests[i % len(requests)])
        i += 1
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        counts["ok" if status == 200 else f"status_{status}"] = (
            counts.get("ok" if status == 200 else f"status_{status}", 0) + 1
        )
    writer.close()


async def _load(port: int, kind: str, seconds: float, connections: int) -> dict[str, Any]:
    requests = [request_bytes(kind, port, n) for n in range(2000)]
    counts: dict[str, int] = {}
    warm_until = time.perf_counter() + 0.5
    await asyncio.gather(*(_connection(port, requests, warm_until, {}) for _ in range(connections)))
    start = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, requests, start + seconds, counts) for _ in range(connections))
    )
    elapsed = time.perf_counter() - start
    return {"requests_per_s": counts.get("ok", 0) / elapsed, "counts": counts}


def main() -> None:
    if sys.argv[1] == "server":
        serve(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    else:
        port, kind, seconds, connections = (
            int(sys.argv[2]),
            sys.argv[3],
            float(sys.argv[4]),
            int(sys.argv[5]),
        )
        emit({"kind": kind, **asyncio.run(_load(port, kind, seconds, connections))})


if __name__ == "__main__":
    main()
