"""Forwarding envelopes to Sentry with httpx, off the request path.

A worker thread posts each envelope to the DSN's envelope endpoint with `X-Sentry-Auth`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter

import httpx
from sentry_sdk.consts import EndpointType
from sentry_sdk.utils import Dsn

from ._version import VERSION

logger = logging.getLogger("inferwatch")
USER_AGENT = f"inferwatch/{VERSION}"


class Forwarder:
    """Sends serialized envelopes to the Sentry project named by `dsn`."""

    def __init__(
        self, dsn: str, *, transport: httpx.BaseTransport | None = None, queue_size: int = 1000
    ) -> None:
        parsed = Dsn(dsn)
        auth = parsed.to_auth(USER_AGENT)
        self.url = auth.get_api_url(EndpointType.ENVELOPE)
        self.auth = auth.to_header()
        self._client = httpx.Client(transport=transport, timeout=10.0)
        self._queue: queue.Queue[bytes | threading.Event | None] = queue.Queue(queue_size)
        self.counts: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._run, name="inferwatch-forward", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"Forwarder({self.url!r})"

    def submit(self, envelope: bytes) -> None:
        try:
            self._queue.put_nowait(envelope)
        except queue.Full:
            self.counts["dropped_queue_full"] += 1

    def flush(self, timeout: float = 5.0) -> bool:
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout)
        self._client.close()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if isinstance(item, threading.Event):
                item.set()
            else:
                self._send(item)

    def _send(self, body: bytes) -> None:
        headers = {
            "X-Sentry-Auth": self.auth,
            "Content-Type": "application/x-sentry-envelope",
            "User-Agent": USER_AGENT,
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self.counts["failed"] += 1
            logger.warning("inferwatch: could not reach Sentry: %s", exc)
            return
        self.counts["sent" if response.is_success else f"rejected_{response.status_code}"] += 1
