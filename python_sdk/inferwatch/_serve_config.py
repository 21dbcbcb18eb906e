"""What `inferwatch serve` takes: `ServeConfig`, and the command-line flags that fill it."""

from __future__ import annotations

import argparse
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ._ids import port_argument
from ._options import otlp_headers
from .alerts import AlertConfig
from .alerts import add_arguments as add_alert_arguments
from .alerts import config_from_args as alert_config_from_args
from .collector import CollectorConfig, is_loopback_host
from .store._retention import Retention


@dataclass(frozen=True, kw_only=True)
class ServeConfig:
    """Everything `inferwatch serve` takes.

    >>> ServeConfig(store=Path("events.db")).port
    8765
    """

    store: Path
    host: str = "127.0.0.1"
    port: int = 8765
    key: str | None = None
    allow_origins: tuple[str, ...] = ()
    token: str | None = None
    dsn: str | None = None
    tunnel_dsns: tuple[str, ...] = ()
    tunnel_verbatim: bool = False
    rate_limit: float = CollectorConfig.rate_per_second
    rate_burst: int = CollectorConfig.rate_burst
    max_new_issues_per_minute: int = CollectorConfig.max_new_issues_per_minute
    max_attachment_bytes: int = CollectorConfig.max_attachment_bytes
    retention: Retention = field(default_factory=Retention)
    retention_every_s: float = 600.0
    alerts: AlertConfig = field(default_factory=AlertConfig)
    sourcemaps: tuple[Path, ...] = ()
    otlp_endpoint: str | None = None  # browser generations as spans to this OTLP/HTTP endpoint
    otlp_headers: dict[str, str] = field(default_factory=dict)

    @property
    def loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def public_url(self) -> str:
        """The URL to give browsers: the host as given, or this machine's name for `0.0.0.0`."""
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `inferwatch serve` (the store flag is added by the CLI, like every command)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=port_argument, default=8765, help="port to listen on")
    parser.add_argument("--key", help="public ingest key (default: kept beside the store)")
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="a page origin allowed to send events (repeatable)",
    )
    parser.add_argument(
        "--token", help="dashboard token, required off loopback (or INFERWATCH_TOKEN)"
    )
    parser.add_argument("--dsn", help="also forward browser errors to this Sentry DSN")
    parser.add_argument(
        "--tunnel-dsn",
        action="append",
        default=[],
        metavar="DSN",
        help="a Sentry DSN that pages using @sentry/browser may reach through /iw/tunnel (repeatable)",
    )
    parser.add_argument(
        "--tunnel-verbatim",
        action="store_true",
        help="forward tunnel envelopes byte for byte: unredacted, attachments and replays"
        " included (default: JSON items redacted, the rest dropped)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=CollectorConfig.rate_per_second,
        metavar="EVENTS_PER_SECOND",
        help="events a second each client (a key and an address) may send; a request costs a"
        " token per event and per 64 KiB; 0 turns limiting off (default %(default)g, enough for"
        " a busy backend sending every event from one host)",
    )
    parser.add_argument(
        "--rate-burst",
        type=int,
        default=CollectorConfig.rate_burst,
        metavar="N",
        help="events a client may send at once before --rate-limit applies; a larger request is"
        " refused (default %(default)d: an envelope of the most items the collector reads)",
    )
    parser.add_argument(
        "--max-new-issues-per-minute",
        type=int,
        default=CollectorConfig.max_new_issues_per_minute,
        metavar="N",
        help="issues the ingest key may open a minute; events past it that would open more are"
        " dropped, events of known issues are kept; 0: no cap (default %(default)d)",
    )
    parser.add_argument(
        "--otlp-endpoint",
        metavar="URL",
        help="send the browser's generation timing as spans to this OTLP/HTTP endpoint, e.g."
        " http://collector:4318 (or OTEL_EXPORTER_OTLP_ENDPOINT; needs inferwatch[otel])",
    )
    parser.add_argument(
        "--max-attachment-bytes",
        type=int,
        default=CollectorConfig.max_attachment_bytes,
        metavar="N",
        help="largest attachment (a log file, a screenshot, a minidump) a Sentry SDK may store"
        " beside its event, kept as sent and only ever offered as a download; 0 stores none"
        " (default %(default)d)",
    )
    add_retention_arguments(parser)
    parser.add_argument(
        "--sourcemaps",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a build output folder whose source maps resolve browser stacks, read when needed"
        " and again when it changes (repeatable; see docs/sourcemaps.md)",
    )
    add_alert_arguments(parser)


def add_retention_arguments(parser: argparse.ArgumentParser) -> None:
    """The retention flags of `serve` (applied every ten minutes) and `prune` (once)."""
    parser.add_argument(
        "--max-events", type=int, default=Retention.max_events, help="events kept in all"
    )
    parser.add_argument(
        "--max-events-per-issue",
        type=int,
        default=Retention.max_events_per_issue,
        help="events kept for each issue (the issue and its counts stay)",
    )
    parser.add_argument(
        "--max-age-days",
        type=float,
        default=Retention.max_age_days,
        help="older events, generations, usage and requests are deleted",
    )


def config_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> ServeConfig:
    """The config of parsed `serve` flags; the token may come from `INFERWATCH_TOKEN`, the OTLP
    endpoint and its headers from `OTEL_EXPORTER_OTLP_ENDPOINT` and `_HEADERS`.

    >>> config_from_args(parser.parse_args(["serve"]), os.environ)  # doctest: +SKIP
    """
    return ServeConfig(
        store=Path(args.store),
        host=args.host,
        port=args.port,
        key=args.key,
        allow_origins=tuple(args.allow_origin),
        token=args.token or environ.get("INFERWATCH_TOKEN") or None,
        dsn=args.dsn,
        tunnel_dsns=tuple(args.tunnel_dsn),
        tunnel_verbatim=args.tunnel_verbatim,
        rate_limit=args.rate_limit,
        rate_burst=args.rate_burst,
        max_new_issues_per_minute=args.max_new_issues_per_minute,
        max_attachment_bytes=args.max_attachment_bytes,
        retention=Retention(
            max_events=args.max_events,
            max_events_per_issue=args.max_events_per_issue,
            max_age_days=args.max_age_days,
        ),
        alerts=alert_config_from_args(args),
        sourcemaps=tuple(args.sourcemaps),
        otlp_endpoint=args.otlp_endpoint or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        otlp_headers=otlp_headers(environ.get("OTEL_EXPORTER_OTLP_HEADERS", "")),
    )
