"""What the collector received, stored, skipped and refused, by item type and reason.

Every envelope item and browser event is `received` under its type, then `stored`, `skipped`
(a type the store keeps no place for, an attachment over the limit: answered 200, counted) or
`refused` (an invalid event, one past the new-issue cap); a request refused whole (key, rate,
size, parse) is counted as `refused` of type `request`, its reason named.

The counts are kept three ways: in memory for `/metrics` (`inferwatch_ingest_items_total`), and
in the store (the `ingest_counts` table, by hour) for the dashboard's ingest panel and
`inferwatch stats`, which run in other processes.

>>> counts = IngestCounts()
>>> counts.add("received", "event"); counts.add("skipped", "session", "not_stored")
>>> counts.totals()[("received", "event", "")]
1
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric

OUTCOMES = ("received", "stored", "skipped", "refused")
Key = tuple[str, str, str]

# Why a whole request was refused, by its status (the item types are not known before parsing).
REFUSAL_REASONS = {
    400: "bad_request",
    401: "no_key",
    403: "forbidden",
    413: "too_large",
    429: "rate_limited",
    503: "unavailable",
}

# Item types Sentry SDKs send that the store keeps no place for: answered 200 and counted.
NOT_STORED = frozenset(
    [
        "transaction",
        "session",
        "sessions",
        "client_report",
        "profile",
        "profile_chunk",
        "check_in",
        "replay_event",
        "replay_recording",
        "replay_video",
        "span",
        "otel_span",
        "log",
        "statsd",
        "metric_meta",
    ]
)


class IngestCounts:
    """Thread-safe counts by (outcome, item type, reason), with what the store has not had yet."""

    def __init__(self) -> None:
        self._totals: Counter[Key] = Counter()
        self._pending: Counter[Key] = Counter()
        self._lock = threading.Lock()

    def add(self, outcome: str, item_type: str, reason: str = "", n: int = 1) -> None:
        if n <= 0:
            return
        key = (outcome, item_type, reason)
        with self._lock:
            self._totals[key] += n
            self._pending[key] += n

    def totals(self) -> dict[Key, int]:
        with self._lock:
            return dict(self._totals)

    def take_pending(self) -> list[dict[str, Any]]:
        """The counts added since the last call, as rows for the store's `ingest_counts`."""
        with self._lock:
            if not self._pending:
                return []
            pending, self._pending = self._pending, Counter()
        now = time.time()
        return [
            {"timestamp": now, "outcome": o, "type": t, "reason": r, "n": n}
            for (o, t, r), n in pending.items()
        ]

    def collect(self) -> Iterator[Metric]:
        """The counts as a Prometheus counter (a custom collector for `/metrics`)."""
        family = CounterMetricFamily(
            "inferwatch_ingest_items",
            "Items the collector received, stored, skipped and refused, by type and reason.",
            labels=["outcome", "type", "reason"],
        )
        for (outcome, item_type, reason), n in sorted(self.totals().items()):
            family.add_metric([outcome, item_type, reason], n)
        yield family


def item_type_label(item_type: str) -> str:
    """An item type as counted: a type Sentry's protocol names, else `unknown` (any sender
    chooses the type, and the labels of `/metrics` must stay few)."""
    return item_type if item_type in _KNOWN else "unknown"


_KNOWN = NOT_STORED | {"event", "attachment", "user_report", "feedback"}
