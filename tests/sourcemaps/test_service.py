"""The collector with source maps: browser and Sentry SDK events resolved before they are
grouped, events stored before their maps resolved when the maps come, and their issues grouped
again, so a minified and a resolved crash of one bug are one issue."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store

from tests.conftest import asgi_client, rows

from .conftest import SCRIPT, SITE, Build

KEY = "testkey123"


def browser_error(stack: str, session: str = "s1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "error",
        "ts": time.time() * 1000,
        "session": session,
        "url": f"{SITE}/cart",
        "name": "TypeError",
        "message": "Cannot read properties of undefined (reading 'rate')",
        "stack": stack,
        **extra,
    }


class Running:
    def __init__(self, collector: Collector, http: httpx.AsyncClient) -> None:
        self.collector, self.http = collector, http

    @property
    def store(self) -> Path:
        return self.collector.store.path

    async def send(self, *events: dict[str, Any]) -> None:
        answer = await self.http.post(
            f"/iw/ingest?key={KEY}",
            content=json.dumps({"events": list(events)}),
            headers={"Content-Type": "text/plain"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["accepted"] == len(events)

    def events(self) -> list[dict[str, Any]]:
        return [
            json.loads(r["data"]) for r in rows(self.store, "SELECT data FROM events ORDER BY id")
        ]

    def issues(self) -> list[dict[str, Any]]:
        return rows(self.store, "SELECT * FROM issues ORDER BY id")


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    folder = tmp_path / "watched"
    folder.mkdir()
    config = CollectorConfig(key=KEY, sourcemap_dirs=(folder,))
    collector = Collector(Store(tmp_path / "store" / "events.db"), config)
    async with asgi_client(create_app(collector)) as http:
        yield Running(collector, http)
    collector.close()
    collector.store.close()


def innermost(event: dict[str, Any]) -> dict[str, Any]:
    return dict(event["exception"]["values"][-1]["stacktrace"]["frames"][-1])


def wait_until(check: Any, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("it never happened")
        time.sleep(0.05)


async def test_events_stored_before_their_maps_are_resolved_when_the_folder_changes(
    running: Running, build: Build, crash_stack: str
) -> None:
    await running.send(browser_error(crash_stack))
    (before,) = running.events()
    assert innermost(before)["filename"] == f"/{SCRIPT}"
    running.collector.sourcemaps.watch(every=0.05)

    shutil.copytree(build.dist, running.collector.config.sourcemap_dirs[0], dirs_exist_ok=True)

    wait_until(lambda: innermost(running.events()[0])["filename"] == "src/checkout.js")
    (after,) = running.events()
    assert innermost(after)["function"] == "applyDiscount"
    assert (
        after["exception"]["values"][-1]["raw_stacktrace"]
        == before["exception"]["values"][-1]["stacktrace"]
    )
    (issue,) = running.issues()
    assert issue["culprit"] == "applyDiscount(src/checkout.js)"  # Sentry's JavaScript culprit


async def test_a_minified_and_a_resolved_crash_of_one_bug_are_one_issue(
    running: Running, build: Build, crash_stack: str
) -> None:
    await running.send(browser_error(crash_stack, session="before-the-deploy-s-maps"))
    shutil.copytree(build.dist, running.collector.config.sourcemap_dirs[0], dirs_exist_ok=True)
    assert running.collector.sourcemaps.backfill() == 1  # as after an upload

    await running.send(browser_error(crash_stack, session="after"))

    first, second = running.events()
    assert innermost(first) == innermost(second)
    (issue,) = running.issues()
    assert issue["count"] == 2
    assert rows(running.store, "SELECT affected FROM issue_stats") == [{"affected": 2}]


async def test_one_bug_from_two_builds_is_merged_into_the_older_issue(
    running: Running, build: Build, crash_stack: str
) -> None:
    other = "assets/main-77aa00.js"
    await running.send(browser_error(crash_stack, session="old-build"))
    await running.send(browser_error(crash_stack.replace(SCRIPT, other), session="new-build"))
    older, younger = running.issues()
    assert older["fingerprint"] != younger["fingerprint"]  # minified: one issue a build

    folder = running.collector.config.sourcemap_dirs[0]
    shutil.copytree(build.dist, folder, dirs_exist_ok=True)
    shutil.copy(build.script, folder / other)
    shutil.copy(build.map, folder / (other + ".map"))
    assert running.collector.sourcemaps.backfill() == 2

    (merged,) = running.issues()
    assert merged["id"] == older["id"]
    assert merged["count"] == 2
    assert merged["culprit"] == "applyDiscount(src/checkout.js)"
    assert {r["issue_id"] for r in rows(running.store, "SELECT issue_id FROM events")} == {
        older["id"]
    }
    hours = rows(running.store, "SELECT issue_id, count FROM issue_hours")
    assert {h["issue_id"] for h in hours} == {older["id"]}
    assert sum(h["count"] for h in hours) == 2
    assert rows(running.store, "SELECT issue_id, affected FROM issue_stats") == [
        {"issue_id": older["id"], "affected": 2}
    ]


async def test_a_sentry_sdk_s_browser_event_is_resolved_on_arrival(
    running: Running, build: Build, crash_event: Any
) -> None:
    shutil.copytree(build.dist, running.collector.config.sourcemap_dirs[0], dirs_exist_ok=True)
    event = crash_event(event_id=uuid.uuid4().hex, timestamp=time.time())
    payload = json.dumps(event).encode()
    body = b"\n".join(
        [b"{}", json.dumps({"type": "event", "length": len(payload)}).encode(), payload]
    )
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=7"}
    answer = await running.http.post("/api/1/envelope/", content=body, headers=auth)
    assert answer.status_code == 200, answer.text
    (stored,) = running.events()
    assert innermost(stored)["function"] == "applyDiscount"
    assert "raw_stacktrace" in stored["exception"]["values"][-1]


async def test_react_s_component_stack_is_stored_as_frames(running: Running) -> None:
    stack = "\n    at Card (http://app.test/assets/main.js:1:20)\n    at div\n    at App (http://app.test/assets/main.js:1:10)"
    await running.send(
        browser_error(
            "TypeError: x\n    at Card (http://app.test/assets/main.js:1:25)", componentStack=stack
        )
    )
    (event,) = running.events()
    components, error = event["exception"]["values"]
    assert components["type"] == "React ErrorBoundary TypeError"
    assert [f["function"] for f in components["stacktrace"]["frames"]] == ["App", "Card"]
    assert error["type"] == "TypeError"  # the primary error, which the issue is grouped by
    assert event["contexts"]["react"]["componentStack"] == stack
    assert "componentStack" not in event.get("extra", {})
