"""The delivering thread: alerts posted from a bounded queue, retried with back-off and
`Retry-After`, so ingest never waits for a webhook. At process exit, what is queued is still
sent (for up to `EXIT_SECONDS`): the alert of the error that ended a script is the one wanted."""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from .. import _fork
from .._options import safe_url
from .._version import VERSION
from ..store import IssueChange, Store
from ._config import AlertConfig
from ._messages import json_body, slack_body
from ._rules import Alert, AlertRules, Clock

logger = logging.getLogger("inferwatch")
Sleep = Callable[[float], object]
MAX_RETRY_AFTER = 60.0
EXIT_SECONDS = 2.0  # sentry-sdk's default for its own flush at exit


class Alerter:
    """Sends the alerts `AlertRules` decides on, from a background thread, with retries.

    Fork-safe: in a forked child (a gunicorn `--preload` worker) it hears the child's store and
    starts its own thread and HTTP client on the first change the child stores. Each process
    decides on what it stored: a new issue or a regression is found by the one insert that makes
    it, so alerted once, but quiet periods, the hourly cap and spike detection count per process.

    >>> alerter = Alerter(AlertConfig(webhooks=("https://hooks.example/x",)))  # doctest: +SKIP
    >>> alerter.attach(store)                                                  # doctest: +SKIP
    """

    def __init__(
        self,
        config: AlertConfig,
        *,
        clock: Clock = time.time,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep | None = None,
        queue_size: int = 1000,
        tick_seconds: float = 30.0,
    ) -> None:
        self.config = config
        self.rules = AlertRules(config, clock)
        self._given_sleep, self._transport = sleep, transport
        self._queue_size = queue_size
        self._tick = tick_seconds
        self._stores: list[Store] = []
        self._client: httpx.Client | None = None  # opened by the worker thread
        self._thread: threading.Thread | None = None
        self._reset()
        self._start()
        _fork.register(after_in_child=self._after_fork)

    def __repr__(self) -> str:
        return f"Alerter({self.config!r})"

    def _reset(self) -> None:
        """The state of this process's worker: made at start, made again after a fork."""
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._sleep: Sleep = self._given_sleep or self._stop.wait
        self._queue: queue.Queue[Alert | threading.Event | None] = queue.Queue(self._queue_size)

    def _after_fork(self) -> None:
        """In a forked child: own queue, locks and counts; worker and client on first use.
        The rules' memory (quiet periods, the hour's count) is kept: the parent's alerts count."""
        _fork.set_aside(self._client)
        self._client, self._thread = None, None
        self._reset()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._run, name="inferwatch-alerts", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # the interpreter is shutting down: no new threads
                logger.debug("inferwatch: cannot start the alert worker", exc_info=True)
                return
            self._thread = thread
        # Registered by each process that starts a worker: a forked child gets its own (see
        # `_fork.at_exit`), and its worker is a daemon thread that exit would otherwise stop.
        _fork.at_exit(self._at_exit)

    def _at_exit(self) -> None:
        """Commit what the stores still queue (their commits decide the last alerts), then
        send the alerts queued, within `EXIT_SECONDS` in all; nothing once closed."""
        if self._stop.is_set():
            return
        deadline = time.monotonic() + EXIT_SECONDS
        for store in self._stores:
            store.flush(max(0.0, deadline - time.monotonic()))
        self.flush(max(0.0, deadline - time.monotonic()))

    def _http(self) -> httpx.Client:
        if self._client is None:  # only the worker posts, so only it opens the client
            self._client = httpx.Client(
                transport=self._transport,
                timeout=10.0,
                follow_redirects=False,
                headers={"User-Agent": f"inferwatch/{VERSION}"},
            )
        return self._client

    def attach(self, store: Store) -> None:
        """Listen to `store`'s issue changes."""
        store.listeners.append(self.listen)
        self._stores.append(store)

    def listen(self, change: IssueChange) -> None:
        """Called by the store's writer thread: decide, queue, return at once; never raises."""
        if self._thread is None:  # the first change a forked child stored
            self._start()
        try:
            with self._lock:
                alerts = self.rules.decide(change)
            for alert in alerts:
                self._put(alert)
        except Exception:
            logger.debug("inferwatch: alert rules failed", exc_info=True)

    def tick(self) -> None:
        """Send the hour's summary if it is due (the worker calls this every `tick_seconds`)."""
        with self._lock:
            alerts = self.rules.tick()
        for alert in alerts:
            self._put(alert)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every alert queued so far was sent (or given up on)."""
        if self._thread is None or not self._thread.is_alive():
            return self._queue.empty()
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening, send what is queued, stop the worker."""
        for store in self._stores:
            if self.listen in store.listeners:
                store.listeners.remove(self.listen)
        self.flush(timeout)
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=timeout)
            self._thread.join(timeout)
        if self._client is not None:
            self._client.close()

    def _put(self, alert: Alert) -> None:
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.counts["dropped_queue_full"] += 1

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._tick)
            except queue.Empty:
                self.tick()
                continue
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
            else:
                self._send(item)

    def _send(self, alert: Alert) -> None:
        url = self.config.dashboard_url
        for hook in self.config.webhooks:
            self._post(hook, json_body(alert, url))
        for hook in self.config.slack_webhooks:
            self._post(hook, slack_body(alert, url))

    def _post(self, url: str, body: dict[str, Any]) -> bool:
        for attempt in range(self.config.retries + 1):
            delay = self._attempt(url, body)
            if delay is None:
                return True
            if math.isinf(delay) or attempt == self.config.retries or self._stop.is_set():
                break
            self._sleep(delay or min(30.0, 2.0**attempt))
        self.counts["failed"] += 1
        logger.warning("inferwatch: could not deliver an alert to %s", safe_url(url))
        return False

    def _attempt(self, url: str, body: dict[str, Any]) -> float | None:
        """None when delivered; else the seconds to wait (0: back off; inf: do not retry)."""
        try:
            response = self._http().post(url, json=body)
        except httpx.HTTPError:
            return 0.0
        if response.is_success:
            self.counts["sent"] += 1
            return None
        if response.status_code == 429 or response.status_code >= 500:
            return _retry_after(response.headers.get("retry-after"))
        return math.inf  # a 4xx other than 429 will not get better by retrying


def _retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return 0.0
    return max(0.0, min(seconds, MAX_RETRY_AFTER))
