"""A real `inferwatch serve` app on loopback (uvicorn in a thread, a store under tmp_path)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from inferwatch.serve import ServeConfig, Served, build

from tests.conftest import LiveServer, free_port
from tests.dashboard._seed import KEY


@dataclass
class Running:
    url: str
    served: Served

    @property
    def store(self) -> Path:
        return self.served.config.store


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    port = free_port()
    served = build(ServeConfig(store=tmp_path / "events.db", port=port, key=KEY))
    try:
        with LiveServer(served.app, port) as server:
            yield Running(server.url, served)
    finally:
        served.close()
