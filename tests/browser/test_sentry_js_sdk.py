"""The real @sentry/browser, bundled into a page in real Chromium, pointed at the collector.

Its DSN names the collector (`http://KEY@127.0.0.1:PORT/1`): the error shows up in
`inferwatch issues`. With `tunnel`, the same SDK keeps its upstream DSN and the collector keeps a
copy and forwards the envelope, redacted (Sentry is respx here: it is outside the machine).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from inferwatch._envelope import parse
from inferwatch.cli import main
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store
from playwright.sync_api import Browser

from tests.browser.test_snippet_e2e import wait_for
from tests.conftest import LiveServer, rows

SNIPPET = Path(__file__).parents[2] / "js_snippet"
KEY = "5e4f3a2b9a8b7c6d"
UPSTREAM_DSN = "https://b5d4c3b2a1f0e9d8@o77.ingest.example.com/4242"
UPSTREAM = "https://o77.ingest.example.com/api/4242/envelope/"

pytestmark = pytest.mark.browser

ENTRY = """
import * as Sentry from "@sentry/browser";
Sentry.init({ dsn: window.SENTRY_DSN, tunnel: window.SENTRY_TUNNEL, release: "web@1.0.0" });
Sentry.setTag("page", "chat");
Sentry.setUser({ id: "u-42", email: "shopper@example.com" });
document.getElementById("send").addEventListener("click", () => {
  throw new Error("answer panel crashed for order 1234");
});
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("sentry-page")
    (folder / "entry.js").write_text(ENTRY)
    out = folder / "bundle.js"
    subprocess.run(
        [
            str(SNIPPET / "node_modules" / ".bin" / "esbuild"),
            str(folder / "entry.js"),
            "--bundle",
            "--format=iife",
            f"--outfile={out}",
            "--log-level=warning",
        ],
        check=True,
        env={**os.environ, "NODE_PATH": str(SNIPPET / "node_modules")},
    )
    return out.read_bytes()


@pytest.fixture
def collector(store_path: Path) -> Iterator[LiveServer]:
    store = Store(store_path)
    store.flush()
    collector = Collector(store, CollectorConfig(key=KEY, tunnel_dsns=(UPSTREAM_DSN,)))
    with LiveServer(create_app(collector)) as server:
        yield server
    collector.close()
    store.close()


def visit(browser: Browser, bundle: bytes, settings: str) -> None:
    app = FastAPI()

    @app.get("/")
    async def index() -> HTMLResponse:
        return HTMLResponse(
            f"<!doctype html><button id='send'>Send</button><script>{settings}"
            "</script><script src='/bundle.js'></script>"
        )

    @app.get("/bundle.js")
    async def script() -> Response:
        return Response(bundle, media_type="application/javascript")

    with LiveServer(app) as site:  # another origin than the collector's
        page = browser.new_page()
        page.goto(site.url)
        page.click("#send")
        page.wait_for_timeout(300)
        page.close()


def test_sentry_browser_with_the_collectors_dsn_shows_its_error_in_inferwatch_issues(
    browser: Browser,
    bundle: bytes,
    collector: LiveServer,
    store_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dsn = f"http://{KEY}@127.0.0.1:{collector.port}/1"
    visit(browser, bundle, f"window.SENTRY_DSN = {json.dumps(dsn)};")
    assert wait_for(lambda: rows(store_path, "SELECT id FROM events")), "no event arrived"
    assert main(["issues", "--json", "--store", str(store_path)]) == 0
    [issue] = json.loads(capsys.readouterr().out)
    assert issue["title"] == "Error: answer panel crashed for order 1234"
    assert issue["platform"] == "javascript" and issue["release"] == "web@1.0.0"
    assert main(["show", str(issue["id"]), "--json", "--store", str(store_path)]) == 0
    event = json.loads(capsys.readouterr().out)["latest_event"]
    assert event["tags"]["page"] == "chat"
    assert any(c.get("category") == "ui.click" for c in event["breadcrumbs"]["values"])


@respx.mock
def test_sentry_browser_through_the_tunnel_is_forwarded_and_kept_locally(
    browser: Browser, bundle: bytes, collector: LiveServer, store_path: Path
) -> None:
    respx.route(host="127.0.0.1").pass_through()
    sentry = respx.post(UPSTREAM).mock(return_value=httpx.Response(200, json={}))
    settings = (
        f"window.SENTRY_DSN = {json.dumps(UPSTREAM_DSN)};"
        f"window.SENTRY_TUNNEL = {json.dumps(collector.url + '/iw/tunnel')};"
    )
    visit(browser, bundle, settings)

    def forwarded_error() -> bool:
        # The SDK sends envelopes of its own too (a session), in an order of its own.
        return any(b"answer panel crashed" in c.request.content for c in sentry.calls)

    assert wait_for(forwarded_error), "the tunnel never forwarded the error's envelope"
    # Each envelope was rebuilt with its items redacted: the user's email never left.
    for call in sentry.calls:
        body = call.request.content
        assert parse(body).headers["dsn"] == UPSTREAM_DSN
        assert b"shopper@example.com" not in body
    error = next(c for c in sentry.calls if b"answer panel crashed" in c.request.content)
    [event] = [i.json() for i in parse(error.request.content).items if i.type == "event"]
    assert event["user"]["id"] == "u-42" and event["tags"]["page"] == "chat"
    # forwarded first, then stored: the tunnel answers once both are done
    titles = wait_for(lambda: [r["title"] for r in rows(store_path, "SELECT title FROM issues")])
    assert titles == ["Error: answer panel crashed for order 1234"]
