"""Webhook alerts on a new issue, a regression and an error-rate spike, without storms.

The store calls `Alerter.listen` from its writer thread after each commit; the rules run there
in a few microseconds and the alerts to send go on a bounded queue, so ingest never waits for a
webhook. A worker thread posts them with httpx, retrying failures with back-off.

No storms: one alert per issue (and one spike alert) per quiet period; at most `max_per_hour`
alerts an hour, the rest held back and reported in one summary when the hour is over. Messages
that differ only by numbers or ids are one issue already (the store's grouping).

    alerter = Alerter(AlertConfig(webhooks=("https://hooks.example/inferwatch",)))
    alerter.attach(store)
    ...
    alerter.close()
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import _fork
from ._errors import ConfigError
from ._redact import redact_text
from ._version import VERSION
from .store import IssueChange, Store

logger = logging.getLogger("inferwatch")
Clock = Callable[[], float]
Sleep = Callable[[float], object]
HOUR = 3600.0
MAX_TITLE = 200
MAX_RETRY_AFTER = 60.0


# -- configuration ---------------------------------------------------------------------


def check_urls(option: str, value: object) -> tuple[str, ...]:
    """Webhook URLs as a tuple; each must be an http(s) URL with a host."""
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, list | tuple):
        raise ConfigError(f"inferwatch: option {option!r} must be a list of URLs, got {value!r}")
    for url in value:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"inferwatch: option {option!r} must hold http(s) URLs, got {_safe_url(url)!r}"
            )
    return tuple(value)


def check_number(option: str, value: object, *, minimum: float, integer: bool = False) -> None:
    """`value` is a number (an int when `integer`) no smaller than `minimum`."""
    kinds = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kinds) or not value >= minimum:
        what = "an integer" if integer else "a number"
        raise ConfigError(
            f"inferwatch: option {option!r} must be {what} >= {minimum}, got {value!r}"
        )


@dataclass(frozen=True, kw_only=True)
class AlertConfig:
    """Where alerts go and how often they may.

    >>> AlertConfig(webhooks=("https://hooks.example/x",), max_per_hour=5).enabled
    True
    """

    webhooks: tuple[str, ...] = ()
    slack_webhooks: tuple[str, ...] = ()
    quiet_minutes: float = 60.0
    max_per_hour: int = 20
    spike_factor: float = 3.0  # 0 turns spike alerts off
    spike_window_minutes: int = 5
    spike_baseline_minutes: int = 60
    spike_min_errors: int = 10
    retries: int = 3
    dashboard_url: str | None = None

    def __post_init__(self) -> None:
        for name in ("webhooks", "slack_webhooks"):
            object.__setattr__(self, name, check_urls(name, getattr(self, name)))
        check_number("quiet_minutes", self.quiet_minutes, minimum=0)
        check_number("spike_factor", self.spike_factor, minimum=0)
        for name in ("max_per_hour", "spike_window_minutes", "spike_baseline_minutes"):
            check_number(name, getattr(self, name), minimum=1, integer=True)
        for name in ("spike_min_errors", "retries"):
            check_number(name, getattr(self, name), minimum=0, integer=True)
        if self.dashboard_url is not None:
            check_urls("dashboard_url", self.dashboard_url)

    def __repr__(self) -> str:
        # Webhook URLs carry their secret in the path: show hosts only.
        hooks = [_safe_url(u) for u in (*self.webhooks, *self.slack_webhooks)]
        return (
            f"AlertConfig(webhooks={hooks}, quiet_minutes={self.quiet_minutes}, "
            f"max_per_hour={self.max_per_hour}, spike_factor={self.spike_factor})"
        )

    @property
    def enabled(self) -> bool:
        return bool(self.webhooks or self.slack_webhooks)


def _safe_url(url: object) -> str:
    if not isinstance(url, str):
        return repr(url)
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…" if parts.hostname else "<not a URL>"


# -- the rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """One message to send: `kind` is `new_issue`, `regression`, `spike` or `summary`."""

    kind: str
    text: str
    issue: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    timestamp: float = 0.0


class _Rate:
    """Errors counted by the minute: the current window against the baseline before it."""

    def __init__(self, window: int, baseline: int) -> None:
        self.window, self.baseline = window, baseline
        self.minutes: dict[int, int] = {}

    def add(self, now: float) -> tuple[int, float]:
        """Count one error; return (errors in the window, average errors a window before it)."""
        minute = int(now // 60)
        self.minutes[minute] = self.minutes.get(minute, 0) + 1
        start = minute - self.window  # minutes > start are in the window
        oldest = start - self.baseline
        current = before = 0
        for m, n in list(self.minutes.items()):
            if m <= oldest:
                del self.minutes[m]
            elif m > start:
                current += n
            else:
                before += n
        return current, before * self.window / self.baseline


class AlertRules:
    """Decides which changes become alerts; pure bookkeeping with an injected clock.

    >>> rules = AlertRules(AlertConfig(webhooks=("https://h.example/x",)), clock=lambda: 0.0)
    >>> [a.kind for a in rules.decide(change)]  # doctest: +SKIP
    ['new_issue']
    """

    def __init__(self, config: AlertConfig, clock: Clock = time.time) -> None:
        self.config, self.clock = config, clock
        self._rate = _Rate(config.spike_window_minutes, config.spike_baseline_minutes)
        self._last: dict[str, float] = {}
        self._hour_start: float | None = None
        self._sent = 0
        self._held: list[Alert] = []
        self._held_count: Counter[str] = Counter()

    def decide(self, change: IssueChange) -> list[Alert]:
        """The alerts one stored event calls for (often none), the hour's summary first."""
        now = self.clock()
        out = self.tick()
        if change.kind in ("new", "regression"):
            out += self._admit(f"issue:{change.issue_id}", _issue_alert(change, now), now)
        spike = self._spike(now)
        if spike is not None:
            out += self._admit("spike", spike, now)
        return out

    def tick(self) -> list[Alert]:
        """The summary of what was held back, once the capped hour is over."""
        now = self.clock()
        if self._hour_start is None or now - self._hour_start < HOUR:
            return []
        held, counts = self._held, self._held_count
        self._hour_start, self._sent, self._held, self._held_count = None, 0, [], Counter()
        return [_summary(held, counts, self.config.max_per_hour, now)] if counts else []

    def _admit(self, key: str, alert: Alert, now: float) -> list[Alert]:
        last = self._last.get(key)
        if last is not None and now - last < self.config.quiet_minutes * 60:
            return []
        self._remember(key, now)
        if self._hour_start is None:
            self._hour_start = now
        if self._sent < self.config.max_per_hour:
            self._sent += 1
            return [alert]
        self._held_count[alert.kind] += 1
        if len(self._held) < 10:
            self._held.append(alert)
        return []

    def _remember(self, key: str, now: float) -> None:
        self._last[key] = now
        if len(self._last) > 10_000:  # bounded: forget issues whose quiet period is over
            quiet = self.config.quiet_minutes * 60
            self._last = {k: t for k, t in self._last.items() if now - t < quiet}

    def _spike(self, now: float) -> Alert | None:
        current, baseline = self._rate.add(now)
        factor = self.config.spike_factor
        if factor <= 0 or current < self.config.spike_min_errors or current <= factor * baseline:
            return None
        window = self.config.spike_window_minutes
        text = (
            f"Error spike: {current} errors in the last {window} min, above {factor:g}x the "
            f"baseline of {baseline:.1f} per {window} min"
        )
        details = {"errors": current, "baseline": round(baseline, 2), "window_minutes": window}
        return Alert("spike", text, None, details, now)


def _issue_alert(change: IssueChange, now: float) -> Alert:
    title = _one_line(change.title)
    issue = {"id": change.issue_id, "title": title, "platform": change.platform}
    tags = change.event.get("tags") if isinstance(change.event.get("tags"), dict) else {}
    for key in ("environment", "release"):
        if isinstance(change.event.get(key), str):
            issue[key] = _one_line(change.event[key])
    if isinstance(tags, dict) and isinstance(tags.get("request_id"), str):
        issue["request_id"] = _one_line(tags["request_id"])
    if change.kind == "new":
        return Alert("new_issue", f"New issue #{change.issue_id}: {title}", issue, {}, now)
    text = f"Regression: issue #{change.issue_id} came back after it was resolved: {title}"
    return Alert("regression", text, issue, {}, now)


def _summary(held: list[Alert], counts: Counter[str], cap: int, now: float) -> Alert:
    total = sum(counts.values())
    parts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(counts.items()))
    examples = "; ".join(a.text for a in held[:5])
    text = f"{total} alerts held back in the last hour (limit {cap} an hour): {parts}. {examples}"
    return Alert("summary", text, None, {"held": dict(counts), "limit": cap}, now)


def _one_line(text: str) -> str:
    """A title as an alert shows it: one line, short, and redacted again on its way out (the
    store holds it redacted by the rules of when it was captured)."""
    line = " ".join(redact_text(str(text)).split())
    return line if len(line) <= MAX_TITLE else line[: MAX_TITLE - 1] + "…"


# -- the messages ----------------------------------------------------------------------


def json_body(alert: Alert, dashboard_url: str | None = None) -> dict[str, Any]:
    """The generic webhook body."""
    issue = dict(alert.issue) if alert.issue else None
    if issue is not None and dashboard_url:
        issue["url"] = f"{dashboard_url.rstrip('/')}/issues/{issue['id']}"
    return {
        "source": "inferwatch",
        "version": VERSION,
        "kind": alert.kind,
        "text": alert.text,
        "issue": issue,
        "details": alert.details,
        "timestamp": datetime.fromtimestamp(alert.timestamp, timezone.utc).isoformat(),
    }


def slack_body(alert: Alert, dashboard_url: str | None = None) -> dict[str, Any]:
    """A Slack-compatible body: `text`, with `&`, `<`, `>` escaped so an exception message
    cannot ping `<!channel>` or forge a link."""
    text = _slack_escape(alert.text)
    if alert.issue is not None and dashboard_url:
        text += f" <{dashboard_url.rstrip('/')}/issues/{int(alert.issue['id'])}|open>"
    return {"text": text}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- the worker ------------------------------------------------------------------------


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
        logger.warning("inferwatch: could not deliver an alert to %s", _safe_url(url))
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


# -- command-line flags (`inferwatch serve`) -------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the alert flags to a command (`inferwatch serve` uses them)."""
    group = parser.add_argument_group("alerts")
    group.add_argument(
        "--webhook", action="append", default=[], metavar="URL", help="POST a JSON alert here"
    )
    group.add_argument(
        "--slack-webhook",
        action="append",
        default=[],
        metavar="URL",
        help="POST a Slack-compatible {text} alert here",
    )
    group.add_argument(
        "--alert-quiet-minutes",
        type=float,
        default=60.0,
        help="one alert per issue per this many minutes (default 60)",
    )
    group.add_argument(
        "--alert-max-per-hour",
        type=int,
        default=20,
        help="at most this many alerts an hour; the rest in one summary (default 20)",
    )
    group.add_argument(
        "--spike-factor",
        type=float,
        default=3.0,
        help="alert when errors in 5 min pass this multiple of the baseline; 0: off (default 3)",
    )


def config_from_args(args: argparse.Namespace, dashboard_url: str | None = None) -> AlertConfig:
    """The `AlertConfig` the flags describe."""
    return AlertConfig(
        webhooks=tuple(args.webhook),
        slack_webhooks=tuple(args.slack_webhook),
        quiet_minutes=args.alert_quiet_minutes,
        max_per_hour=args.alert_max_per_hour,
        spike_factor=args.spike_factor,
        dashboard_url=dashboard_url,
    )


def from_args(
    args: argparse.Namespace, store: Store, dashboard_url: str | None = None
) -> Alerter | None:
    """An alerter listening to `store` when the flags name a webhook; None otherwise."""
    config = config_from_args(args, dashboard_url)
    if not config.enabled:
        return None
    alerter = Alerter(config)
    alerter.attach(store)
    return alerter


__all__ = [
    "Alert",
    "AlertConfig",
    "AlertRules",
    "Alerter",
    "add_arguments",
    "check_number",
    "check_urls",
    "config_from_args",
    "from_args",
    "json_body",
    "slack_body",
]
