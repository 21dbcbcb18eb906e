"""`inferwatch mcp`: a Model Context Protocol server over the store, for coding agents.

An agent in the editor lists the issues, reads one with its model context, its timeline and its
stack with source lines, and looks up generations and their latencies, through the same queries
the dashboard and the CLI use. The MCP SDK is the optional extra `inferwatch[mcp]`: nothing of
it is imported until `run` is called.

>>> run(McpConfig(store=Path(".inferwatch/events.db")))  # doctest: +SKIP
"""

from __future__ import annotations

import sys

from .._errors import ConfigError
from ._config import McpConfig, add_arguments, config_from_args

MISSING_SDK = (
    "inferwatch: `inferwatch mcp` needs the MCP SDK, an optional extra:"
    " pip install 'inferwatch[mcp]'"
)


def run(config: McpConfig) -> int:
    """Serve MCP on stdio (the default) or streamable HTTP, until the client or Ctrl-C ends it."""
    try:
        from ._server import build_server
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] in ("mcp", "mcp_types"):
            raise ConfigError(MISSING_SDK) from None
        raise
    # stderr: stdout is the protocol's.
    if config.store.exists():
        print(f"inferwatch: store {config.store}", file=sys.stderr)
    else:
        print(
            f"inferwatch mcp: no store at {config.store} yet; the tools will say so until"
            " something is captured.",
            file=sys.stderr,
        )
    server = build_server(config)
    if config.http:
        from ._http import serve_http

        return serve_http(server, config)
    server.run("stdio")
    return 0


__all__ = ["McpConfig", "add_arguments", "config_from_args", "run"]
