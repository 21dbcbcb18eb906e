"""Which stored changes become alerts: new issues, regressions, error-rate spikes, and the hour's
summary of what the cap held back. Pure bookkeeping with an injected clock; the store's writer
thread runs it after each commit, in a few microseconds."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._redact import redact_text
from ..store import IssueChange
from ._config import AlertConfig

Clock = Callable[[], float]
HOUR = 3600.0
MAX_TITLE = 200


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
