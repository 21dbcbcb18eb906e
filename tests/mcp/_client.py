"""The `mcp` SDK's own client, connected to `inferwatch mcp` in a child process over stdio."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult, TextContent


def command(store: Path, *flags: str) -> list[str]:
    """`inferwatch mcp` as this test run imports it (the worktree's code, not an installed copy)."""
    return [sys.executable, "-m", "inferwatch.cli", "mcp", "--store", str(store), *flags]


@asynccontextmanager
async def stdio_session(store: Path, *flags: str) -> AsyncIterator[ClientSession]:
    """An initialised MCP session with `inferwatch mcp --store STORE FLAGS` over stdio."""
    argv = command(store, *flags)
    params = StdioServerParameters(
        command=argv[0],
        args=argv[1:],
        env={"PYTHONPATH": os.environ.get("PYTHONPATH", ""), "INFERWATCH_TOKEN": ""},
    )
    with tempfile.TemporaryFile("w+") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def text(result: CallToolResult) -> str:
    """The one text block a tool answers with."""
    assert len(result.content) == 1 and isinstance(result.content[0], TextContent)
    return result.content[0].text


async def call(session: ClientSession, tool: str, **arguments: Any) -> str:
    """A tool's answer, which must not be an error."""
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, text(result)
    return text(result)


async def call_json(session: ClientSession, tool: str, **arguments: Any) -> Any:
    return json.loads(await call(session, tool, **arguments))


async def refused(session: ClientSession, tool: str, **arguments: Any) -> str:
    """The message of a tool call that must be answered as a tool error."""
    result = await session.call_tool(tool, arguments)
    assert result.is_error, text(result)
    return text(result)
