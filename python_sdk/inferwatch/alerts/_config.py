"""Alert options, checked once (the checks are the options' own, in `_options.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from .._options import check_number, check_urls, safe_url


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
        hooks = [safe_url(u) for u in (*self.webhooks, *self.slack_webhooks)]
        return (
            f"AlertConfig(webhooks={hooks}, quiet_minutes={self.quiet_minutes}, "
            f"max_per_hour={self.max_per_hour}, spike_factor={self.spike_factor})"
        )

    @property
    def enabled(self) -> bool:
        return bool(self.webhooks or self.slack_webhooks)
