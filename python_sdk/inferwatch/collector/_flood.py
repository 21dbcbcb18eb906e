"""Flood control: how much a client may send, counted in events and bytes, and how a refusal reads.

Each client (a key and an address) has a token bucket of `rate_burst` tokens, refilled at
`rate_per_second`. A request costs one token per event it carries (every item of an envelope
but its client reports, every event of a browser batch), and at least one per 64 KiB it inflates
to, so a few huge events cost what many small ones do. Counting requests instead let one client
store 134,000 events in 30 s with envelopes of 1,000 events each.

- An empty bucket is refused before the body is read.
- A request that costs more than is left is refused whole after parsing (429): nothing of it is
  stored, so a sender that retries (the snippet does) sends it again without duplicates.
- A request that costs more than a full bucket could ever hold is refused with 413: waiting
  would not help.

A refusal is a 429 with `Retry-After` and `X-Sentry-Rate-Limits`, in the format Sentry SDKs
parse (`<seconds>:<categories>:<scope>`; https://develop.sentry.dev/sdk/rate-limiting/). Before
the body is read the categories are not known, and the header names none, which means all.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

BYTES_PER_EVENT = 64 * 1024
"""The bytes (inflated) one token pays for: an event of a Python backend is 5 to 30 KB."""

UNCOUNTED_ITEMS = frozenset({"client_report"})
"""Items no token is spent on: Sentry never rate-limits an SDK's reports of what it dropped."""


class RateLimiter:
    """A token bucket per client: `rate` tokens a second, at most `burst` saved; bounded memory.
    A `rate` of 0 turns limiting off.

    >>> limiter = RateLimiter(rate=1.0, burst=2)
    >>> limiter.take("client", 2), limiter.take("client", 1) > 0
    (0.0, True)
    """

    def __init__(self, rate: float, burst: int, *, max_clients: int = 10_000) -> None:
        self.rate, self.burst, self.max_clients = rate, burst, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, client: str, cost: int = 1) -> float:
        """0 when `cost` tokens were taken; otherwise the seconds until there are enough (none
        are taken then)."""
        if not self.enabled:
            return 0.0
        with self._lock:
            tokens, now = self._refill(client)
            wait = 0.0 if tokens >= cost else (cost - tokens) / self.rate
            self._buckets[client] = (tokens - cost if wait == 0 else tokens, now)
        return wait

    def ready(self, client: str) -> float:
        """0 when `client` has a token left; otherwise the seconds until it has one."""
        if not self.enabled:
            return 0.0
        with self._lock:
            tokens, now = self._refill(client)
            self._buckets[client] = (tokens, now)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def _refill(self, client: str) -> tuple[float, float]:
        """The client's tokens now (its bucket taken out, to go back in as the newest)."""
        now = time.monotonic()
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        while len(self._buckets) >= self.max_clients:
            self._buckets.popitem(last=False)
        return min(float(self.burst), tokens + (now - last) * self.rate), now


@dataclass(frozen=True)
class Limited:
    """A refusal: the status, a message for the sender's log, and the headers to answer with."""

    status: int
    message: str
    headers: dict[str, str]


def cost(events: int, size: int) -> int:
    """The tokens a request of `events` events inflating to `size` bytes costs (at least 1).

    >>> cost(1, 500), cost(1000, 20_000), cost(1, 1024 * 1024)
    (1, 1000, 16)
    """
    return max(1, events, math.ceil(size / BYTES_PER_EVENT))


def before_body(limiter: RateLimiter, client: str) -> Limited | None:
    """A refusal when `client`'s bucket is empty: checked before its body is read."""
    wait = limiter.ready(client)
    return _limited(wait, ()) if wait else None


def charge(
    limiter: RateLimiter, client: str, tokens: int, categories: Iterable[str]
) -> Limited | None:
    """Take what a parsed request costs, or say why not (the request is then refused whole)."""
    if limiter.enabled and tokens > limiter.burst:
        return Limited(
            413,
            f"this request holds {tokens} events (a token per event, and per 64 KiB), more"
            f" than the collector takes at once (--rate-burst {limiter.burst}); send fewer",
            {},
        )
    wait = limiter.take(client, tokens)
    return _limited(wait, categories) if wait else None


def _limited(wait: float, categories: Iterable[str]) -> Limited:
    seconds = max(1, math.ceil(wait))
    named = ";".join(sorted(set(categories) - {"internal"}))
    return Limited(
        429,
        f"rate limited: too many events from this client; retry in {seconds} s"
        " (see inferwatch serve --rate-limit)",
        {"Retry-After": str(seconds), "X-Sentry-Rate-Limits": f"{seconds}:{named}:key"},
    )
