"""The built snippet in real Chromium, posting to a real collector on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store, latest_event, list_issues, open_readonly
from playwright.sync_api import Browser

from tests.conftest import LiveServer, rows
from tests.reliability.conftest import served_collector

ROOT = Path(__file__).parents[2]
SNIPPET = ROOT / "js_snippet"
KEY = "e2ekey42"

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>chat</title>
<script src="{collector}/iw/inferwatch.js" data-endpoint="{collector}/iw/ingest" data-key="{key}"></script>
</head><body>
<form><input name="prompt" id="prompt"><input type="password" name="password" id="pw"></form>
<button id="send" class="primary" onclick="onSend()">Send</button>
<script>
function onSend() {{
  console.error("failed to fetch answer for", {{status: 502}});
  var g = inferwatch.generation("chat", {{model: "tiny-gpt"}});
  g.firstToken();
  g.end({{status: "ok", outputTokens: 12}});
  Promise.reject(new Error("stream closed early"));
  throw new TypeError("answer.text is undefined");
}}
</script></body></html>"""


def page_server(html: str, assets: dict[str, bytes] | None = None) -> LiveServer:
    app = FastAPI()

    @app.get("/")
    async def index() -> HTMLResponse:
        return HTMLResponse(html)

    @app.get("/assets/{name}")
    async def asset(name: str) -> Response:
        return Response((assets or {})[name], media_type="application/javascript")

    return LiveServer(app)


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    """Poll until `check()` is truthy: the beacon is sent as the page goes away."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


@pytest.fixture
def collector(store_path: Path) -> Any:
    store = Store(store_path)
    store.flush()
    with LiveServer(create_app(Collector(store, CollectorConfig(key=KEY)))) as server:
        yield server
    store.close()


def issues_with_events(store_path: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    with open_readonly(store_path) as conn:
        return [(i, latest_event(conn, i["id"])) for i in list_issues(conn)]


def test_a_page_with_the_snippet_reports_errors_with_breadcrumbs_and_a_generation(
    browser: Browser, collector: LiveServer, store_path: Path
) -> None:
    with page_server(PAGE.format(collector=collector.url, key=KEY)) as site:
        page = browser.new_page()
        page.goto(site.url)
        page.fill("#prompt", "my prompt text")
        page.fill("#pw", "hunter2")
        page.click("#send")
        page.wait_for_timeout(200)  # let the rejection and the error handlers run
        page.close(run_before_unload=True)

    found = wait_for(lambda: len(issues_with_events(store_path)) >= 2)
    assert found, "the collector never received the two errors"
    by_title = {i["title"]: (i, e) for i, e in issues_with_events(store_path)}
    assert set(by_title) == {"TypeError: answer.text is undefined", "Error: stream closed early"}
    for issue, event in by_title.values():
        assert issue["platform"] == "javascript"
        crumbs = event["breadcrumbs"]["values"]
        clicks = [c["message"] for c in crumbs if c["category"] == "ui.click"]
        consoles = [c["message"] for c in crumbs if c["category"] == "console"]
        assert any("button#send" in c for c in clicks)
        assert any("failed to fetch answer" in c for c in consoles)
    _, thrown = by_title["TypeError: answer.text is undefined"]
    assert thrown["exception"]["values"][-1]["stacktrace"]["frames"][-1]["function"] == "onSend"
    assert thrown["tags"]["mechanism"] == "onerror"
    [gen] = wait_for(lambda: rows(store_path, "SELECT * FROM generations"))
    assert (gen["source"], gen["model"], gen["status"]) == ("browser", "tiny-gpt", "ok")
    assert gen["first_chunk_ms"] is not None and gen["session_id"]
    stored = json.dumps(rows(store_path, "SELECT data FROM events"))
    assert "hunter2" not in stored and "my prompt text" not in stored


REACT_ENTRY = """
import React from "react";
import { createRoot } from "react-dom/client";
import { init } from "{dist}/inferwatch.mjs";
import { ErrorBoundary, reactErrorHandler } from "{dist}/react.mjs";

init({ endpoint: window.IW_ENDPOINT, key: window.IW_KEY });

function Answer() {
  const [broken, setBroken] = React.useState(false);
  if (broken) throw new Error("render exploded on empty answer");
  return React.createElement("button", { id: "bomb", onClick: () => setBroken(true) }, "Explode");
}

createRoot(document.getElementById("root"), {
  onUncaughtError: reactErrorHandler(),
  onRecoverableError: reactErrorHandler(),
}).render(
  React.createElement(
    ErrorBoundary,
    { fallback: React.createElement("p", { id: "fallback" }, "Something broke") },
    React.createElement(Answer),
  ),
);
"""


def build_react_page(tmp_path: Path) -> bytes:
    entry = tmp_path / "entry.js"
    entry.write_text(REACT_ENTRY.replace("{dist}", str(SNIPPET / "dist")))
    out = tmp_path / "bundle.js"
    esbuild = SNIPPET / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [
            str(esbuild),
            str(entry),
            "--bundle",
            "--format=iife",
            f"--outfile={out}",
            '--define:process.env.NODE_ENV="production"',
            "--log-level=warning",
        ],
        check=True,
        env={**os.environ, "NODE_PATH": str(SNIPPET / "node_modules")},
    )
    return out.read_bytes()


def test_the_react_error_boundary_reports_render_errors_with_the_component_stack(
    browser: Browser, collector: LiveServer, store_path: Path, tmp_path: Path
) -> None:
    html = (
        "<!doctype html><html><body><div id='root'></div>"
        f"<script>window.IW_ENDPOINT='{collector.url}/iw/ingest';window.IW_KEY='{KEY}';</script>"
        "<script src='/assets/bundle.js'></script></body></html>"
    )
    with page_server(html, {"bundle.js": build_react_page(tmp_path)}) as site:
        page = browser.new_page()
        page.goto(site.url)
        page.click("#bomb")
        assert page.text_content("#fallback") == "Something broke"
        page.close(run_before_unload=True)

    found = wait_for(lambda: issues_with_events(store_path))
    assert found, "the collector never received the React error"
    [(issue, event)] = found
    assert issue["title"] == "Error: render exploded on empty answer"
    assert event["tags"]["mechanism"] == "react"
    assert "Answer" in event["contexts"]["react"]["componentStack"]  # as @sentry/react keeps it
    assert any(
        c["category"] == "ui.click" and "#bomb" in c["message"]
        for c in event["breadcrumbs"]["values"]
    )


CONTEXT_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>context</title>
<script src="{collector}/iw/inferwatch.js" data-endpoint="{collector}/iw/ingest" data-key="{key}"
        data-release="shop@2.0.1" data-environment="staging"></script>
</head><body>
<button id="fail" onclick="console.error('could not parse the answer:', new SyntaxError('Unexpected token <'))">parse</button>
<button id="log" onclick="console.error('a plain line about', {{status: 502}})">log</button>
<button id="crash" onclick="throw new TypeError('answer.text is undefined')">crash</button>
</body></html>"""


def test_browser_errors_carry_the_page_the_user_agent_and_console_errors_with_an_error(
    browser: Browser, collector: LiveServer, store_path: Path
) -> None:
    with page_server(CONTEXT_PAGE.format(collector=collector.url, key=KEY)) as site:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(site.url, referer="https://search.example/results?q=ai")
        seen = page.evaluate(
            "() => [navigator.userAgent, navigator.connection && navigator.connection.effectiveType]"
        )
        page.click("#log")
        page.click("#fail")
        page.click("#crash")
        page.wait_for_timeout(200)
        page.close(run_before_unload=True)

    assert wait_for(lambda: len(issues_with_events(store_path)) >= 2)
    by_title = {i["title"]: e for i, e in issues_with_events(store_path)}
    assert set(by_title) == {
        "SyntaxError: Unexpected token <",
        "TypeError: answer.text is undefined",
    }, "a console.error line without an Error stays a breadcrumb"
    logged = by_title["SyntaxError: Unexpected token <"]
    assert logged["tags"]["mechanism"] == "console"
    assert logged["exception"]["values"][-1]["stacktrace"]["frames"], "with its stack"
    crumbs = [c["message"] for c in logged["breadcrumbs"]["values"] if c["category"] == "console"]
    assert any("a plain line about" in c for c in crumbs)
    for event in by_title.values():
        user_agent, connection = seen
        assert dict(event["request"]["headers"]) == {
            "User-Agent": user_agent,
            "Referer": "https://search.example/results?q=ai",
        }
        # Sentry's normalizer reads the user agent into the browser's and the OS's contexts
        assert "Chrome" in event["contexts"]["browser"]["name"]  # HeadlessChrome here
        assert event["contexts"]["os"]["name"]
        page_context = {"type": "page", "viewport": "390x844"}
        if connection:
            page_context["effective_connection_type"] = connection
        assert event["contexts"]["page"] == page_context
        assert (event["release"], event["environment"]) == ("shop@2.0.1", "staging")


def test_a_wrong_key_is_said_once_in_the_console_and_counted_by_the_collector(
    browser: Browser, tmp_path: Path
) -> None:
    with served_collector(tmp_path / "events.db") as (_, url):
        html = PAGE.format(collector=url, key="0ld-key-from-last-year")
        with page_server(html) as site:
            page = browser.new_page()
            warnings: list[str] = []
            page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
            page.goto(site.url)
            page.fill("#prompt", "hello")
            page.click("#send")
            deadline = time.monotonic() + 15
            while not warnings and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            page.click("#send")  # more errors: nothing more is sent, nothing more is said
            page.wait_for_timeout(1500)
            page.close(run_before_unload=True)
        metrics = httpx.get(f"{url}/metrics").text
    assert warnings == ["inferwatch: wrong key for this collector (see `inferwatch snippet`)"], (
        warnings
    )
    assert 'inferwatch_browser_refused_total{reason="wrong_key"} 1.0' in metrics
