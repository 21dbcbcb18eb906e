"""Browser stack traces from Chrome, Firefox and Safari, parsed into Sentry's frame shape."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

_NOT_APP = ("/node_modules/", "inferwatch.min.js", "inferwatch.mjs", "/@vite/", "/react-dom")
_NOT_APP_SCHEMES = (
    "chrome-extension:",
    "moz-extension:",
    "safari-extension:",
    "safari-web-extension:",
)
MAX_FRAMES = 50
MAX_LINES = 200
MAX_LINE_CHARS = 1000


def parse_stack(stack: str | None) -> list[dict[str, Any]]:
    """Frames oldest first (Sentry's order), the innermost last.

    Parsed by splitting, not by regular expressions: a stack comes from any page, and patterns
    with lazy groups before an anchored end take quadratic time on a long line.

    >>> parse_stack("TypeError: x\\n    at f (http://h/app.js:1:2)")[0]["function"]
    'f'
    """
    frames = []
    for line in (stack or "").splitlines()[:MAX_LINES]:
        frame = _parse_line(line.strip()[:MAX_LINE_CHARS])
        if frame is not None:
            frames.append(frame)
            if len(frames) == MAX_FRAMES:
                break
    return list(reversed(frames))


def _parse_line(line: str) -> dict[str, Any] | None:
    if line.startswith("at "):  # Chrome: `at fn (url:line:col)` or `at url:line:col`
        body = line[3:].removeprefix("async ")
        func, _, location = body[:-1].rpartition(" (") if body.endswith(")") else ("", "", body)
    elif "@" in line:  # Firefox and Safari: `fn@url:line:col`
        func, _, location = line.partition("@")
    else:
        return None
    url, lineno, colno = _location(location.strip())
    if lineno is None and url not in ("<anonymous>", "native"):
        return None
    return _frame(func, url, lineno, colno)


def _location(text: str) -> tuple[str, int | None, int | None]:
    """`url:line:col`, `url:line` or `url`."""
    head, _, last = text.rpartition(":")
    if not (head and last.isdigit()):
        return text, None, None
    url, _, line = head.rpartition(":")
    if url and line.isdigit():
        return url, int(line), int(last)
    return head, int(last), None


def _frame(func: str, url: str, lineno: int | None, colno: int | None) -> dict[str, Any]:
    path = urlsplit(url).path or url
    frame: dict[str, Any] = {
        "filename": path,
        "abs_path": url,
        "function": _function(func),
        "in_app": not (
            url.startswith(_NOT_APP_SCHEMES)
            or any(p in url for p in _NOT_APP)
            or url in ("<anonymous>", "native")
        ),
    }
    if lineno is not None:
        frame["lineno"] = lineno
    if colno is not None:
        frame["colno"] = colno
    return frame


def _function(name: str | None) -> str:
    name = (name or "").strip()
    if not name or name == "global code":
        return "?"
    return name.replace("/<", "").replace("<", "").strip() or "?"
