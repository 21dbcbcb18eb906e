"""Nothing accepted is lost: what the collector answered 200 to survives `kill -9`.

(The SDK side, capture → flush → SIGKILL, is covered in tests/store/test_store.py.)
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.conftest import rows
from tests.reliability.conftest import (
    AUTH,
    ENVELOPE_URL,
    INGEST_URL,
    batch,
    browser_error,
    envelope,
    now_ms,
    sentry_event,
    served_collector,
)

N = 60


def test_every_browser_batch_answered_200_survives_kill_9_of_the_collector(
    store_path: Path,
) -> None:
    with served_collector(store_path) as (child, url), httpx.Client(base_url=url) as client:
        for i in range(N):
            click = {"type": "click", "ts": now_ms(), "session": "s", "selector": f"button#b{i}"}
            body = batch(browser_error(f"render failed in panel {i}"), click)
            response = client.post(INGEST_URL, content=body, headers={"content-type": "text/plain"})
            assert response.status_code == 200, response.text
            assert response.json()["accepted"] == 2
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    assert rows(store_path, "SELECT count(*) AS n FROM events") == [{"n": N}]
    assert rows(store_path, "SELECT count(*) AS n FROM browser_activity") == [{"n": N}]
    assert rows(store_path, "SELECT sum(count) AS n FROM issues") == [{"n": N}]


def test_every_envelope_answered_200_survives_kill_9_of_the_collector(store_path: Path) -> None:
    sent: list[str] = []
    with served_collector(store_path) as (child, url), httpx.Client(base_url=url) as client:
        for i in range(N):
            event = sentry_event(f"lookup {i} failed")
            response = client.post(ENVELOPE_URL, content=envelope(event), headers=AUTH)
            assert response.status_code == 200, response.text
            sent.append(event["event_id"])
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    stored = rows(store_path, "SELECT event_id FROM events ORDER BY id")
    assert [r["event_id"] for r in stored] == sent
