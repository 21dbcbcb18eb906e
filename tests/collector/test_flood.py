"""Flood control counted in events and bytes, against `inferwatch serve` on loopback."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sentry_sdk.transport import _parse_rate_limits

from tests.conftest import free_port, rows
from tests.reliability.conftest import (
    AUTH,
    ENVELOPE_URL,
    INGEST_URL,
    batch,
    browser_error,
    envelope,
    sentry_event,
    served_collector,
)

RATE, BURST = 20, 100


def flood(n: int) -> bytes:
    """An envelope of `n` events of one issue (the new-issue cap is not what is tested here)."""
    return envelope(*(sentry_event("flooded", fingerprint=["flood"]) for _ in range(n)))


def stored_events(store: Path) -> int:
    return int(rows(store, "SELECT count(*) AS n FROM events")[0]["n"])


def parsed(header: str) -> dict[str | None, float]:
    """The header as sentry-sdk's own transport reads it: seconds to wait, by category."""
    now = datetime.now(timezone.utc)
    return {c: (t - now).total_seconds() for c, t in _parse_rate_limits(header, now)}


def test_a_client_is_limited_by_the_events_it_sends_not_its_requests(store_path: Path) -> None:
    flags = ("--rate-limit", str(RATE), "--rate-burst", str(BURST))
    with served_collector(store_path, *flags) as (_, url), httpx.Client(base_url=url) as client:
        start = time.monotonic()
        assert client.post(ENVELOPE_URL, content=flood(60), headers=AUTH).status_code == 200
        refused = client.post(ENVELOPE_URL, content=flood(60), headers=AUTH)
        answers = [client.post(ENVELOPE_URL, content=flood(10), headers=AUTH) for _ in range(30)]
        elapsed = time.monotonic() - start
    # 60 events left 40 tokens: the next 60 are refused whole, after parsing, naming `error`.
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    limits = parsed(refused.headers["x-sentry-rate-limits"])
    assert set(limits) == {"error"} and limits["error"] >= 0
    # Requests of 10 events are refused once the bucket is empty, not counted as one each.
    codes = [a.status_code for a in answers]
    assert 200 in codes and 429 in codes
    assert stored_events(store_path) == 60 + 10 * codes.count(200)
    assert stored_events(store_path) <= BURST + RATE * elapsed + 10


def test_an_empty_bucket_is_refused_before_the_body_is_read(store_path: Path) -> None:
    flags = ("--rate-limit", "0.01", "--rate-burst", "5")
    with served_collector(store_path, *flags) as (_, url), httpx.Client(base_url=url) as client:
        assert client.post(ENVELOPE_URL, content=flood(5), headers=AUTH).status_code == 200
        head = _head_of_a_request_whose_body_never_comes(url)
    status, _, headers = head.partition("\r\n")
    assert " 429 " in status
    fields = dict(line.split(": ", 1) for line in headers.lower().split("\r\n") if ": " in line)
    assert int(fields["retry-after"]) >= 1
    assert parsed(fields["x-sentry-rate-limits"]).keys() == {None}  # every category
    assert stored_events(store_path) == 5


def _head_of_a_request_whose_body_never_comes(url: str) -> str:
    """Send a request that announces 1 MB and sends none of it; the answer's status and headers."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        auth = AUTH["X-Sentry-Auth"]
        sock.sendall(
            f"POST {ENVELOPE_URL} HTTP/1.1\r\nHost: {address.netloc}\r\nX-Sentry-Auth: {auth}\r\n"
            "Content-Length: 1000000\r\n\r\n".encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            assert chunk, "the collector hung up without answering"
            answer += chunk
    return answer.split(b"\r\n\r\n", 1)[0].decode()


def test_a_request_larger_than_the_burst_is_413_as_waiting_would_not_help(
    store_path: Path,
) -> None:
    flags = ("--rate-limit", str(RATE), "--rate-burst", str(BURST))
    with served_collector(store_path, *flags) as (_, url), httpx.Client(base_url=url) as client:
        too_many = client.post(ENVELOPE_URL, content=flood(BURST + 1), headers=AUTH)
        fits = client.post(ENVELOPE_URL, content=flood(BURST), headers=AUTH)
    assert too_many.status_code == 413 and "--rate-burst" in too_many.json()["detail"]
    assert fits.status_code == 200


def test_a_few_huge_events_cost_what_their_bytes_would_in_small_ones(store_path: Path) -> None:
    flags = ("--rate-limit", "0.01", "--rate-burst", "40")
    big = sentry_event("x", fingerprint=["big"], extra={"blob": "a" * (900 * 1024)})
    with served_collector(store_path, *flags) as (_, url), httpx.Client(base_url=url) as client:
        answers = [client.post(ENVELOPE_URL, content=envelope(big), headers=AUTH) for _ in range(4)]
    # 900 KiB is 15 tokens of 64 KiB: two fit in 40 tokens, the third does not.
    assert [a.status_code for a in answers] == [200, 200, 429, 429]


def test_browser_batches_are_limited_by_their_events_with_both_headers(store_path: Path) -> None:
    flags = ("--rate-limit", "0.01", "--rate-burst", "30")
    errors = [browser_error("same failure") for _ in range(20)]
    with served_collector(store_path, *flags) as (_, url), httpx.Client(base_url=url) as client:
        first = client.post(INGEST_URL, content=batch(*errors))
        second = client.post(INGEST_URL, content=batch(*errors))
    assert first.status_code == 200
    assert second.status_code == 429 and int(second.headers["retry-after"]) >= 1
    assert set(parsed(second.headers["x-sentry-rate-limits"])) == {"error"}


def test_rate_limit_0_turns_limiting_off(store_path: Path) -> None:
    flags = ("--rate-limit", "0", "--rate-burst", "1")
    with served_collector(store_path, *flags) as (_, url), httpx.Client(base_url=url) as client:
        codes = [client.post(ENVELOPE_URL, content=flood(500), headers=AUTH) for _ in range(4)]
    assert [c.status_code for c in codes] == [200] * 4
    assert stored_events(store_path) == 2000


def test_the_limits_are_documented_in_serve_help(capsys: pytest.CaptureFixture[str]) -> None:
    from inferwatch.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--rate-limit EVENTS_PER_SECOND" in text and "default 300" in text
    assert "--rate-burst N" in text and "default 1000" in text
    assert "--max-new-issues-per-minute N" in text and "default 100" in text


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--rate-limit", "-1"), ("--rate-burst", "0"), ("--max-new-issues-per-minute", "-5")],
)
def test_a_bad_limit_is_refused_with_its_flag_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    from inferwatch.cli import main

    store = str(tmp_path / "events.db")
    assert main(["serve", "--store", store, "--port", str(free_port()), flag, value]) == 2
    assert flag in capsys.readouterr().err
