"""The local dashboard: issues, one issue, generations and usage, served from the store.

app.include_router(dashboard_router(Path(".inferwatch/events.db"), Access(token=None, loopback=True)))
"""

from __future__ import annotations

from ._auth import Access
from ._routes import dashboard_router

__all__ = ["Access", "dashboard_router"]
