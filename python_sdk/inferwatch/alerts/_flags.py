"""The alert flags of a command (`inferwatch serve`), and the config and alerter they describe."""

from __future__ import annotations

import argparse

from ..store import Store
from ._config import AlertConfig
from ._delivery import Alerter


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
