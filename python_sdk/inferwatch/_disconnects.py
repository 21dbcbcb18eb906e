"""Clients that hang up while sending a body: one short log line a minute per route, no traceback.

A browser tab closed mid-upload, a proxy timing out or a scanner make starlette raise
`ClientDisconnect` from the body read. Left alone, uvicorn logs it as "Exception in ASGI
application" with a 5 KB traceback, and anyone can send such requests without a key: 100 of them
added half a megabyte to the log. Nothing is wrong with the server, and there is no one left to
answer, so the route notes it here and returns.

>>> hang_ups = HangUps()
>>> hang_ups.note("POST /iw/ingest")  # logs one line; the next ones in the minute are counted
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger("inferwatch")

EVERY_SECONDS = 60.0


class HangUps:
    """Counts hang-ups per route and logs at most one line per route every `every` seconds,
    saying how many were left unlogged since the last one."""

    def __init__(
        self, every: float = EVERY_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.every, self._clock = every, clock
        self._lock = threading.Lock()
        # route -> (when its last line was logged, hang-ups since then); routes are templates
        # such as `POST /api/{project_id}/envelope/`, so this stays as small as the app.
        self._routes: dict[str, tuple[float, int]] = {}

    def note(self, route: str) -> None:
        """One client hung up on `route` while sending its body."""
        now = self._clock()
        with self._lock:
            logged_at, unlogged = self._routes.get(route, (now - self.every, 0))
            if now - logged_at < self.every:
                self._routes[route] = (logged_at, unlogged + 1)
                return
            self._routes[route] = (now, 0)
        more = f" ({unlogged} more since the last such line)" if unlogged else ""
        logger.warning("inferwatch: a client hung up while sending its body to %s%s", route, more)


HANG_UPS = HangUps()
"""The process's log of hang-ups, shared by every ingest route and the dashboard's forms."""
