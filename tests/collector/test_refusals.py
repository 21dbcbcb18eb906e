"""Refused snippet batches: a line a minute per key and origin in the log (a prefix of the key,
never the key), every refusal counted by reason on `/metrics`, and a reason the page can read."""

from __future__ import annotations

import json
import logging
import re
import signal
import time
from pathlib import Path

import httpx
import pytest
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.collector._refusals import TRACKED, Refusals
from inferwatch.store import Store

from tests.conftest import asgi_client
from tests.reliability.conftest import KEY, served_collector
from tests.test_disconnects import Clock, read_available

WRONG = "0ldkey0ldkey0ldkey0ldkey0ldkey99"
PAGE = "http://127.0.0.1:5173"
EVIL = "https://evil.example"


def test_one_line_a_minute_per_key_and_origin_with_a_prefix_of_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    refusals = Refusals(every=60, clock=clock)
    with caplog.at_level(logging.WARNING, logger="inferwatch"):
        for _ in range(5):
            refusals.note("wrong_key", "wrong key", key=WRONG, origin=PAGE)
        refusals.note("wrong_key", "wrong key", key=WRONG, origin="https://other.example")
        refusals.note("missing_key", "missing key", key=None, origin=PAGE)
        clock.now += 61
        refusals.note("wrong_key", "wrong key", key=WRONG, origin=PAGE)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        f"inferwatch: refused browser events from origin {PAGE} with key 0ldkey…: wrong key",
        "inferwatch: refused browser events from origin https://other.example with key 0ldkey…:"
        " wrong key",
        f"inferwatch: refused browser events from origin {PAGE} with key none: missing key",
        f"inferwatch: refused browser events from origin {PAGE} with key 0ldkey…: wrong key"
        " (4 more since the last such line)",
    ]
    assert WRONG not in caplog.text


def test_refusals_that_fix_themselves_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="inferwatch"):
        Refusals().note("rate_limited", "slow down", key=KEY, origin=PAGE)
        Refusals().note("too_large", "too large", key=KEY, origin=PAGE)
    assert caplog.records == []


def test_what_a_sender_puts_in_the_key_cannot_forge_log_lines_or_grow_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    refusals = Refusals(every=60, clock=clock)
    with caplog.at_level(logging.WARNING, logger="inferwatch"):
        refusals.note("wrong_key", "wrong key", key="ab\ncd\nINFO forged", origin=PAGE)
        for i in range(TRACKED + 500):
            refusals.note("wrong_key", "wrong key", key=f"{i:06d}-a-wrong-key", origin=PAGE)
    assert "\n" not in caplog.records[0].getMessage()
    assert len(caplog.records) == TRACKED  # the first TRACKED pairs; the rest wait a minute
    assert len(refusals._pairs) <= TRACKED
    clock.now += 61
    with caplog.at_level(logging.WARNING, logger="inferwatch"):
        refusals.note("wrong_key", "wrong key", key="a-new-key-xx", origin=PAGE)
    assert len(caplog.records) == TRACKED + 1
    assert len(refusals._pairs) <= TRACKED


async def test_the_page_can_read_why_its_batch_was_refused(tmp_path: Path) -> None:
    app = create_app(Collector(Store(tmp_path / "events.db"), CollectorConfig(key=KEY)))
    batch = json.dumps({"events": []})
    async with asgi_client(app) as client:
        wrong = await client.post(
            f"/iw/ingest?key={WRONG}", content=batch, headers={"origin": PAGE}
        )
        missing = await client.post("/iw/ingest", content=batch, headers={"origin": PAGE})
        evil = await client.post(f"/iw/ingest?key={KEY}", content=batch, headers={"origin": EVIL})
    assert (wrong.status_code, wrong.json()["error"]) == (
        403,
        "wrong key for this collector (see `inferwatch snippet`)",
    )
    assert missing.status_code == 401 and "missing key" in missing.json()["error"]
    assert evil.status_code == 403 and "is not allowed" in evil.json()["error"]
    for answer, origin in ((wrong, PAGE), (missing, PAGE), (evil, EVIL)):
        assert answer.headers["access-control-allow-origin"] == origin


def test_a_served_collector_logs_and_counts_refusals_by_reason(tmp_path: Path) -> None:
    with served_collector(tmp_path / "events.db", "--allow-origin", PAGE) as (child, url):
        assert child.stderr is not None
        batch = json.dumps({"events": []})
        for _ in range(3):
            httpx.post(f"{url}/iw/ingest?key={WRONG}", content=batch, headers={"origin": PAGE})
        httpx.post(f"{url}/iw/ingest", content=batch, headers={"origin": PAGE})
        httpx.post(f"{url}/iw/ingest?key={KEY}", content=batch, headers={"origin": EVIL})
        ok = httpx.post(f"{url}/iw/ingest?key={KEY}", content=batch, headers={"origin": PAGE})
        assert ok.status_code == 200
        metrics = httpx.get(f"{url}/metrics").text
        log = bytearray()
        deadline = time.monotonic() + 30
        while log.count(b"refused browser events") < 3 and time.monotonic() < deadline:
            read_available(child.stderr, log, 0.5)
        child.send_signal(signal.SIGTERM)
        read_available(child.stderr, log, 5)
    counted = dict(
        re.findall(r'^inferwatch_browser_refused_total\{reason="(\w+)"\} (\S+)$', metrics, re.M)
    )
    assert counted == {"wrong_key": "3.0", "missing_key": "1.0", "origin": "1.0"}
    lines = [line for line in log.decode().splitlines() if "refused browser events" in line]
    assert len(lines) == 3, lines  # one a key and origin this minute
    assert all(WRONG not in line for line in lines)
    assert any("with key 0ldkey…: wrong key" in line for line in lines)
