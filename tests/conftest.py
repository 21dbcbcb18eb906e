"""Shared fixtures: a real store under tmp_path, inferwatch initialised and torn down per test."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
import uvicorn
from inferwatch.store import open_readonly


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run browser tests last: Playwright's sync API holds an event loop in the main thread."""

    def uses_browser(item: pytest.Item) -> bool:
        return item.get_closest_marker("browser") is not None or "browser" in getattr(
            item, "fixturenames", ()
        )

    items.sort(key=uses_browser)


@pytest.fixture(autouse=True)
def _restore_global_state() -> Iterator[None]:
    """`init` is process-wide (sentry-sdk); every test starts and ends without it."""
    yield
    inferwatch.shutdown()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "events.db"


Events = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def stored_events(store_path: Path) -> Events:
    """Flush, then read every stored event back from the SQLite file (like `capture_events`)."""

    def read() -> list[dict[str, Any]]:
        assert inferwatch.flush(5)
        with open_readonly(store_path) as conn:
            rows = conn.execute("SELECT data FROM events ORDER BY id").fetchall()
        return [json.loads(r["data"]) for r in rows]

    return read


def rows(store_path: Path, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of a query against the store file, as dicts."""
    with open_readonly(store_path) as conn:
        return [dict(r) for r in conn.execute(sql, args)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real uvicorn server on loopback, in a thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def asgi_client(app: Any) -> httpx.AsyncClient:
    """An httpx client calling `app` in-process; app exceptions become 500s as on a server."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
