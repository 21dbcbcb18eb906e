"""Forwarding envelopes to Sentry through a durable outbox: nothing accepted is lost.

`submit` only puts the envelope on a bounded queue, so the request path never waits for disk or
network. One thread writes queued envelopes to the outbox (SQLite); another sends the oldest
first and deletes each one only when Sentry answers 2xx, backing off and honouring Sentry's rate
limits (`_sending.py`). Pending envelopes are sent by the next Forwarder on the same outbox file,
after a restart or `kill -9`.

Delivery is at least once: a crash between Sentry's 2xx and the delete sends that envelope
again, and Sentry keeps one event per `event_id`.

A forked child (a gunicorn `--preload` worker) starts its own two threads and HTTP client on its
first envelope; the envelopes the parent queued before the fork are the parent's to persist.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sentry_sdk.consts import EndpointType
from sentry_sdk.utils import Dsn

from . import _fork
from ._envelope import EnvelopeError, parse
from ._outbox import Outbox
from ._sending import USER_AGENT, Sender

logger = logging.getLogger("inferwatch")
EXIT_SECONDS = 5.0  # how long a forked child's exit tries to deliver


class _Marker:
    """Put on the queue by `persist`; set once everything queued before it is in the outbox."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = True


class Forwarder(Sender):
    """Sends serialized envelopes to the Sentry project named by `dsn`, losing none.

    `outbox` is an `Outbox` or a file path (None keeps it in memory: not durable). `clock` and
    `sleep` are the seams tests use to live through a long outage in no time.

    >>> forwarder = Forwarder(dsn, outbox=".inferwatch/outbox.db")  # doctest: +SKIP
    >>> forwarder.submit(envelope.serialize())                         # doctest: +SKIP
    >>> forwarder.close(timeout=2)                                     # doctest: +SKIP
    """

    def __init__(
        self,
        dsn: str,
        *,
        outbox: Outbox | str | Path | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
        queue_size: int = 1000,
        timeout: float = 10.0,
        max_backoff: float = 300.0,
        max_envelope_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        auth = Dsn(dsn).to_auth(USER_AGENT)
        self.url = auth.get_api_url(EndpointType.ENVELOPE)
        self.auth = auth.to_header()
        self._owns_outbox = not isinstance(outbox, Outbox)
        self.outbox = outbox if isinstance(outbox, Outbox) else _open_outbox(outbox)
        self._durable = self.outbox.path != ":memory:"
        self._transport, self._timeout = transport, timeout
        self._client: httpx.Client | None = None  # opened by the sender thread
        self._clock, self._sleep = clock, sleep
        self._lease = timeout + 30.0
        self.max_backoff, self.max_envelope_bytes = max_backoff, max_envelope_bytes
        self._queue_size = queue_size
        self._backoff_until, self._failures = 0.0, 0
        self._limits: dict[str, float] = {}  # category -> until
        self._closed = False
        self._forked = False
        self._threads: list[threading.Thread] = []
        self._reset()
        self._start()
        _fork.register(after_in_child=self._after_fork)

    def __repr__(self) -> str:
        return f"Forwarder({self.url!r}, outbox={self.outbox.path!r})"

    def _reset(self) -> None:
        """The state of this process's threads: made at start, made again after a fork."""
        self._queue: queue.Queue[bytes | _Marker | None] = queue.Queue(self._queue_size)
        self._wake, self._stop = threading.Event(), threading.Event()
        self._progress = threading.Condition(threading.RLock())
        self._counts: Counter[str] = Counter()
        self._logged: set[str] = set()
        self._lost_since_marker = False
        self._start_lock = threading.Lock()

    def _after_fork(self) -> None:
        """In a forked child: own queue, locks and counts; threads and client on first use.
        Rate limits and back-off learnt from Sentry hold for the child too."""
        _fork.set_aside(self._client)
        self._client = None
        self._threads = []
        self._reset()
        self._forked = True

    def _start(self) -> None:
        with self._start_lock:
            if self._threads or self._closed:
                return
            threads = [
                threading.Thread(target=self._persist_loop, name="inferwatch-outbox", daemon=True),
                threading.Thread(target=self._send_loop, name="inferwatch-forward", daemon=True),
            ]
            try:
                for thread in threads:
                    thread.start()
            except RuntimeError as exc:  # the interpreter is shutting down: no new threads
                self._log_once("no_threads", f"inferwatch: cannot start forwarding: {exc}")
                return
            self._threads = threads
        if self._forked:
            _fork.at_exit(self._deliver_at_exit)

    def _deliver_at_exit(self) -> None:
        self.flush(EXIT_SECONDS)

    def _sending(self) -> bool:
        return len(self._threads) == 2 and self._threads[1].is_alive()

    # -- the public surface --------------------------------------------------------------

    def submit(self, envelope: bytes) -> bool:
        """Queue one serialized envelope; never blocks, never raises. False when it was dropped
        (and counted); then the next `persist` reports the loss too."""
        if self._closed:
            self._drop("closed", "the forwarder is closed")
        elif len(envelope) > self.max_envelope_bytes:
            self._drop("too_large", f"an envelope is over {self.max_envelope_bytes} bytes")
        else:
            if not self._threads:  # the first envelope of a forked child
                self._start()
            try:
                self._queue.put_nowait(envelope)
                return True
            except queue.Full:
                self._drop("queue_full", "the forward queue is full")
        self._lost_since_marker = True
        return False

    def persist(self, timeout: float = 5.0) -> bool:
        """Wait until every envelope submitted so far is in the outbox (it then survives a crash).

        Only local disk is waited for, never Sentry: the collector calls it before its 200.
        """
        if self._closed:
            return self._queue.empty()
        if not self._threads:  # a forked child that submitted nothing, or cannot start threads
            return self._queue.empty()
        marker = _Marker()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        return marker.done.wait(timeout) and marker.ok

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far has been delivered (or dropped for good)."""
        end = time.monotonic() + timeout
        if not self.persist(timeout):
            return False
        with self._progress:
            while self._pending_in_outbox() > 0:
                remaining = end - time.monotonic()
                if remaining <= 0 or not self._sending():
                    return False
                self._wake.set()
                self._progress.wait(min(remaining, 0.5))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Try to deliver for up to `timeout`, then stop; what is left waits in the outbox.

        While Sentry is unreachable (backing off) a durable forwarder stops at once instead.
        """
        if self._closed:
            return
        if self._durable and self._clock() < self._backoff_until:
            self.persist(timeout)  # Sentry is unreachable: the outbox keeps them, exit now
        else:
            self.flush(timeout)
        self._closed = True
        self._stop.set()
        self._wake.set()
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        for thread in self._threads:
            thread.join(timeout)
        if self._client is not None:
            self._client.close()
        if self._owns_outbox and not any(t.is_alive() for t in self._threads):
            self.outbox.close()

    def stats(self) -> dict[str, Any]:
        """Counts since start: sent, failed attempts, 429s, dropped by reason, and pending."""
        with self._progress:
            counts = dict(self._counts)
        return {
            "sent": counts.get("sent", 0),
            "failed": counts.get("failed", 0),
            "rate_limited": counts.get("rate_limited", 0),
            "dropped": {k[8:]: v for k, v in counts.items() if k.startswith("dropped:")},
            "pending": self._pending_in_outbox() + self._queue.qsize(),
        }

    # -- the outbox writer thread --------------------------------------------------------

    def _persist_loop(self) -> None:
        while True:
            items = [self._queue.get()]
            while len(items) < 100:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._store([i for i in items if isinstance(i, bytes)])
            self._wake.set()
            for item in items:
                if isinstance(item, _Marker):
                    # conservative: a loss since the last marker fails every persist after it
                    item.ok, self._lost_since_marker = not self._lost_since_marker, False
                    item.done.set()
            if None in items:
                return

    def _store(self, bodies: list[bytes]) -> None:
        if not bodies:
            return
        try:
            envelopes = [(body, ",".join(sorted(_categories(body)))) for body in bodies]
            evicted = self.outbox.put(self.url, envelopes, self._clock())
        except Exception as exc:  # a full disk or a broken file must not kill the thread
            self._drop("outbox_error", f"cannot write the outbox: {exc}", len(bodies))
            self._lost_since_marker = True
            return
        if evicted:
            self._drop("overflow", "the outbox is full; dropping the oldest envelopes", evicted)

    # -- bookkeeping ---------------------------------------------------------------------

    def _pending_in_outbox(self) -> int:
        try:
            return self.outbox.pending(self.url)
        except Exception:
            return 0

    def _drop(self, reason: str, why: str, n: int = 1) -> None:
        self._count(f"dropped:{reason}", n)
        self._log_once(reason, f"inferwatch: dropping envelopes for Sentry: {why}")


def _open_outbox(path: str | Path | None) -> Outbox:
    """The outbox file; when it cannot be opened, one in memory (logged), never an error."""
    try:
        return Outbox(path or ":memory:")
    except (sqlite3.Error, OSError) as exc:
        logger.warning(
            "inferwatch: cannot open the outbox %s (%s); envelopes for Sentry are kept in memory",
            path,
            exc,
        )
        return Outbox(":memory:")


def _categories(body: bytes) -> frozenset[str]:
    try:
        return parse(body).categories
    except EnvelopeError:
        return frozenset()  # Sentry will judge it; a 400 drops it
