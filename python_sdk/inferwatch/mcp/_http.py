"""`inferwatch mcp --http`: MCP's streamable HTTP transport, behind the dashboard's access rule.

On loopback no token is needed, but the `Host` header must name this machine (DNS rebinding)
and a request that came through a reverse proxy needs the token; off loopback the server does
not start without one, and every request must carry `Authorization: Bearer TOKEN`. Wrong tokens
are slowed down per client address, as the dashboard's are.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..dashboard import Access
from ..dashboard._auth import FailureLimit
from ..serve import _check_port
from ._config import PATH, McpConfig

BEHIND_PROXY = (
    "This MCP server is reached through a reverse proxy, which makes it public: start"
    " inferwatch mcp --http with --token TOKEN (or set INFERWATCH_TOKEN) to use it from there."
)


class TokenGuard:
    """A pure ASGI wrapper that lets through only the requests `access` allows."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app, self.access = app, access
        self.failures = FailureLimit()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the lifespan, which starts the session manager
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.access.allowed(request):
            await self.app(scope, receive, send)
            return
        await self._refusal(request)(scope, receive, send)

    def _refusal(self, request: Request) -> Response:
        if not self.access.host_allowed(request):
            return PlainTextResponse("This MCP server only answers to localhost.", 403)
        if not self.access.needs_login and self.access.proxied(request):
            return PlainTextResponse(BEHIND_PROXY, 403)
        if "authorization" in request.headers:
            client = request.client.host if request.client else "-"
            if self.failures.blocked(client):
                return PlainTextResponse(
                    "Too many wrong tokens; wait a little.", 429, {"Retry-After": "5"}
                )
            self.failures.failed(client)
        return PlainTextResponse(
            "A token is needed: send Authorization: Bearer TOKEN.",
            401,
            {"WWW-Authenticate": "Bearer"},
        )


def http_app(server: MCPServer[Any], config: McpConfig) -> ASGIApp:
    """The server's streamable HTTP app at `/mcp`, stateless (every request stands alone, so
    any number of agents may connect) and answering in JSON, behind `TokenGuard`."""
    app = server.streamable_http_app(
        streamable_http_path=PATH, stateless_http=True, json_response=True, host=config.host
    )
    return TokenGuard(app, Access(token=config.token, loopback=config.loopback))


def serve_http(server: MCPServer[Any], config: McpConfig) -> int:
    """Listen on `config.host:config.port` until Ctrl-C."""
    import uvicorn

    _check_port(config.host, config.port)
    app = http_app(server, config)
    token = "   (token required)" if config.token else ""
    print(f"inferwatch mcp is listening on {config.url}{token}", flush=True)
    print(f"  store       {config.store}", flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning")
    return 0
