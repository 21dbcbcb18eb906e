"""A cap on the new issues a key opens a minute: a flood of distinct errors, each an issue of its
own, cannot bury the issues that matter, and events of known issues are always stored.

The collector decides before it writes, with the store's own grouping: an event whose
fingerprint has no issue yet takes a token from its key's bucket (`max_new_issues_per_minute`,
refilled over the minute) for the issue it will open, and other events of that fingerprint
follow it free. Without a token it is dropped and counted, and a warning is logged at most once
a minute. Fingerprints are looked up in the store only when not confirmed in the last minute,
so steady traffic to known issues costs no query.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path

from .._errors import StoreError
from .._types import Event
from ..store import fingerprint
from ..store._queries import known_fingerprints, open_readonly
from ._flood import RateLimiter

logger = logging.getLogger("inferwatch")

REMEMBER_SECONDS = 60.0  # an issue retention deleted since is a new issue again
WARN_EVERY = 60.0


class NewIssueLimit:
    """At most `per_minute` new issues a minute per key (0: no cap), for the store at `path`.

    >>> limit = NewIssueLimit(Path("events.db"), per_minute=100)  # doctest: +SKIP
    >>> kept, dropped = limit.admit("key", events)                 # doctest: +SKIP
    """

    def __init__(self, path: Path, per_minute: int, *, remember: int = 100_000) -> None:
        self.path, self.per_minute, self.remember = path, per_minute, remember
        self._bucket = RateLimiter(per_minute / 60, per_minute)
        self._known: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._warned = -WARN_EVERY

    def admit(self, key: str, events: list[Event]) -> tuple[list[Event], int]:
        """The events to store, and how many were dropped for opening an issue past the cap."""
        if not self._bucket.enabled or not events:
            return events, 0
        prints = [fingerprint(event) for event in events]
        unknown = self._unknown(set(prints))
        if not unknown:
            return events, 0
        opened = {p for p in dict.fromkeys(prints) if p in unknown and not self._bucket.take(key)}
        self._confirm(opened)
        kept = [e for e, p in zip(events, prints, strict=True) if p not in unknown or p in opened]
        if len(kept) < len(events):
            self._warn(len(events) - len(kept))
        return kept, len(events) - len(kept)

    def _unknown(self, prints: set[str]) -> set[str]:
        """Those of `prints` without an issue in the store (as far as it can be read now)."""
        now = time.monotonic()
        with self._lock:
            asked = [
                p for p in prints if now - self._known.get(p, -REMEMBER_SECONDS) >= REMEMBER_SECONDS
            ]
        if not asked:
            return set()
        found = self._lookup(asked)
        self._confirm(found)
        return set(asked) - found

    def _lookup(self, prints: list[str]) -> set[str]:
        try:
            conn = open_readonly(self.path)
        except StoreError:
            return set()  # no store yet: every issue is new
        try:
            return known_fingerprints(conn, prints)
        except sqlite3.Error:
            return set()  # counted as new: the cap errs on the side of fewer issues
        finally:
            conn.close()

    def _confirm(self, prints: set[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for p in prints:
                self._known[p] = now
                self._known.move_to_end(p)
            while len(self._known) > self.remember:
                self._known.popitem(last=False)

    def _warn(self, dropped: int) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._warned < WARN_EVERY:
                return
            self._warned = now
        logger.warning(
            "inferwatch: dropped %d events that would have opened new issues past the cap of %d"
            " a minute (--max-new-issues-per-minute); events of known issues are still stored",
            dropped,
            self.per_minute,
        )
