"""The collector: browser ingest, Sentry ingest and the tunnel, mountable in any FastAPI app.

collector = Collector(Store(".inferwatch/events.db"), CollectorConfig(key="..."))
app.include_router(browser_router(collector))
"""

from __future__ import annotations

from fastapi import FastAPI

from ._browser import browser_router, snippet_source
from ._collector import Collector
from ._config import CollectorConfig, is_loopback_host, load_or_create_key
from ._sentry import sentry_router
from ._tunnel import tunnel_router


def create_app(collector: Collector) -> FastAPI:
    """An app with every ingest route of `collector` (the dashboard is added by `serve`)."""
    app = FastAPI(title="inferwatch collector", docs_url=None, redoc_url=None)
    app.include_router(browser_router(collector))
    app.include_router(sentry_router(collector))
    app.include_router(tunnel_router(collector))
    return app


__all__ = [
    "Collector",
    "CollectorConfig",
    "browser_router",
    "create_app",
    "is_loopback_host",
    "load_or_create_key",
    "sentry_router",
    "snippet_source",
    "tunnel_router",
]
