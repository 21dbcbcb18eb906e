"""Clients that hang up mid-body: a short line a minute per route in the log, never a traceback."""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import time
from pathlib import Path
from typing import IO

import httpx
import pytest
from inferwatch._disconnects import HangUps

from tests.reliability.conftest import KEY, served_collector


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_line_a_minute_per_route_says_how_many_it_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    hang_ups = HangUps(every=60, clock=clock)
    with caplog.at_level(logging.WARNING, logger="inferwatch"):
        for _ in range(5):
            hang_ups.note("POST /iw/ingest")
        hang_ups.note("POST /iw/tunnel")
        clock.now += 61
        hang_ups.note("POST /iw/ingest")
        hang_ups.note("POST /iw/ingest")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "inferwatch: a client hung up while sending its body to POST /iw/ingest",
        "inferwatch: a client hung up while sending its body to POST /iw/tunnel",
        "inferwatch: a client hung up while sending its body to POST /iw/ingest"
        " (4 more since the last such line)",
    ]
    assert all(r.exc_info is None for r in caplog.records)


ROUTES = [
    f"/iw/ingest?key={KEY}",
    f"/api/1/envelope/?sentry_key={KEY}",
    f"/api/1/store/?sentry_key={KEY}",
    "/iw/tunnel",
    "/login",
]
HANG_UPS_EACH = 100


def hang_up(port: int, path: str) -> None:
    """Announce a 5,000-byte body, send 40 bytes of it, and close the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n"
        sock.sendall(head.encode() + b'{"events": [{"type": "error", "ts": 1, ')


def read_available(stream: IO[bytes], into: bytearray, seconds: float) -> None:
    """Append what `stream` has to say within `seconds` (or until it closes) to `into`."""
    fd = stream.fileno()
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        into.extend(chunk)


def without_the_two_stores_warning(lines: list[str]) -> list[str]:
    """The log without serve's start-up warning about other stores nearby (the suite's other
    temporary stores are this one's siblings): it names them, a line each."""
    starts = [i for i, line in enumerate(lines) if line.startswith("inferwatch: warning: the")]
    if not starts:
        return lines
    start = starts[0]
    end = next(i for i, line in enumerate(lines) if line.startswith("If your app writes there"))
    return lines[:start] + lines[end + 1 :]


def test_a_hundred_uploads_cut_short_on_every_ingest_route_add_a_few_short_lines_to_the_log(
    tmp_path: Path,
) -> None:
    with served_collector(tmp_path / "events.db") as (child, url):
        assert child.stderr is not None
        port = int(url.rsplit(":", 1)[1])
        for path in ROUTES:
            for _ in range(HANG_UPS_EACH):
                hang_up(port, path)
        log = bytearray()
        deadline = time.monotonic() + 30  # every route's first line, then what else comes
        while log.count(b"hung up") < len(ROUTES) and time.monotonic() < deadline:
            read_available(child.stderr, log, 0.5)
        assert httpx.get(f"{url}/iw/inferwatch.js").status_code == 200  # still serving
        child.send_signal(signal.SIGTERM)
        read_available(child.stderr, log, 10)
    text = log.decode(errors="replace")
    lines = without_the_two_stores_warning(text.splitlines())
    assert "Traceback" not in text and "ClientDisconnect" not in text
    assert sum("hung up" in line for line in lines) == len(ROUTES)  # one a route this minute
    assert len(lines) <= len(ROUTES) + 5 and all(len(line) < 200 for line in lines), text
