"""The deployment ladder's third rung: several hosts, each with its own store, send to one
`inferwatch serve` through its DSN-style address, as any Sentry SDK does; the collector's
dashboard shows every host's issues."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import rows
from tests.reliability.conftest import KEY, served_collector

HOST_APP = """
import asyncio, sys
import httpx, inferwatch
from fastapi import FastAPI

host, dsn, store = sys.argv[1:4]
app = FastAPI()
inferwatch.init(app, dsn=dsn, store=store, server_name=host, release="chat@1.0")

@app.get("/chat")
async def chat():
    raise RuntimeError(f"{host} could not reach its model")

async def main():
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        assert (await client.get("/chat")).status_code == 500

asyncio.run(main())
assert inferwatch.flush(10)
"""


def run_host(host: str, dsn: str, store: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "INFERWATCH_"))}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    done = subprocess.run(
        [sys.executable, "-c", HOST_APP, host, dsn, str(store)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_two_hosts_with_their_own_stores_report_to_one_collector(tmp_path: Path) -> None:
    collector_store = tmp_path / "collector" / "events.db"
    with served_collector(collector_store) as (_, url):
        dsn = url.replace("http://", f"http://{KEY}@") + "/1"
        for host in ("web-a", "web-b"):
            run_host(host, dsn, tmp_path / host / "events.db")
        page = httpx.get(url + "/").text
    assert "web-a could not reach its model" in page
    assert "web-b could not reach its model" in page
    stored = [json.loads(r["data"]) for r in rows(collector_store, "SELECT data FROM events")]
    # Sentry's normalizer keeps the host as the `server_name` tag, as Sentry shows it
    assert sorted(e["tags"]["server_name"] for e in stored) == ["web-a", "web-b"]
    for host in ("web-a", "web-b"):  # and each host kept its own copy in its own store
        [own] = rows(tmp_path / host / "events.db", "SELECT data FROM events")
        assert json.loads(own["data"])["server_name"] == host
