"""Browser errors that are noise, dropped at ingest as Sentry's inbound filters drop them.

"Script error." is what a browser reports for an error in a cross-origin script it will not
describe, and "ResizeObserver loop ..." a benign notice. The snippet sends them (its size budget
is better spent elsewhere, and it folds repeats into one event with a count); the collector
drops them before they are stored.
"""

from __future__ import annotations

import re

from . import _browser_schema as schema

NOISE = re.compile(r"^(Script error\.?$|ResizeObserver loop )")


def is_noise(event: schema.ErrorEvent) -> bool:
    """Whether `event` is noise every page produces, not a crash of its own."""
    return NOISE.match(event.message) is not None
