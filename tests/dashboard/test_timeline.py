"""The timeline's log lines: a real uvicorn serves an instrumented app with its own start-up
log lines (logger `uvicorn.error`, INFO, each with a `color_message` extra full of ANSI codes);
the issue page of the crash that follows shows them by their level, without the noise."""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

import httpx
import inferwatch
import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port, rows
from tests.dashboard.conftest import Running

HTML = {"Accept": "text/html"}


def crash_under_uvicorn(store: Path) -> None:
    """Start the app under uvicorn at INFO (its start-up lines become breadcrumbs), crash it."""
    app = FastAPI()
    inferwatch.init(app, store=store, environ={})

    @app.get("/worker")
    def worker() -> None:  # a framework's own error line, as uvicorn writes one
        colour = {"color_message": "Worker \x1b[31m%s\x1b[0m died", "worker": 3}
        logging.getLogger("uvicorn.error").error("Worker %s died", 3, extra=colour)

    @app.get("/boom")
    def boom() -> None:
        logging.getLogger("app.jobs").warning("queue is \x1b[33mfull\x1b[0m", extra={"depth": 9})
        raise RuntimeError("boom")

    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="info")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert httpx.get(f"http://127.0.0.1:{config.port}/worker").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{config.port}/boom").status_code == 500
        assert inferwatch.flush(5)
    finally:
        server.should_exit = True
        thread.join(10)
        inferwatch.shutdown()


def issue_page(running: Running, title: str) -> str:
    [issue] = rows(running.store, "SELECT id FROM issues WHERE title LIKE ?", f"{title}%")
    return httpx.get(f"{running.url}/issues/{issue['id']}", headers=HTML).text


def timeline(running: Running) -> str:
    page = issue_page(running, "RuntimeError")
    return page[page.index('id="timeline"') :]


def rows_of(html: str) -> list[str]:
    return re.findall(r'<li class="tl [^"]*">.*?</li>', html, flags=re.S)


def test_framework_extras_and_colour_codes_are_left_out(running: Running) -> None:
    crash_under_uvicorn(running.store)
    shown = timeline(running)
    assert "Started server process" in shown  # the line is there...
    assert "color_message" not in shown and "\x1b" not in shown and "[36m" not in shown
    assert "queue is full" in shown  # ...and the app's own, with its own fields
    assert "{&#34;depth&#34;: 9}" in shown


def test_a_log_lines_level_decides_how_it_looks_not_its_logger_name(running: Running) -> None:
    crash_under_uvicorn(running.store)
    lines = rows_of(timeline(running))
    startup = next(r for r in lines if "Application startup complete" in r)
    assert "lvl-" not in startup.split(">", 1)[0]  # INFO: no warning or error colour
    assert '<span class="tl-kind">log</span>' in startup
    assert '<span class="tl-logger" title="logger">uvicorn.error</span>' in startup
    warning = next(r for r in lines if "queue is full" in r)
    assert "lvl-warning" in warning.split(">", 1)[0]
    assert '<span class="tl-kind">warning</span>' in warning


def test_an_error_logged_by_a_framework_shows_its_fields_without_console_extras(
    running: Running,
) -> None:
    crash_under_uvicorn(running.store)
    page = issue_page(running, "Worker 3 died")
    assert "color_message" not in page and "\x1b" not in page
    extra = page[page.index("<h2>Extra</h2>") :]
    assert "<th>worker</th>" in extra
