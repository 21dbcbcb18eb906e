"""`inferwatch serve`: the collector, the dashboard and `/metrics` in one process.

Bound to loopback it needs no login, but a request through a reverse proxy (one carrying
`Forwarded` or `X-Forwarded-*`) does. Bound to any other address it refuses to start without a
token, and then the dashboard and `/metrics` ask for it; the ingest routes keep using the
public key and the allowed origins, as browsers and SDKs cannot carry a secret.
"""

from __future__ import annotations

import dataclasses
import html
import socket
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ._errors import ConfigError, StoreError
from ._forward import Forwarder
from ._metrics import enable as enable_metrics
from ._metrics_route import metrics_endpoint
from ._serve_address import announce, withdraw
from ._serve_config import ServeConfig, add_arguments, config_from_args
from ._store_location import absolute
from ._two_stores import two_stores_warning
from .alerts import Alerter
from .collector import Collector, CollectorConfig, create_app, load_or_create_key
from .collector._normalize import relay
from .dashboard import Access, dashboard_router
from .dashboard._auth import NEEDS_TOKEN_BEHIND_PROXY
from .sourcemaps._upload import upload_router
from .store import Store, _schema
from .store._pruner import Pruner

if TYPE_CHECKING:
    from .export._browser import GenerationSpans

Endpoint = Callable[[Request], Awaitable[Response]]


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
    spans = _generation_spans(config)
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
            sourcemap_dirs=config.sourcemaps,
            max_attachment_bytes=config.max_attachment_bytes,
            max_event_age_days=config.retention.max_age_days,
        ),
        generation_spans=spans,
    )
    relay()  # Sentry's normalizer, loaded now: a missing one is said at start, not per event
    access = Access(token=config.token, loopback=config.loopback)
    app = create_app(collector)
    tag = snippet_tag(config.public_url, key)
    app.include_router(dashboard_router(config.store, access, snippet=tag))
    app.include_router(upload_router(collector, access))
    collector.sourcemaps.watch()
    served = Served(app, config, key, collector)

    def sources() -> tuple[Store, Forwarder | None]:
        return collector.store, collector.forwarder  # what /metrics reports the health of

    # A route, not a mount: a mount answers `/metrics` with a redirect to `/metrics/`.
    endpoint = metrics_endpoint(sources, extra=(collector.ingest,))
    app.add_route("/metrics", _guarded(endpoint, access), include_in_schema=False)
    served.pruner = Pruner(config.store, config.retention, every=config.retention_every_s)
    enable_metrics()  # the collector feeds the browser metrics
    served.alerter = _start_alerter(config, collector.store)
    return served


def _generation_spans(config: ServeConfig) -> GenerationSpans | None:
    """The browser's generations as spans, with `--otlp-endpoint` (the OpenTelemetry SDK is
    imported only then)."""
    if not config.otlp_endpoint:
        return None
    parts = urlsplit(config.otlp_endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            "inferwatch: --otlp-endpoint must be an http(s) URL such as http://collector:4318,"
            f" got {config.otlp_endpoint!r}"
        )
    try:
        from .export._browser import GenerationSpans
        from .export._otel import OtlpExporter
    except ImportError as exc:
        raise ConfigError(
            "inferwatch: --otlp-endpoint needs the OpenTelemetry SDK: pip install 'inferwatch[otel]'"
        ) from exc
    resource = {"service.name": "inferwatch-browser"}
    exporter = OtlpExporter(config.otlp_endpoint, config.otlp_headers, resource, metrics=False)
    return GenerationSpans(exporter)


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


def snippet_tag(
    url: str, key: str, *, release: str | None = None, environment: str | None = None
) -> str:
    """The `<script>` tag to paste into a page, for the collector at `url`; the snippet puts
    `release` and `environment` on every event.

    >>> snippet_tag("http://127.0.0.1:8765", "abc", release="1.4.0")  # doctest: +NORMALIZE_WHITESPACE
    '<script src="http://127.0.0.1:8765/iw/inferwatch.js" data-endpoint="http://127.0.0.1:8765/iw/ingest" data-key="abc" data-release="1.4.0"></script>'
    """
    base = html.escape(url.rstrip("/"), quote=True)
    attrs = {"key": key, "release": release, "environment": environment}
    data = "".join(f' data-{k}="{html.escape(v, quote=True)}"' for k, v in attrs.items() if v)
    return f'<script src="{base}/iw/inferwatch.js" data-endpoint="{base}/iw/ingest"{data}></script>'


def banner(served: Served) -> str:
    """What `inferwatch serve` prints when it starts."""
    config, url = served.config, served.config.public_url
    lines = [
        f"inferwatch is listening on {url}",
        f"  dashboard   {url}/" + ("   (token required)" if config.token else ""),
        f"  ingest      {url}/iw/ingest   (key {served.key})",
        f"  sentry      {url}/api/<project>/envelope/",
        f"  metrics     {url}/metrics",
        f"  store       {absolute(config.store)}",
        *[
            f"  sourcemaps  {folder}" + ("" if folder.is_dir() else "   (no such folder yet)")
            for folder in config.sourcemaps
        ],
        *(
            [f"  otlp        {config.otlp_endpoint}   (browser generations)"]
            if config.otlp_endpoint
            else []
        ),
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
    warning = two_stores_warning(config.store)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    # Beside the store while serving, so that `inferwatch snippet` prints this address and key.
    announce(config.store, config.public_url, served.key)
    try:
        uvicorn.run(served.app, host=config.host, port=config.port, log_level="warning")
    finally:
        withdraw(config.store)
        served.close()
    return 0


__all__ = [
    "ServeConfig",
    "Served",
    "add_arguments",
    "banner",
    "build",
    "config_from_args",
    "run",
    "snippet_tag",
]
