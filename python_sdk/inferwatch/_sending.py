"""The sender thread of a `Forwarder`: the outbox's envelopes go to Sentry oldest first, and
each is deleted only when Sentry answers 2xx.

Network errors, 5xx and other answers that may change (401, 403, 404) back off exponentially up
to `max_backoff`; 429 waits for `Retry-After` or `X-Sentry-Rate-Limits` (per category, so a limit
on transactions does not hold errors back); 400 and 413 are final, so those envelopes are
dropped and counted.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx

from ._outbox import Entry, Outbox
from ._version import VERSION

logger = logging.getLogger("inferwatch")
USER_AGENT = f"inferwatch/{VERSION}"
DEFAULT_RATE_LIMIT = 60.0  # seconds, when a 429 says neither Retry-After nor X-Sentry-Rate-Limits
ALL = ""  # the rate-limit category that stands for every category


class Sender:
    """The sender thread's half of `Forwarder`: sending, back-off, rate limits, counts.

    The state is the forwarder's: `Forwarder.__init__` sets it, and its fork handler resets it.
    """

    url: str
    auth: str
    outbox: Outbox
    max_backoff: float
    _transport: httpx.BaseTransport | None
    _timeout: float
    _client: httpx.Client | None
    _clock: Callable[[], float]
    _sleep: Callable[[float], None] | None
    _lease: float
    _backoff_until: float
    _failures: int
    _limits: dict[str, float]
    _wake: threading.Event
    _stop: threading.Event
    _progress: threading.Condition
    _counts: Counter[str]
    _logged: set[str]

    def _http(self) -> httpx.Client:
        if self._client is None:  # only the sender thread sends, so only it opens the client
            self._client = httpx.Client(transport=self._transport, timeout=self._timeout)
        return self._client

    # -- the sender thread ---------------------------------------------------------------

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            try:
                deadline = self._send_due()
            except Exception as exc:
                self._log_once("send_error", f"inferwatch: forwarding failed: {exc!r}")
                deadline = self._back_off()
            self._wait(deadline)

    def _send_due(self) -> float | None:
        """Send what may be sent now; returns when to look again (None: when woken)."""
        while not self._stop.is_set():
            now = self._clock()
            if now < self._backoff_until:
                return self._backoff_until
            entries = self.outbox.claim(self.url, now, self._lease)
            if not entries:
                # Rows another sender claimed come back when their lease ends; rows written
                # since the claim are claimable at once.
                at = self.outbox.next_claimable(self.url)
                if at is None or at > now:
                    return at
                continue
            held = [e for e in entries if self._limited_until(e, now) > now]
            self.outbox.release([e.id for e in held], attempted=False)
            ready = [e for e in entries if e not in held]
            if not ready:
                return min(self._limited_until(e, now) for e in held)
            self._send_batch(ready)
        return None

    def _send_batch(self, entries: list[Entry]) -> None:
        for i, entry in enumerate(entries):
            now = self._clock()
            # A 2xx can carry a new rate limit, so each envelope is checked just before its turn.
            if self._stop.is_set() or self._limited_until(entry, now) > now:
                self.outbox.release([e.id for e in entries[i:]], attempted=False)
                return
            if not self._send(entry):
                self.outbox.release([e.id for e in entries[i + 1 :]], attempted=False)
                return

    def _send(self, entry: Entry) -> bool:
        """One attempt; False when sending should pause (back-off or a rate limit)."""
        try:
            response = self._http().post(self.url, content=entry.body, headers=self._headers())
        except httpx.HTTPError as exc:
            return self._retry_later(entry, f"cannot reach Sentry: {exc!r}")
        now = self._clock()
        self._read_rate_limits(response.headers, now)
        status = response.status_code
        if 200 <= status < 300:
            self._finish(entry, "sent")
            self._failures = 0
            return True
        if status in (400, 413):
            self._finish(entry, f"dropped:rejected_{status}")
            self._log_once(
                f"rejected_{status}",
                f"inferwatch: Sentry rejected an envelope: {status} {response.text[:200]}",
            )
            return True
        if status == 429:
            self._count("rate_limited")
            if self._limited_until(entry, now) <= now:  # no usable X-Sentry-Rate-Limits
                self._limit(ALL, now + _retry_after(response.headers, now))
            self._release(entry)
            return False
        return self._retry_later(entry, f"Sentry answered {status}")

    def _retry_later(self, entry: Entry, why: str) -> bool:
        self._count("failed")
        self._log_once("failed", f"inferwatch: {why}; retrying with back-off")
        self._release(entry)
        self._back_off()
        return False

    def _back_off(self) -> float:
        self._failures += 1
        delay = min(self.max_backoff, 2.0 ** (self._failures - 1))
        self._backoff_until = self._clock() + delay
        return self._backoff_until

    def _wait(self, deadline: float | None) -> None:
        if deadline is None:
            self._wake.wait()
        else:
            delay = deadline - self._clock()
            if delay > 0 and self._sleep is not None:
                self._sleep(delay)
            elif delay > 0:
                self._wake.wait(delay)
        self._wake.clear()

    # -- rate limits ---------------------------------------------------------------------

    def _read_rate_limits(self, headers: httpx.Headers, now: float) -> None:
        # "60:error;transaction:organization, 2700::key" (no category: every category)
        for limit in headers.get("x-sentry-rate-limits", "").split(","):
            seconds, _, rest = limit.strip().partition(":")
            try:
                until = now + max(0.0, float(seconds))
            except ValueError:
                continue
            categories = rest.split(":", 1)[0]
            for category in categories.split(";") if categories else [ALL]:
                self._limit(category, until)

    def _limit(self, category: str, until: float) -> None:
        self._limits[category] = max(until, self._limits.get(category, 0.0))

    def _limited_until(self, entry: Entry, now: float) -> float:
        return max(self._limits.get(c, 0.0) for c in entry.categories | {ALL})

    # -- bookkeeping ---------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "X-Sentry-Auth": self.auth,
            "Content-Type": "application/x-sentry-envelope",
            "User-Agent": USER_AGENT,
        }

    def _finish(self, entry: Entry, outcome: str) -> None:
        with self._progress:  # one step for `flush`: never "not pending" yet "not counted"
            self.outbox.delete(entry.id)
            self._count(outcome)

    def _release(self, entry: Entry) -> None:
        self.outbox.release([entry.id], attempted=True)

    def _count(self, key: str, n: int = 1) -> None:
        with self._progress:
            self._counts[key] += n
            self._progress.notify_all()

    def _log_once(self, key: str, message: str) -> None:
        if key not in self._logged:
            self._logged.add(key)
            logger.warning(message)


def _retry_after(headers: httpx.Headers, now: float) -> float:
    """Seconds from `Retry-After` (a number or an HTTP date), or the default."""
    value = headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError):
        return DEFAULT_RATE_LIMIT
