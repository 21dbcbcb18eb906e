"""`inferwatch mcp --http`: MCP's streamable HTTP transport on loopback, with and without a token,
in a child process, reached by the `mcp` SDK's own HTTP client."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import free_port
from tests.mcp._client import call_json, command

TOKEN = "mcp-test-token-4f1c"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@contextmanager
def served(store: Path, *flags: str) -> Iterator[str]:
    """`inferwatch mcp --http` on a free loopback port; its URL, until the block ends."""
    port = free_port()
    argv = command(store, "--http", "--port", str(port), *flags)
    env = {**os.environ, "INFERWATCH_TOKEN": ""}
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        _wait_until_up(child, port)
        yield url
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)
        for pipe in (child.stdout, child.stderr):
            if pipe is not None:
                pipe.close()


def _wait_until_up(child: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if child.poll() is not None:
            err = child.stderr.read() if child.stderr else b""
            raise RuntimeError(f"inferwatch mcp exited: {err!r}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("inferwatch mcp --http did not start within 30 s")


@asynccontextmanager
async def http_session(
    url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[ClientSession]:
    async with (
        httpx2.AsyncClient(headers=headers or {}, timeout=30) as client,
        streamable_http_client(url, http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def test_on_loopback_the_tools_answer_over_http_without_a_token(seeded: Path) -> None:
    with served(seeded) as url:
        async with http_session(url) as session:
            names = {t.name for t in (await session.list_tools()).tools}
            issues = await call_json(session, "list_issues")
            report = await call_json(
                session, "get_issue", issue_id=issues["issues"][-1]["id"], format="json"
            )
    assert "get_issue" in names and "resolve_issue" not in names
    assert len(issues["issues"]) == 2
    assert report["event"]["model"]["name"] == "sentiment"


async def test_with_a_token_a_request_without_it_is_refused_and_one_with_it_answers(
    seeded: Path,
) -> None:
    with served(seeded, "--token", TOKEN) as url:
        bare = httpx.post(url, json=INITIALIZE, headers=MCP_HEADERS)
        wrong = httpx.post(
            url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": "Bearer nope"}
        )
        async with http_session(url, {"Authorization": f"Bearer {TOKEN}"}) as session:
            issues = await call_json(session, "list_issues")
    assert bare.status_code == 401 and bare.headers["WWW-Authenticate"] == "Bearer"
    assert wrong.status_code == 401
    assert TOKEN not in bare.text + wrong.text
    assert len(issues["issues"]) == 2


def test_through_a_reverse_proxy_on_loopback_the_token_is_required(seeded: Path) -> None:
    with served(seeded) as url:
        proxied = httpx.post(
            url, json=INITIALIZE, headers={**MCP_HEADERS, "X-Forwarded-For": "203.0.113.7"}
        )
        direct = httpx.post(url, json=INITIALIZE, headers=MCP_HEADERS)
    assert proxied.status_code == 403 and "--token" in proxied.text
    assert direct.status_code == 200
    assert json.loads(direct.text)["result"]["serverInfo"]["name"] == "inferwatch"


def test_a_host_header_naming_another_site_is_refused_on_loopback(seeded: Path) -> None:
    # DNS rebinding: a page on evil.example resolving its name to 127.0.0.1.
    with served(seeded) as url:
        rebound = httpx.post(
            url, json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example:8766"}
        )
    assert rebound.status_code == 403


@pytest.mark.parametrize("token", [[], ["--token", ""]])
def test_off_loopback_it_refuses_to_start_without_a_token(tmp_path: Path, token: list[str]) -> None:
    argv = command(tmp_path / "e.db", "--http", "--host", "0.0.0.0", "--port", "0", *token)
    env = {**os.environ, "INFERWATCH_TOKEN": ""}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "inferwatch: refusing to serve MCP on 0.0.0.0 without a token; pass --token TOKEN"
        " (or set INFERWATCH_TOKEN), or listen on 127.0.0.1"
    )
