"""Snippet batches the collector refused: counted by reason on `/metrics`, and those refused for
their key or origin logged, one line per key and origin a minute.

A page with a stale `data-key` or an origin missing from `--allow-origin` has every batch
refused, and only its user's console says so. The collector's log says it too, without a line
per request (anyone can send them) and without the key: a prefix is enough to tell which.

>>> refusals = Refusals()
>>> refusals.note("wrong_key", "wrong key for this collector", key="0ld-key", origin="https://app.example")
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .. import _metrics

logger = logging.getLogger("inferwatch")

EVERY_SECONDS = 60.0
_BY_STATUS = {
    401: "missing_key",
    403: "origin",  # a wrong key is a 403 too, noted as "wrong_key" by its caller
    413: "too_large",
    429: "rate_limited",
    503: "unavailable",
}
LOGGED = frozenset({"origin", "missing_key", "wrong_key"})
"""The reasons someone has to fix by hand (the others, rate and size, fix themselves)."""
TRACKED = 1000
"""At most this many key and origin pairs are remembered; past it, new pairs go unlogged until
older ones are a minute old (they are still counted on `/metrics`)."""


class Refusals:
    """Counts refusals by reason, and logs at most one line per key prefix and origin every
    `every` seconds, saying how many were left unlogged since the last one."""

    def __init__(
        self, every: float = EVERY_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.every, self._clock = every, clock
        self._lock = threading.Lock()
        self._pairs: dict[tuple[str, str], tuple[float, int]] = {}

    def note(self, reason: str, message: str, *, key: str | None, origin: str | None) -> None:
        """One batch refused for `reason` (a short label), answered with `message`."""
        if _metrics.enabled:
            _metrics.observe_refusal(reason)
        if reason not in LOGGED:
            return
        pair = (key_prefix(key), _printable(origin or "none", 200))
        unlogged = self._due(pair)
        if unlogged is None:
            return
        more = f" ({unlogged} more since the last such line)" if unlogged else ""
        logger.warning(
            "inferwatch: refused browser events from origin %s with key %s: %s%s",
            pair[1],
            pair[0],
            message,
            more,
        )

    def _due(self, pair: tuple[str, str]) -> int | None:
        """How many refusals of `pair` went unlogged, when a line is due now; None otherwise."""
        now = self._clock()
        with self._lock:
            if pair not in self._pairs and len(self._pairs) >= TRACKED:
                self._forget(now)
                if len(self._pairs) >= TRACKED:
                    return None
            logged_at, unlogged = self._pairs.get(pair, (now - self.every, 0))
            if now - logged_at < self.every:
                self._pairs[pair] = (logged_at, unlogged + 1)
                return None
            self._pairs[pair] = (now, 0)
            return unlogged

    def _forget(self, now: float) -> None:
        self._pairs = {p: v for p, v in self._pairs.items() if now - v[0] < self.every}


def reason_for(status: int) -> str:
    """The refusal reason an error status stands for, when its caller does not say.

    >>> reason_for(429), reason_for(400)
    ('rate_limited', 'bad_request')
    """
    return _BY_STATUS.get(status, "bad_request")


def key_prefix(key: str | None) -> str:
    """Enough of a key to tell which it is, never the whole key.

    >>> key_prefix("0123456789abcdef0123456789abcdef"), key_prefix("abcd"), key_prefix(None)
    ('012345…', 'ab…', 'none')
    """
    if not key:
        return "none"
    return _printable(key[: min(6, len(key) // 2)], 6) + "…"


def _printable(text: str, limit: int) -> str:
    """`text` cut to `limit`, with anything but printable ASCII as `?`: it goes in a log line."""
    return "".join(c if " " <= c <= "~" else "?" for c in text[:limit])
