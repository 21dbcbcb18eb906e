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

from ._config import AlertConfig
from ._delivery import Alerter
from ._flags import add_arguments, config_from_args, from_args
from ._messages import json_body, slack_body
from ._rules import Alert, AlertRules

__all__ = [
    "Alert",
    "AlertConfig",
    "AlertRules",
    "Alerter",
    "add_arguments",
    "config_from_args",
    "from_args",
    "json_body",
    "slack_body",
]
