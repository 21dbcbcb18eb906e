"""A store seeded through the real ingest routes: a backend crash with its model context, and
a browser session whose click and generation led to that crash's request."""

from __future__ import annotations

from pathlib import Path

import pytest
from inferwatch.serve import ServeConfig, build

from tests.conftest import LiveServer, free_port
from tests.dashboard._seed import KEY, seed_backend, seed_browser

CLICK = "button#classify"


def seed(store: Path) -> None:
    """Two backend requests (one fails in the model) and, in the browser, the click and the
    generation that sent the failing request (`req-1`), then a browser error."""
    served = build(ServeConfig(store=store, port=free_port(), key=KEY))
    try:
        with LiveServer(served.app, served.config.port) as server:
            seed_backend(store, ["boom one", "fine"], request_ids=["req-1", "req-2"])
            seed_browser(
                server.url,
                message="Cannot read properties of undefined",
                selector=CLICK,
                request_id="req-1",
            )
    finally:
        served.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded store shared by a module's tests, which only read it."""
    store = tmp_path_factory.mktemp("mcp") / "events.db"
    seed(store)
    return store


@pytest.fixture
def writable(tmp_path: Path) -> Path:
    """A seeded store of the test's own, for the tests that change it."""
    store = tmp_path / "events.db"
    seed(store)
    return store
