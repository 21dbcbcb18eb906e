"""The example React page in real Chromium, against the example app and a collector on loopback:
the story streams, the browser's generation record (with time to first token) joins the
backend's by request id, and a crash carries the click that caused it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import inferwatch
import pytest
from inferwatch.collector import Collector, CollectorConfig
from inferwatch.collector import create_app as create_collector
from inferwatch.store import Store, latest_event, list_generations, list_issues, open_readonly

from examples.fastapi_app.app import Settings, create_app
from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
KEY = "inferwatch-demo"  # the key pasted in examples/react_app/index.html
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed (make chromium)"),
]


@pytest.fixture(scope="module")
def built_page() -> Path:
    """The page as `make demo` builds it (npm ci + vite build; nothing to do when up to date)."""
    subprocess.run(["make", "--no-print-directory", "react"], cwd=ROOT, check=True)
    return ROOT / "examples" / "react_app" / "dist"


@pytest.fixture
def servers(tmp_path: Path, built_page: Path) -> Iterator[tuple[str, Path]]:
    store_path = tmp_path / "events.db"
    collector = Collector(Store(store_path), CollectorConfig(key=KEY))
    with LiveServer(create_collector(collector)) as ingest:
        settings = Settings(
            store=store_path,
            environ={},
            collector_url=ingest.url,
            react_dist=built_page,
            first_token_s=0.2,
            word_s=0.05,
            load_timeout_s=0.3,  # the large model's cold start (6 s) outlasts it: a 504
            json_logs=False,
        )
        with LiveServer(create_app(settings)) as app:
            yield app.url, store_path
        inferwatch.shutdown()
    collector.store.close()


def wait_for(read: Callable[[], Any], what: str, seconds: float = 15) -> Any:
    """Poll the store until `read` finds something (the snippet sends in batches)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"the store never held {what}")


def generations(store: Path, source: str) -> list[dict[str, Any]]:
    inferwatch.flush(5)
    with open_readonly(store) as conn:
        return [g for g in list_generations(conn) if g["source"] == source]


def browser_issues(store: Path) -> list[dict[str, Any]]:
    with open_readonly(store) as conn:
        return [
            {**i, "event": latest_event(conn, i["id"])}
            for i in list_issues(conn, platform="javascript")
        ]


def test_the_page_streams_a_story_times_it_and_reports_a_crash_with_its_click(
    servers: tuple[str, Path],
) -> None:
    from playwright.sync_api import sync_playwright

    url, store = servers
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.goto(url + "/")
        page.wait_for_function("() => window.inferwatch !== undefined")
        # count how many times the answer changes while it streams
        page.evaluate(
            """() => { window.updates = 0; new MutationObserver(() => window.updates++)
                 .observe(document.querySelector('#answer'),
                          { childList: true, subtree: true, characterData: true }); }"""
        )
        page.fill("#prompt", "The model woke up")
        page.click("#generate")
        page.wait_for_selector("#answer[data-state='done']", timeout=20_000)
        answer = page.text_content("#answer") or ""
        assert len(answer.split()) > 3
        assert page.evaluate("window.updates") > 3  # word by word, not all at the end

        page.click("#generate-large")
        page.wait_for_selector("#answer[data-state='cold']", timeout=20_000)

        with page.expect_event("pageerror"):  # the unhandled rejection, after the 500
            page.click("#classify-v2")
        page.close(run_before_unload=True)  # pagehide: the snippet sends what it holds
        browser.close()

    def story(source: str) -> list[dict[str, Any]]:
        return [g for g in generations(store, source) if g["model"] == "story-ngram"]

    (seen,) = wait_for(lambda: story("browser"), "the browser's generation record")
    assert seen["model"] == "story-ngram" and seen["status"] == "ok"
    assert seen["first_chunk_ms"] is not None and seen["first_chunk_ms"] <= seen["duration_ms"]
    (served,) = story("backend")
    assert served["request_id"] == seen["request_id"]  # one generation, from click to model

    # the large model's 504: the page and the backend name the model alike, so the page's
    # wait and the backend's failed load are one generation on the Generations page
    def large(source: str) -> list[dict[str, Any]]:
        return [g for g in generations(store, source) if g["model"] == "story-large"]

    (waited_large,) = wait_for(lambda: large("browser"), "the browser's record of the 504")
    (failed_load,) = large("backend")
    assert waited_large["status"] == failed_load["status"] == "error"
    assert waited_large["request_id"] == failed_load["request_id"]

    (crash,) = wait_for(lambda: browser_issues(store), "a browser crash")
    assert "toUpperCase" in crash["title"]
    clicks = [b for b in crash["event"]["breadcrumbs"]["values"] if b["category"] == "ui.click"]
    assert "button#classify-v2" in clicks[-1]["message"]

    # the click's request, as the browser timed it, is the one the backend's report is about
    (waited,) = [g for g in generations(store, "browser") if g["model"] == "sentiment"]
    assert waited["status"] == "error"
    with open_readonly(store) as conn:
        (backend,) = [
            i for i in list_issues(conn, platform="python") if i["title"].startswith("Empty")
        ]
        event = latest_event(conn, backend["id"]) or {}
    assert event["tags"]["request_id"] == waited["request_id"]
