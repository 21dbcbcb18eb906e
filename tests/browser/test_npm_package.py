"""The npm package as an app gets it: `npm pack` of js_snippet, installed into a fresh React 19 +
Vite app (no alias, no plugin of ours) whose entry is the README's React block as written, built
with `vite build`, served, and run in Chromium against `inferwatch serve`: the ErrorBoundary and
the three root handlers report, each error once, with the component stack."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from inferwatch.store import latest_event, list_issues, open_readonly
from playwright.sync_api import Browser

from tests.conftest import LiveServer
from tests.reliability.conftest import KEY, served_collector

ROOT = Path(__file__).parents[2]
README_ENDPOINT = "'http://127.0.0.1:8765/iw/ingest'"  # as the README's React block writes them
README_KEY = "key: 'KEY'"

pytestmark = pytest.mark.browser

PACKAGE_JSON = {
    "name": "fresh-react-app",
    "private": True,
    "type": "module",
    "scripts": {"build": "vite build"},
    "dependencies": {"react": "^19.2.0", "react-dom": "^19.2.0"},
    "devDependencies": {"vite": "^8.0.0", "@vitejs/plugin-react": "^6.0.0"},
}
VITE_CONFIG = """import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({ plugins: [react()] });
"""
INDEX_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>fresh app</title></head>
<body><div id="root"></div><div id="widget"></div>
<script type="module" src="/src/main.jsx"></script></body></html>
"""
# What the README's block renders: a card behind its own boundary, a component React recovers
# from, and a widget in a root of its own with no boundary at all (an uncaught error).
APP_JSX = """import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ErrorBoundary, onCaughtError, onRecoverableError, onUncaughtError } from 'inferwatch/react';

let first = true;
// throws in its first render only: React renders the root again, and recovers
function Flaky() {
  if (first) {
    first = false;
    throw new Error('flaky first render');
  }
  return <p id="recovered">recovered</p>;
}

function Card() {
  const [broken, setBroken] = useState(false);
  if (broken) throw new TypeError('card render failed on an empty answer');
  return <button id="break-card" onClick={() => setBroken(true)}>break the card</button>;
}

function Widget() {
  throw new RangeError('widget render failed');
}

function openWidget() {
  const roots = { onUncaughtError, onCaughtError, onRecoverableError };
  createRoot(document.getElementById('widget'), roots).render(<Widget />);
}

export function App() {
  return (
    <main>
      <Flaky />
      <ErrorBoundary fallback={<p id="card-fallback">The card broke.</p>}>
        <Card />
      </ErrorBoundary>
      <button id="open-widget" onClick={openWidget}>open the widget</button>
    </main>
  );
}
"""


def readme_react_block() -> str:
    """The README's React entry, as a user would copy it."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```jsx\n(.*?)^```$", text, re.S | re.M)
    (block,) = [b for b in blocks if "from 'inferwatch/react'" in b and "init(" in b]
    return block


def run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    store = tmp_path_factory.mktemp("collector") / "events.db"
    with served_collector(store) as (_, url):
        yield url, store


@pytest.fixture(scope="module")
def built_app(tmp_path_factory: pytest.TempPathFactory, collector: tuple[str, Path]) -> Path:
    """A fresh app with the packed tarball installed from the registry's React, Vite and React
    plugin, its entry the README's block with this collector's URL and key, built for production."""
    if not shutil.which("npm"):
        pytest.skip("npm is not installed")
    url, _ = collector
    work = tmp_path_factory.mktemp("npm-app")
    run(["npm", "pack", "--pack-destination", str(work)], cwd=ROOT / "js_snippet")
    (tarball,) = work.glob("inferwatch-*.tgz")
    app = work / "app"
    (app / "src").mkdir(parents=True)
    package = {**PACKAGE_JSON, "dependencies": {"inferwatch": f"file:{tarball}"}}
    package["dependencies"].update(PACKAGE_JSON["dependencies"])  # type: ignore[arg-type]
    (app / "package.json").write_text(json.dumps(package, indent=2))
    (app / "vite.config.js").write_text(VITE_CONFIG)
    (app / "index.html").write_text(INDEX_HTML)
    entry = readme_react_block()
    assert README_ENDPOINT in entry and README_KEY in entry
    entry = entry.replace(README_ENDPOINT, repr(f"{url}/iw/ingest")).replace(
        README_KEY, f"key: '{KEY}'"
    )
    (app / "src" / "main.jsx").write_text(entry)
    (app / "src" / "App.jsx").write_text(APP_JSX)
    run(["npm", "install", "--no-audit", "--no-fund"], cwd=app)
    installed = app / "node_modules" / "inferwatch"
    assert not installed.is_symlink() and (installed / "dist" / "react.mjs").exists()
    run(["npm", "run", "build"], cwd=app)
    return app / "dist"


def component_frames(event: dict[str, Any]) -> list[str]:
    return [
        line for line in event["contexts"]["react"]["componentStack"].splitlines() if line.strip()
    ]


def static_site(dist: Path) -> LiveServer:
    site = FastAPI()
    site.mount("/", StaticFiles(directory=dist, html=True))
    return LiveServer(site)


def browser_errors(store: Path, expected: int) -> list[dict[str, Any]]:
    """The stored browser errors, once `expected` issues are there (or after a while)."""
    deadline = time.monotonic() + 20
    while True:
        with open_readonly(store) as conn:
            found = [latest_event(conn, i["id"]) for i in list_issues(conn, platform="javascript")]
        if len(found) >= expected or time.monotonic() > deadline:
            return [e for e in found if e]
        time.sleep(0.2)


def test_the_packed_package_reports_boundary_and_root_errors_once_with_the_component_stack(
    browser: Browser, built_app: Path, collector: tuple[str, Path]
) -> None:
    _, store = collector
    built = "\n".join(p.read_text() for p in (built_app / "assets").glob("*.js"))
    assert "inferwatch" in built and "captureConsole" in built  # the package, bundled by Vite
    with static_site(built_app) as site:
        page = browser.new_page()
        page_errors: list[str] = []
        page.on("pageerror", lambda e: page_errors.append(str(e)))
        page.goto(site.url + "/")
        page.wait_for_selector("#recovered")
        page.click("#break-card")
        page.wait_for_selector("#card-fallback")
        page.click("#open-widget")
        page.wait_for_function("() => document.getElementById('widget').innerHTML === ''")
        errors = browser_errors(store, 3)
        page.close()

    by_type = {e["exception"]["values"][-1]["type"]: e for e in errors}
    assert len(errors) == 3 and set(by_type) == {"Error", "TypeError", "RangeError"}, [
        (e["exception"]["values"][-1]["type"], e["exception"]["values"][-1]["value"])
        for e in errors
    ]
    for event in errors:  # each error once: the boundary, console and window hooks add nothing
        assert event["tags"]["mechanism"] == "react"
        assert event["extra"]["count"] == 1
        assert event["release"] == "1.4.0"
        assert all(f.strip().startswith("at ") for f in component_frames(event))
    caught, uncaught, recovered = by_type["TypeError"], by_type["RangeError"], by_type["Error"]
    # Card, its ErrorBoundary, <main>, App and the README's ErrorBoundary (names minified by Vite)
    assert len(component_frames(caught)) == 5 and "at main " in component_frames(caught)[2]
    (widget,) = component_frames(uncaught)  # alone in its root
    assert "/assets/index-" in widget
    assert caught["exception"]["values"][-1]["mechanism"] == {"type": "react", "handled": True}
    assert uncaught["exception"]["values"][-1]["mechanism"] == {"type": "react", "handled": False}
    assert recovered["exception"]["values"][-1]["mechanism"]["handled"] is True
    causes = [v["value"] for v in recovered["exception"]["values"]]
    assert "flaky first render" in causes  # the cause, in the chain with the component stack
    assert any("widget render failed" in e for e in page_errors), "React's default still runs"
