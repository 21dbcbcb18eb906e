"""Authentication before work: a request without a key in its headers is refused on a bounded
prefix of its body, against `inferwatch serve` on loopback."""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
import zlib
from pathlib import Path

import httpx
import pytest

from tests.conftest import rows
from tests.reliability.conftest import ENVELOPE_URL, KEY, envelope, sentry_event, served_collector

INFLATED = 20 * 1024 * 1024 - 4096  # just under the envelope limit: inflating it all is allowed
CONCURRENT = 100


def bomb(header: dict[str, object]) -> bytes:
    """An envelope whose header line is `header`, then ~20 MiB of zeros: ~20 KB of gzip."""
    head = json.dumps(header).encode() + b"\n"
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = [deflater.compress(head)]
    parts += [deflater.compress(zeros) for _ in range(INFLATED // len(zeros))]
    parts += [deflater.compress(bytes(INFLATED % len(zeros))), deflater.flush()]
    return b"".join(parts)


def peak_rss(pid: int) -> int:
    """The process's peak resident memory in bytes (`VmHWM`: no sample can miss the peak)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


async def post_all(url: str, bodies: list[bytes]) -> list[int]:
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def post(body: bytes) -> int:
            headers = {"Content-Encoding": "gzip"}
            return (await client.post(ENVELOPE_URL, content=body, headers=headers)).status_code

        return list(await asyncio.gather(*(post(body) for body in bodies)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/PID/status")
def test_keyless_gzip_bombs_are_refused_on_their_first_bytes_with_bounded_memory(
    store_path: Path,
) -> None:
    no_dsn = bomb({"event_id": uuid.uuid4().hex})
    wrong_dsn = bomb({"dsn": "http://0000000000000000@127.0.0.1/1"})
    no_header = gzip.compress(bytes(INFLATED), compresslevel=9)
    assert len(no_dsn) < 32 * 1024 and len(no_header) < 32 * 1024
    bodies = [no_dsn, wrong_dsn, no_header] * (CONCURRENT // 3)
    with served_collector(store_path) as (child, url):
        asyncio.run(post_all(url, [no_dsn]))  # warm up: routes, imports, pools
        before = peak_rss(child.pid)
        codes = asyncio.run(post_all(url, bodies))
        grown = peak_rss(child.pid) - before
    # Inflating each would hold 20 MiB a request, 2 GB for all; the prefixes are 16 KiB each.
    assert grown < 150 * 1024 * 1024, f"the collector grew by {grown >> 20} MiB"
    assert codes == [401, 403, 401] * (CONCURRENT // 3)


def test_the_key_in_the_envelope_dsn_is_still_honoured_and_checked(store_path: Path) -> None:
    right = sentry_event("keyed by its dsn")
    wrong = sentry_event("wrong key")

    def with_dsn(event: dict[str, object], key: str) -> bytes:
        body = envelope(event)
        header, rest = body.split(b"\n", 1)
        keyed = {**json.loads(header), "dsn": f"http://{key}@127.0.0.1/1"}
        return json.dumps(keyed).encode() + b"\n" + rest

    with served_collector(store_path) as (_, url), httpx.Client(base_url=url) as client:
        accepted = client.post(ENVELOPE_URL, content=with_dsn(right, KEY))
        compressed = client.post(
            ENVELOPE_URL,
            content=gzip.compress(with_dsn(sentry_event("gzip too"), KEY)),
            headers={"Content-Encoding": "gzip"},
        )
        refused = client.post(ENVELOPE_URL, content=with_dsn(wrong, "f" * 32))
        keyless = client.post(ENVELOPE_URL, content=envelope(sentry_event("no key at all")))
        legacy = client.post("/api/1/store/", content=json.dumps(sentry_event("old SDK")))
    assert accepted.status_code == 200 and accepted.json() == {"id": right["event_id"]}
    assert compressed.status_code == 200
    assert refused.status_code == 403
    assert keyless.status_code == 401 and "dsn" in keyless.json()["detail"]
    assert legacy.status_code == 401
    stored = {r["event_id"] for r in rows(store_path, "SELECT event_id FROM events")}
    assert right["event_id"] in stored and wrong["event_id"] not in stored and len(stored) == 2


def test_a_header_line_past_the_prefix_is_not_looked_for(store_path: Path) -> None:
    padded = {"dsn": f"http://{KEY}@127.0.0.1/1", "padding": "x" * (32 * 1024)}
    body = json.dumps(padded).encode() + b"\n" + envelope(sentry_event("late")).split(b"\n", 1)[1]
    with served_collector(store_path) as (_, url), httpx.Client(base_url=url) as client:
        response = client.post(ENVELOPE_URL, content=body)
    assert response.status_code == 401
