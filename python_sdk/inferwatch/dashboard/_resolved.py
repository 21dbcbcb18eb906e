"""What the issue page shows of source-mapped events: the component path React gave, and the
frames as the browser sent them (minified) beside the resolved ones."""

from __future__ import annotations

from typing import Any

from ..sourcemaps._resolve import COMPONENT_STACK_PREFIX
from ._shapes import items, mapping, values


def raw_frames(exc: dict[str, Any]) -> list[dict[str, Any]]:
    """The exception's frames as sent (`raw_stacktrace`), innermost first; empty when its
    frames were never resolved.

    >>> raw_frames({"raw_stacktrace": {"frames": [{"function": "g", "abs_path": "/a.js"}]}})
    [{'function': 'g', 'where': '/a.js', 'lineno': None, 'colno': None}]
    """
    frames = [
        f for f in items(mapping(exc.get("raw_stacktrace")).get("frames")) if isinstance(f, dict)
    ]
    return [
        {
            "function": str(f.get("function") or "?"),
            "where": str(f.get("abs_path") or f.get("filename") or "?"),
            "lineno": f.get("lineno"),
            "colno": f.get("colno"),
        }
        for f in reversed(frames)
    ]


def component_path(data: dict[str, Any]) -> list[dict[str, Any]]:
    """React's component stack as a path from the root to the component that threw: each
    component's name and whether it is the app's own (host elements such as `div` left out).

    >>> event = {"exception": {"values": [{"type": "React ErrorBoundary Error", "stacktrace":
    ...     {"frames": [{"function": "App", "in_app": True}, {"function": "div"},
    ...                 {"function": "new ErrorBoundary", "in_app": False}]}}]}}
    >>> [c["name"] for c in component_path(event)]
    ['App', 'ErrorBoundary']
    """
    for exc in values(data.get("exception")):
        if str(exc.get("type") or "").startswith(COMPONENT_STACK_PREFIX):
            frames = items(mapping(exc.get("stacktrace")).get("frames"))
            return [c for c in map(_component, frames) if c is not None]
    return []


def _component(frame: Any) -> dict[str, Any] | None:
    if not isinstance(frame, dict):
        return None
    name = str(frame.get("function") or "").removeprefix("new ")
    if not name or name == "?" or (name[0].islower() and "lineno" not in frame):
        return None  # a host element (`div`, `section`): React lists them without a place
    return {"name": name, "in_app": bool(frame.get("in_app")), "file": frame.get("filename")}
