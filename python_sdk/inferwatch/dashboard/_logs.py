"""A log record as the pages show it: its message and level, the logger that wrote it, and its
own fields, without what frameworks add for their consoles.

uvicorn gives each record a `color_message` extra (the message again, with ANSI colour codes)
that sentry-sdk's logging integration keeps as breadcrumb data; uvicorn's start-up lines come
from the logger `uvicorn.error` at INFO. So the level decides how a line looks, the logger name
is shown as the source it is, and colour codes are dropped wherever they appear.
"""

from __future__ import annotations

import re
from typing import Any

# Extras that only serve a console: uvicorn's coloured copy of the message, Rich's markup
# switches, and `taskName` (a LogRecord attribute since Python 3.12 that some SDKs pass on).
FRAMEWORK_EXTRAS = frozenset({"color_message", "markup", "highlighter", "taskName"})
# CSI sequences (`ESC [ ... m`, cursor moves) and the two-character escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_MAX_DEPTH = 20  # stored JSON may nest as deep as a sender likes
_LEVELS = {"warn": "warning", "critical": "fatal", "err": "error", "log": "info"}


def plain(text: str) -> str:
    """`text` without ANSI escape codes.

    >>> plain("Started server process [\\x1b[36m42\\x1b[0m]")
    'Started server process [42]'
    """
    return _ANSI.sub("", text) if "\x1b" in text else text


def level(value: Any) -> str:
    """A Sentry level (`fatal`, `error`, `warning`, `info`, `debug`) from what a record says.

    >>> level("WARN"), level(None), level("critical")
    ('warning', '', 'fatal')
    """
    name = str(value or "").strip().lower()
    return _LEVELS.get(name, name)


def extras(data: Any, depth: int = 0) -> Any:
    """A record's own fields: framework-only ones dropped, colour codes taken out of the rest.

    >>> extras({"color_message": "\\x1b[1mhi\\x1b[0m", "port": 8000})
    {'port': 8000}
    """
    if depth > _MAX_DEPTH:
        return data
    if isinstance(data, dict):
        return {
            plain(str(k)): extras(v, depth + 1)
            for k, v in data.items()
            if str(k) not in FRAMEWORK_EXTRAS
        }
    if isinstance(data, list):
        return [extras(v, depth + 1) for v in data]
    return plain(data) if isinstance(data, str) else data
