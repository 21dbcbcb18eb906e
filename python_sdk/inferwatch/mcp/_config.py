"""What `inferwatch mcp` takes: `McpConfig`, and the command-line flags that fill it."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .._errors import ConfigError
from .._ids import port_argument
from ..collector import is_loopback_host

DEFAULT_PORT = 8766  # beside `inferwatch serve`'s 8765, so both can run at once
PATH = "/mcp"  # where the streamable HTTP transport answers


@dataclass(frozen=True, kw_only=True)
class McpConfig:
    """Everything `inferwatch mcp` takes.

    >>> McpConfig(store=Path("events.db")).url
    'http://127.0.0.1:8766/mcp'
    """

    store: Path
    allow_write: bool = False
    http: bool = False
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token: str | None = None

    @property
    def loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def url(self) -> str:
        """Where an MCP client reaches the HTTP transport."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}{PATH}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `inferwatch mcp` (the store flag is added by the CLI, like every command)."""
    parser.add_argument(
        "--allow-write",
        action="store_true",
        help="also offer resolve_issue, which changes an issue's status (default: read-only)",
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="serve MCP's streamable HTTP transport instead of stdio",
    )
    parser.add_argument("--host", help="with --http: the address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=port_argument,
        help=f"with --http: the port to listen on (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--token",
        help="with --http: the Bearer token clients must send, required off loopback"
        " (or INFERWATCH_TOKEN)",
    )


def config_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> McpConfig:
    """The config of parsed `mcp` flags; the token may come from `INFERWATCH_TOKEN`.

    >>> config_from_args(parser.parse_args(["mcp", "--http"]), os.environ)  # doctest: +SKIP
    """
    given = [f"--{name}" for name in ("host", "port", "token") if getattr(args, name) is not None]
    if given and not args.http:
        raise ConfigError(
            f"inferwatch: {', '.join(given)} only apply with --http (stdio is the default)"
        )
    token = args.token or (environ.get("INFERWATCH_TOKEN") if args.http else None) or None
    config = McpConfig(
        store=Path(args.store),
        allow_write=args.allow_write,
        http=args.http,
        host=args.host or "127.0.0.1",
        port=DEFAULT_PORT if args.port is None else args.port,
        token=token,
    )
    if config.http and not config.loopback and not config.token:
        raise ConfigError(
            f"inferwatch: refusing to serve MCP on {config.host} without a token;"
            " pass --token TOKEN (or set INFERWATCH_TOKEN), or listen on 127.0.0.1"
        )
    return config
