"""`inferwatch serve`: the collector, the dashboard and `/metrics` in one process.

Bound to loopback it needs no login, but a request through a reverse proxy (one carrying
`Forwarded` or `X-Forwarded-*`) does. Bound to any other address it refuses to start without a
token, and then the dashboard and `/metrics` ask for it; the ingest routes keep using the
public key and the allowed origins, as browsers and SDKs cannot carry a secret.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import logging
import socket
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ._errors import ConfigError, StoreError
from ._forward import Forwarder
from ._ids import port_argument
from ._metrics import enable as enable_metrics
from ._metrics_route import metrics_endpoint
from .alerts import AlertConfig, Alerter
from .alerts import add_arguments as add_alert_arguments
from .alerts import config_from_args as alert_config_from_args
from .collector import Collector, CollectorConfig, create_app, is_loopback_host, load_or_create_key
from .dashboard import Access, dashboard_router
from .dashboard._auth import NEEDS_TOKEN_BEHIND_PROXY
from .store import Store, _schema
from .store._retention import Pruner, Retention

logger = logging.getLogger("inferwatch")
Endpoint = Callable[[Request], Awaitable[Response]]


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
    retention: Retention = field(default_factory=Retention)
    retention_every_s: float = 600.0
    alerts: AlertConfig = field(default_factory=AlertConfig)

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
    parser.add_argument("--port", type=port_argument, default=8765)
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
    parser.add_argument("--max-events", type=int, default=Retention.max_events)
    parser.add_argument("--max-events-per-issue", type=int, default=Retention.max_events_per_issue)
    parser.add_argument("--max-age-days", type=float, default=Retention.max_age_days)
    add_alert_arguments(parser)


def config_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> ServeConfig:
    """The config of parsed `serve` flags; the token may come from `INFERWATCH_TOKEN`.

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
        retention=Retention(
            max_events=args.max_events,
            max_events_per_issue=args.max_events_per_issue,
            max_age_days=args.max_age_days,
        ),
        alerts=alert_config_from_args(args),
    )


@dataclass
class Served:
    """A built app and what it owns; `close()` drains the store and stops the threads."""

    app: FastAPI
    config: ServeConfig
    key: str
    collector: Collector
    alerter: Alerter | None = None
    pruner: Pruner | None = None

    def close(self) -> None:
        if self.pruner is not None:
            self.pruner.close()
        self.collector.close()  # its forwarders: what they could not send waits in the outbox
        self.collector.store.close()
        if self.alerter is not None:  # after the store: its last changes are alerted too
            self.alerter.close()


def build(config: ServeConfig) -> Served:
    """The one app of `inferwatch serve`: collector routes, dashboard at `/`, `/metrics`.

    >>> served = build(ServeConfig(store=Path("events.db")))  # doctest: +SKIP
    >>> uvicorn.run(served.app)                                # doctest: +SKIP
    """
    if not config.loopback and not config.token:
        raise ConfigError(
            f"inferwatch: refusing to serve the dashboard on {config.host} without a token;"
            " pass --token TOKEN (or set INFERWATCH_TOKEN), or listen on 127.0.0.1"
        )
    _prepare_store(config.store)
    key = config.key or load_or_create_key(config.store)
    collector = Collector(
        Store(config.store),
        CollectorConfig(
            key=key,
            allow_origins=config.allow_origins,
            loopback=config.loopback,
            dsn=config.dsn,
            tunnel_dsns=config.tunnel_dsns,
            tunnel_verbatim=config.tunnel_verbatim,
            rate_per_second=config.rate_limit,
            rate_burst=config.rate_burst,
            max_new_issues_per_minute=config.max_new_issues_per_minute,
        ),
    )
    access = Access(token=config.token, loopback=config.loopback)
    app = create_app(collector)
    tag = snippet_tag(config.public_url, key)
    app.include_router(dashboard_router(config.store, access, snippet=tag))
    served = Served(app, config, key, collector)

    def sources() -> tuple[Store, Forwarder | None]:
        return collector.store, collector.forwarder  # what /metrics reports the health of

    # A route, not a mount: a mount answers `/metrics` with a redirect to `/metrics/`.
    app.add_route("/metrics", _guarded(metrics_endpoint(sources), access), include_in_schema=False)
    served.pruner = Pruner(config.store, config.retention, every=config.retention_every_s)
    enable_metrics()  # the collector feeds the browser metrics
    served.alerter = _start_alerter(config, collector.store)
    return served


def _start_alerter(config: ServeConfig, store: Store) -> Alerter | None:
    """Webhook alerts on the store's new issues, regressions and spikes, when configured."""
    if not config.alerts.enabled:
        return None
    alerts = config.alerts
    if alerts.dashboard_url is None:
        alerts = dataclasses.replace(alerts, dashboard_url=config.public_url)
    alerter = Alerter(alerts)
    alerter.attach(store)
    return alerter


def _guarded(endpoint: Endpoint, access: Access) -> Endpoint:
    """`endpoint` behind the dashboard's access rule (Prometheus sends `Authorization: Bearer`)."""

    async def guarded(request: Request) -> Response:
        if access.allowed(request):
            return await endpoint(request)
        if not access.needs_login and access.proxied(request):
            return PlainTextResponse(NEEDS_TOKEN_BEHIND_PROXY, 403)
        return PlainTextResponse("A token is needed.", 401, {"WWW-Authenticate": "Bearer"})

    return guarded


def _prepare_store(path: Path) -> None:
    """Create (or bring up to date) the store, so the dashboard can read it from the start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _schema.connect(str(path))
        try:
            _schema.create(conn)
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"inferwatch: cannot create the store at {path}: {exc}") from exc


def _check_port(host: str, port: int) -> None:
    """Refuse a busy port before printing a banner that says we listen on it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise ConfigError(
                f"inferwatch: cannot listen on {host}:{port} ({exc.strerror}); is another"
                " inferwatch serve running? Choose another --port."
            ) from exc


def snippet_tag(url: str, key: str) -> str:
    """The `<script>` tag to paste into a page, for the collector at `url`.

    >>> snippet_tag("http://127.0.0.1:8765", "abc")  # doctest: +NORMALIZE_WHITESPACE
    '<script src="http://127.0.0.1:8765/iw/inferwatch.js" data-endpoint="http://127.0.0.1:8765/iw/ingest" data-key="abc"></script>'
    """
    base = html.escape(url.rstrip("/"), quote=True)
    return (
        f'<script src="{base}/iw/inferwatch.js" data-endpoint="{base}/iw/ingest"'
        f' data-key="{html.escape(key, quote=True)}"></script>'
    )


def banner(served: Served) -> str:
    """What `inferwatch serve` prints when it starts."""
    config, url = served.config, served.config.public_url
    lines = [
        f"inferwatch is listening on {url}",
        f"  dashboard   {url}/" + ("   (token required)" if config.token else ""),
        f"  ingest      {url}/iw/ingest   (key {served.key})",
        f"  sentry      {url}/api/<project>/envelope/",
        f"  metrics     {url}/metrics",
        f"  store       {config.store}",
        "",
        "Paste this into your page:",
        f"  {snippet_tag(url, served.key)}",
    ]
    return "\n".join(lines)


def run(config: ServeConfig) -> int:
    """Build the app, print the banner and serve until interrupted (`inferwatch serve`).

    >>> run(ServeConfig(store=Path(".inferwatch/events.db")))  # doctest: +SKIP
    """
    import uvicorn

    _check_port(config.host, config.port)
    served = build(config)
    print(banner(served), flush=True)
    try:
        uvicorn.run(served.app, host=config.host, port=config.port, log_level="warning")
    finally:
        served.close()
    return 0
