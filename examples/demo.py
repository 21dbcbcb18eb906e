"""`make demo`: the collector and dashboard, the example app, and a short scripted visit.

    .venv/bin/python examples/demo.py            # what `make demo` runs; Ctrl-C stops it
    .venv/bin/python examples/demo.py --once     # the visit, a summary, then stop

It starts `inferwatch serve` on http://127.0.0.1:8765 and the example app on
http://127.0.0.1:8000 (both writing to `.inferwatch/demo/events.db`, emptied at each start),
then drives the page in headless Chromium: a few prompts, the sample photo, and every failure
mode, so the dashboard has issues with model context and browser timelines, generations and
usage to show. It stops the processes it started, and only those.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEY = "inferwatch-demo"  # the public key pasted in examples/react_app/index.html
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


class DemoError(Exception):
    """Something the person running the demo can fix; printed without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # A closed terminal or `kill` stops the demo like Ctrl-C, and Ctrl-C works even where the
    # shell started the demo with SIGINT ignored (a background job): its processes stop too.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        return run(args)
    except DemoError as exc:
        print(f"\ndemo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopped.")
        return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--collector-port", type=int, default=8765)
    parser.add_argument("--app-port", type=int, default=8000)
    parser.add_argument("--store", type=Path, default=ROOT / ".inferwatch" / "demo" / "events.db")
    parser.add_argument("--once", action="store_true", help="stop after the visit")
    parser.add_argument("--cold-start", type=float, default=5.0, help="seconds (default 5)")
    parser.add_argument("--screenshots", type=Path, help="save dashboard screenshots here")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    collector = f"http://127.0.0.1:{args.collector_port}"
    app = f"http://127.0.0.1:{args.app_port}"
    for port in (args.collector_port, args.app_port):
        ensure_free(port)
    ensure_built()
    fresh_store(args.store)
    with ExitStack() as stack:
        print(f"Starting the collector and dashboard on {collector} ...")
        serving = stack.enter_context(
            started(
                args.store.parent / "collector.log",
                serve_command(args),
                f"{collector}/iw/inferwatch.js",
            )
        )
        print(f"Starting the example app on {app} ...")
        example = stack.enter_context(
            started(
                args.store.parent / "app.log", app_command(args), f"{app}/api/health", app_env(args)
            )
        )
        print("Visiting the page in headless Chromium (prompts, uploads, the failure modes) ...")
        visit(app, args.store, args.screenshots, collector)
        summary(args.store)
        print(f"\n  dashboard    {collector}/\n  example app  {app}/\n  store        {args.store}")
        print(f"  CLI          {cli()} issues --store {args.store}")
        if args.once:
            return 0
        print("\nServing until Ctrl-C.")
        return watch([serving, example])


def cli() -> str:
    """How to call the `inferwatch` command from the folder the demo was started in."""
    command = BIN / "inferwatch"
    try:
        return str(command.relative_to(Path.cwd()))
    except ValueError:
        return str(command)


def watch(processes: list[subprocess.Popen[bytes]]) -> int:
    """Wait for Ctrl-C (or SIGTERM); a process that dies on its own ends the demo too."""
    while True:
        for process in processes:
            if process.poll() is not None:
                raise DemoError(f"{process.args[0]} exited with {process.returncode}; see its log")
        time.sleep(1)


def ensure_free(port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise DemoError(
                f"port {port} on 127.0.0.1 is in use ({exc.strerror}). Stop whatever listens "
                f"there (is another `make demo` running? `lsof -i :{port}` tells), or pass "
                "--collector-port / --app-port."
            ) from exc


def ensure_built() -> None:
    if not (ROOT / "examples" / "react_app" / "dist" / "index.html").exists():
        raise DemoError("the React page is not built: run `make demo` (or `make react`) first.")


def fresh_store(store: Path) -> None:
    """The demo store starts empty each run, so what the dashboard shows is this run's."""
    store.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)


def serve_command(args: argparse.Namespace) -> list[str]:
    return [
        str(BIN / "inferwatch"),
        "serve",
        "--store",
        str(args.store),
        "--host",
        "127.0.0.1",
        "--port",
        str(args.collector_port),
        "--key",
        KEY,
        "--sourcemaps",  # the page's build: its crashes are stored resolved to src/
        str(ROOT / "examples" / "react_app" / "dist"),
    ]


def app_command(args: argparse.Namespace) -> list[str]:
    return [
        str(BIN / "python"),
        "-m",
        "uvicorn",
        "examples.fastapi_app.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(args.app_port),
        "--no-access-log",
    ]


def app_env(args: argparse.Namespace) -> dict[str, str]:
    return {
        "INFERWATCH_STORE": str(args.store),
        "EXAMPLE_COLLECTOR_URL": f"http://127.0.0.1:{args.collector_port}",
        "EXAMPLE_COLD_START_S": str(args.cold_start),
    }


@contextmanager
def started(
    log_path: Path, command: list[str], ready_url: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` until the block ends; ready once `ready_url` answers. Output goes to a log."""
    log = log_path.open("w")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches the demo, which then stops its children in order
    )
    try:
        wait_ready(process, ready_url, log.name)
        yield process
    finally:
        stop(process)
        log.close()


def wait_ready(process: subprocess.Popen[bytes], url: str, log: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = Path(log).read_text(errors="replace")[-2000:]
            raise DemoError(f"{process.args[0]} exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise DemoError(f"{url} did not answer within 30 s (log: {log})")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # SIGTERM: uvicorn shuts down cleanly and inferwatch flushes
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def visit(app: str, store: Path, screenshots: Path | None, collector: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(app + "/")
        page.wait_for_function("() => window.inferwatch !== undefined")
        use_the_models(page)
        break_things(page, app)
        if screenshots:
            screenshots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshots / "example-app.png"), full_page=True)
        page.close(run_before_unload=True)  # pagehide: the snippet sends what it holds
        settle(store)
        if screenshots:
            dashboard_screenshots(browser, collector, screenshots)
        browser.close()


def use_the_models(page: Any) -> None:
    for prompt in ("The model woke up", "A user typed a question", "The dashboard showed"):
        page.fill("#prompt", prompt)
        page.click("#generate")
        page.wait_for_selector("#answer[data-state='done']", timeout=30_000)
    page.click("#classify")
    page.wait_for_selector("#sentiment:has-text('POSITIVE')")
    page.fill("#sentence", "It keeps crashing, awful and slow")
    page.click("#classify")
    page.wait_for_selector("#sentiment:has-text('NEGATIVE')")
    page.click("#upload-sample")
    page.wait_for_selector("#colour")
    page.click("#summarise")
    page.wait_for_selector("#assistant:has-text('%')")


def break_things(page: Any, app: str) -> None:
    """Every failure mode of the debugging table, from the page's red buttons."""
    with page.expect_event("pageerror"):  # empty prediction: the page's unhandled rejection
        page.click("#classify-v2")
    page.click("#upload-text")  # wrong file type: refused with 415, reported
    page.wait_for_selector(".message:has-text('not an image')")
    page.click("#upload-rgba")  # bad input shape: 500, and the result card crashes
    page.wait_for_selector(".crashed")
    page.click("#summarise-long")  # the LLM's JSON cut at max_tokens: 500 after it answered
    page.wait_for_selector("#assistant:has-text('failed')")
    page.click("#generate-large")  # cold start slower than the timeout: 504
    page.wait_for_selector("#answer[data-state='cold']", timeout=30_000)
    wait_for_large_model(app)
    page.click("#generate-large")  # loaded now: the preload the fix would do
    page.wait_for_selector("#answer[data-state='done']", timeout=30_000)


def settle(store: Path, limit_s: float = 10.0) -> None:
    """Wait until the store stops growing: the page's last batch and the app's writes are in."""
    from inferwatch.store import open_readonly

    def size() -> tuple[int, ...]:
        with open_readonly(store) as conn:
            tables = ("events", "generations", "usage")
            return tuple(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables)

    deadline = time.monotonic() + limit_s
    last = size()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = size()
        if now == last:
            return
        last = now


def wait_for_large_model(app: str) -> None:
    deadline = time.monotonic() + 60
    while not httpx.get(f"{app}/api/health").json()["models"]["large_loaded"]:
        if time.monotonic() > deadline:
            raise DemoError("the large model did not load within 60 s")
        time.sleep(0.25)


def dashboard_screenshots(browser: Any, collector: str, out: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    for name, path in (("issues", "/"), ("generations", "/generations"), ("usage", "/usage")):
        page.goto(collector + path)
        page.screenshot(path=str(out / f"dashboard-{name}.png"), full_page=True)
    # a backend crash explained by its model context, a browser crash by its clicks
    for name, title in (("issue-model", "EmptyPrediction"), ("issue-browser", "toUpperCase")):
        page.goto(collector + "/")
        page.get_by_role("link", name=re.compile(title)).first.click()
        page.screenshot(path=str(out / f"dashboard-{name}.png"), full_page=True)
    page.close()


def chromium() -> str:
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    raise DemoError("Chromium is not installed: `make demo` installs it (`make chromium`).")


def summary(store: Path) -> None:
    from inferwatch.store import list_generations, list_issues, list_usage, open_readonly

    with open_readonly(store) as conn:
        issues = list_issues(conn)
        generations = list_generations(conn, limit=1000)
        usage = list_usage(conn, limit=1000)
    print(f"\nThe store now holds {len(issues)} issues:")
    for issue in issues:
        print(f"  #{issue['id']:<3} {issue['platform']:<11} {issue['title'][:90]}")
    by_source: dict[str, int] = {}
    for g in generations:
        by_source[g["source"]] = by_source.get(g["source"], 0) + 1
    print(
        f"and {len(generations)} generation records {json.dumps(by_source)}, {len(usage)} usage records."
    )


if __name__ == "__main__":
    sys.exit(main())
