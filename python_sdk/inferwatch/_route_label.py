"""The route a request is counted under: its template, the static files that answered it, or
the pattern of a path no route matched.

The middleware writes this label into the store (the usage page, `inferwatch export`), the
request's log line and the Prometheus counters. A label must say what was asked for and stay
few: `/items/{item_id}`, `/{path} (static files)`, `/wp-admin/{id}.php (no route)`. Paths that
match nothing are grouped by their shape (numbers, ids and long tokens become placeholders), and
past `MAX_PATTERNS` shapes in a process they all become `<unmatched>`, so a scanner trying
thousands of paths cannot grow the labels without end.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

UNMATCHED = "<unmatched>"
MAX_PATTERNS = 100
_MAX_SEGMENTS = 4
_NAME = re.compile(r"^[A-Za-z0-9_.~-]{1,32}$")
_PLACEHOLDERS = (
    (re.compile(r"^[0-9]+$"), "{int}"),
    (re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$"), "{uuid}"),
    (re.compile(r"^(?=.*[0-9])[0-9a-fA-F]{8,}$"), "{hex}"),
)
_STEM = re.compile(r"^(.*?)(\.[A-Za-z0-9]{1,8})$")


def matched_route(scope: dict[str, Any]) -> Any:
    """The route that answered: `scope["route"]`, else the one of `scope["router"]` whose
    endpoint (or mounted app) is `scope["endpoint"]`. FastAPI 0.16x sets `scope["route"]` only
    for its own routes: a plain Starlette `Route` (`/metrics`) or a `Mount` (static files)
    leaves just its endpoint behind."""
    route = scope.get("route")
    endpoint = scope.get("endpoint")
    if route is not None or endpoint is None:
        return route
    for candidate in getattr(scope.get("router"), "routes", ()):
        owner = candidate.app if isinstance(candidate, Mount) else candidate
        if getattr(owner, "endpoint", owner) is endpoint or candidate is endpoint:
            return candidate
    return None


def route_label(template: str | None, scope: dict[str, Any], status: int) -> str:
    """The label of a finished request.

    >>> route_label("/items/{item_id}", {"path": "/items/3"}, 200)
    '/items/{item_id}'
    >>> route_label(None, {"path": "/orders/81723/receipt.pdf"}, 404)
    '/orders/{int}/receipt.pdf (no route)'
    """
    if isinstance(scope.get("endpoint"), StaticFiles):
        if status < 400:
            return f"{template or ''}/{{path}} (static files)"
        return _unmatched(scope)  # a file that is not there: as if no route had matched
    if template:
        return template
    return _unmatched(scope)


def path_pattern(path: str) -> str:
    """`path` with its variable parts replaced, at most four segments deep.

    >>> path_pattern("/api/users/42/avatar"), path_pattern("/a/b/c/d/e/f")
    ('/api/users/{int}/avatar', '/a/b/c/d/…')
    """
    segments = [s for s in path.split("/") if s]
    shown = [_segment(s) for s in segments[:_MAX_SEGMENTS]]
    more = "/…" if len(segments) > _MAX_SEGMENTS else ""
    return "/" + "/".join(shown) + more


def _segment(segment: str) -> str:
    for pattern, placeholder in _PLACEHOLDERS:
        if pattern.match(segment):
            return placeholder
    stem, suffix = _split_suffix(segment)
    if _NAME.match(stem) and not _looks_like_a_token(stem):
        return stem + suffix
    return "{id}" + suffix if suffix else "{id}"


def _split_suffix(segment: str) -> tuple[str, str]:
    """`receipt.pdf` → (`receipt`, `.pdf`): a file's type says what was asked for."""
    found = _STEM.match(segment)
    return (found.group(1), found.group(2)) if found and found.group(1) else (segment, "")


def _looks_like_a_token(text: str) -> bool:
    """A run of letters mixed with 4+ digits (`a8f3k2j9x`, `page-3f2a...`): an id, not a name."""
    return sum(c.isdigit() for c in text) >= 4 or len(text) > 24


class _Patterns:
    """The unmatched-path patterns seen by this process, at most `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def label(self, pattern: str) -> str:
        if pattern in self._seen:
            return pattern
        with self._lock:
            if len(self._seen) >= self.limit:
                return UNMATCHED
            self._seen.add(pattern)
        return pattern

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


patterns = _Patterns(MAX_PATTERNS)


def _unmatched(scope: dict[str, Any]) -> str:
    # `path` is the whole path, mounts and a proxy's `root_path` included (ASGI 2.x).
    return patterns.label(f"{path_pattern(str(scope.get('path') or ''))} (no route)")
