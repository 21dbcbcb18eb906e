"""Browser stack traces from Chrome, Firefox and Safari, parsed into Sentry's frame shape."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

_CHROME = re.compile(
    r"^\s*at (?:(?:async )?(?P<func>.+?) \()?(?P<file>.+?)(?::(?P<line>\d+))?(?::(?P<col>\d+))?\)?\s*$"
)
_GECKO = re.compile(r"^\s*(?P<func>[^@]*)@(?P<file>.+?)(?::(?P<line>\d+))?(?::(?P<col>\d+))?\s*$")
_NOT_APP = ("/node_modules/", "inferwatch.min.js", "inferwatch.mjs", "/@vite/", "/react-dom")
_NOT_APP_SCHEMES = (
    "chrome-extension:",
    "moz-extension:",
    "safari-extension:",
    "safari-web-extension:",
)
MAX_FRAMES = 50


def parse_stack(stack: str | None) -> list[dict[str, Any]]:
    """Frames oldest first (Sentry's order), the innermost last.

    >>> parse_stack("TypeError: x\\n    at f (http://h/app.js:1:2)")[0]["function"]
    'f'
    """
    frames = []
    for line in (stack or "").splitlines():
        match = (_CHROME if line.lstrip().startswith("at ") else _GECKO).match(line)
        if match and (match["line"] or match["file"] in ("<anonymous>", "native")):
            frames.append(_frame(match))
    return list(reversed(frames[:MAX_FRAMES]))


def _frame(match: re.Match[str]) -> dict[str, Any]:
    url = match["file"].strip()
    path = urlsplit(url).path or url
    frame: dict[str, Any] = {
        "filename": path,
        "abs_path": url,
        "function": _function(match["func"]),
        "in_app": not (
            url.startswith(_NOT_APP_SCHEMES)
            or any(p in url for p in _NOT_APP)
            or url in ("<anonymous>", "native")
        ),
    }
    if match["line"]:
        frame["lineno"] = int(match["line"])
    if match["col"]:
        frame["colno"] = int(match["col"])
    return frame


def _function(name: str | None) -> str:
    name = (name or "").strip()
    if not name or name == "global code":
        return "?"
    return name.replace("/<", "").replace("<", "").strip() or "?"
