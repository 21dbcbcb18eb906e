"""A production build of the example page (Vite, minified, hidden source maps) crashed in real
Chromium, against `inferwatch serve` in a child process: the stored frames name the original
`src/...jsx` files, functions and lines, with context lines, whether the collector reads the
build folder (`--sourcemaps`) or was sent the maps (`inferwatch sourcemaps upload`), before or
after the crash; the minified frames are kept as `raw_stacktrace`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
from inferwatch.store import open_readonly
from playwright.sync_api import Browser

from examples.fastapi_app.app import Settings, create_app
from tests.conftest import LiveServer
from tests.reliability.conftest import served_collector

ROOT = Path(__file__).resolve().parents[2]
REACT = ROOT / "examples" / "react_app"
KEY = "inferwatch-demo"  # the key pasted in examples/react_app/index.html

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hidden_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example page built for production: minified, maps written but not referenced."""
    subprocess.run(["make", "--no-print-directory", "react"], cwd=ROOT, check=True)
    out = tmp_path_factory.mktemp("build") / "dist"
    vite = REACT / "node_modules" / ".bin" / "vite"
    command = [str(vite), "build", "--outDir", str(out), "--emptyOutDir"]
    command += ["--sourcemap", "hidden", "--minify", "oxc", "--logLevel", "warn"]
    subprocess.run(command, cwd=REACT, check=True)
    (script,) = (out / "assets").glob("index-*.js")
    assert "sourceMappingURL" not in script.read_text()[-300:]  # hidden: the page names no map
    return out


@pytest.fixture
def page_server(tmp_path: Path, hidden_build: Path) -> Callable[[str], Any]:
    """The example app serving the production build, its snippet pointed at `collector`."""

    def serve(collector: str) -> LiveServer:
        settings = Settings(
            store=tmp_path / "backend.db",
            environ={},
            collector_url=collector,
            react_dist=hidden_build,
            json_logs=False,
        )
        return LiveServer(create_app(settings))

    return serve


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """`inferwatch serve` on loopback with extra flags; its store path and URL."""
    started: list[Any] = []

    def start(*flags: str) -> tuple[Path, str]:
        store = tmp_path / "collector" / "events.db"
        context = served_collector(store, "--key", KEY, *flags)
        _, url = context.__enter__()
        started.append(context)
        return store, url

    yield start
    for context in started:
        context.__exit__(None, None, None)
    inferwatch.shutdown()


def crash(browser: Browser, url: str, *, react: bool = True) -> None:
    """Click the two bugs of the page: an unhandled rejection in `classify`, and a render crash
    in `ColourCard` caught by an `ErrorBoundary` (with React's component stack)."""
    page = browser.new_page()
    page.goto(url + "/")
    page.wait_for_function("() => window.inferwatch !== undefined")
    with page.expect_event("pageerror"):
        page.click("#classify-v2")
    if react:
        page.click("#upload-rgba")
        page.wait_for_selector(".crashed", timeout=20_000)
    page.close(run_before_unload=True)  # pagehide: the snippet sends what it holds


def browser_events(store: Path, count: int, seconds: float = 20) -> list[dict[str, Any]]:
    """The stored browser events, once there are `count` of them (newest last)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if store.exists():
            with open_readonly(store) as conn:
                rows = conn.execute(
                    "SELECT data FROM events WHERE platform = 'javascript' ORDER BY id"
                ).fetchall()
            if len(rows) >= count:
                return [json.loads(r["data"]) for r in rows]
        time.sleep(0.2)
    raise AssertionError(f"the store never held {count} browser events")


def by_type(events: list[dict[str, Any]], word: str) -> dict[str, Any]:
    (found,) = [e for e in events if word in e["exception"]["values"][-1]["value"]]
    return found


def frames(exception: dict[str, Any], key: str = "stacktrace") -> list[dict[str, Any]]:
    return list(exception[key]["frames"])


def assert_classify_resolved(event: dict[str, Any]) -> None:
    """The rejection in `classify` points at its line of src/App.jsx, with the lines around."""
    exception = event["exception"]["values"][-1]
    frame = frames(exception)[-1]
    assert frame["filename"].endswith("src/App.jsx")
    assert frame["function"] == "classify"
    assert frame["in_app"] is True
    source = (REACT / "src" / "App.jsx").read_text().splitlines()
    assert "data.label.toUpperCase()" in source[frame["lineno"] - 1]
    assert frame["context_line"] == source[frame["lineno"] - 1]
    assert frame["pre_context"][-1] == source[frame["lineno"] - 2]
    assert frame["post_context"][0] == source[frame["lineno"]]
    (raw,) = [
        f for f in frames(exception, "raw_stacktrace") if f["abs_path"] == frame["abs_path"]
    ] or [frames(exception, "raw_stacktrace")[-1]]
    assert "/assets/index-" in raw["abs_path"] and raw["abs_path"].endswith(".js")
    assert raw["lineno"] != frame["lineno"]  # the minified position, as the browser sent it


def assert_component_path_resolved(event: dict[str, Any]) -> None:
    """The render crash names `ColourCard` in src/App.jsx, and React's component stack is stored
    as frames resolved to the components' names, React's own frames out of the app."""
    exception = event["exception"]["values"][-1]
    app_frames = [f for f in frames(exception) if f["in_app"]]
    assert app_frames[-1]["function"] == "ColourCard"
    assert app_frames[-1]["filename"].endswith("src/App.jsx")
    assert any("node_modules/react-dom/" in f["filename"] for f in frames(exception))
    assert not any(f["in_app"] for f in frames(exception) if "node_modules" in f["filename"])
    components = event["exception"]["values"][0]
    assert components["type"].startswith("React ErrorBoundary")
    names = [f["function"] for f in frames(components)]
    assert names[-1] == "ColourCard"  # the minified stack says `oe`
    assert "ImagePanel" in names and any("ErrorBoundary" in n for n in names)
    assert [f["in_app"] for f in frames(components) if "ErrorBoundary" in f["function"]] == [
        False,
        False,
    ]  # inferwatch's own component, a library frame
    assert "raw_stacktrace" in components
    assert "ColourCard" not in event["contexts"]["react"]["componentStack"]  # minified text


def test_a_minified_crash_is_stored_resolved_through_the_build_folder(
    browser: Browser,
    page_server: Callable[[str], Any],
    collector: Callable[..., Any],
    hidden_build: Path,
) -> None:
    store, url = collector("--sourcemaps", str(hidden_build))
    with page_server(url) as page:
        crash(browser, page.url)
    events = browser_events(store, 2)
    assert_classify_resolved(by_type(events, "toUpperCase"))
    assert_component_path_resolved(by_type(events, "iterable"))
    frame = frames(by_type(events, "toUpperCase")["exception"]["values"][-1])[-1]
    assert frame["data"]["resolved_with"] == "path"

    with open_readonly(store) as conn:
        (issue,) = conn.execute("SELECT id FROM issues WHERE title LIKE '%iterable%'").fetchall()
    page_html = httpx.get(f"{url}/issues/{issue['id']}", headers={"Accept": "text/html"}).text
    path = page_html.split('class="component-path"')[1].split("</ol>")[0]
    assert path.index("ImagePanel") < path.rindex("ErrorBoundary") < path.index("ColourCard")
    assert "Minified frames, as the browser sent them" in page_html
    assert "const [r, g, b] = result.rgb;" in page_html  # the line that threw, from the map


def upload(folder: Path, url: str, *flags: str) -> str:
    command = [sys.executable, "-m", "inferwatch.cli", "sourcemaps", "upload", str(folder)]
    done = subprocess.run(
        [*command, "--url", url, "--key", KEY, *flags],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "INFERWATCH_TOKEN": ""},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_maps_uploaded_before_the_crash_resolve_it(
    browser: Browser,
    page_server: Callable[[str], Any],
    collector: Callable[..., Any],
    hidden_build: Path,
) -> None:
    store, url = collector()
    said = upload(hidden_build, url)
    assert "Uploaded 2 files (1 maps)" in said
    kept = store.parent / "sourcemaps"
    assert sorted(p.name for p in kept.rglob("*.js*")) == sorted(
        p.name for p in (hidden_build / "assets").glob("*.js*")
    )
    with page_server(url) as page:
        crash(browser, page.url)
    events = browser_events(store, 2)
    assert_classify_resolved(by_type(events, "toUpperCase"))
    assert_component_path_resolved(by_type(events, "iterable"))


def test_maps_uploaded_after_the_crash_resolve_it_and_its_next_crash_joins_its_issue(
    browser: Browser,
    page_server: Callable[[str], Any],
    collector: Callable[..., Any],
    hidden_build: Path,
) -> None:
    store, url = collector()
    with page_server(url) as page:
        crash(browser, page.url, react=False)
        (before,) = browser_events(store, 1)
        minified = frames(before["exception"]["values"][-1])[-1]
        assert "/assets/index-" in minified["filename"]  # nothing to resolve it with yet

        said = upload(hidden_build, url)
        assert "1 stored events resolved" in said
        (after,) = browser_events(store, 1)
        assert_classify_resolved(after)

        crash(browser, page.url, react=False)  # the same bug again, resolved on arrival
        again = browser_events(store, 2)
    assert_classify_resolved(again[-1])
    with open_readonly(store) as conn:
        issues = conn.execute("SELECT count, culprit FROM issues").fetchall()
    assert [
        (i["count"], i["culprit"].startswith("classify(") and i["culprit"].endswith("src/App.jsx)"))
        for i in issues
    ] == [(2, True)]
