"""React's component stack, stored as Sentry's React SDK sends it.

The text React hands to an error boundary or a root's error handler (`info.componentStack`) is
kept in `contexts.react.componentStack`, and also parsed into frames as a linked exception,
`React ErrorBoundary <Error>`, the oldest of the chain (@sentry/react sets it as the error's
`cause`). Its frames are then resolved through the source maps like any other stack, and the
issue page shows them as a component path; React's own frames are library frames there.
"""

from __future__ import annotations

from typing import Any

from .._types import Event
from ..sourcemaps._resolve import COMPONENT_STACK_PREFIX
from ._stack import parse_stack


def add_component_stack(event: Event, component_stack: str, name: str, message: str) -> None:
    """Add React's component stack to a browser error in the Sentry event schema, in place.

    >>> event = {"exception": {"values": [{"type": "TypeError", "value": "x"}]}}
    >>> add_component_stack(event, "    at Card (http://h/a.js:1:2)", "TypeError", "x")
    >>> [v["type"] for v in event["exception"]["values"]]
    ['React ErrorBoundary TypeError', 'TypeError']
    """
    event.setdefault("contexts", {})["react"] = {"componentStack": component_stack}
    frames = parse_stack(component_stack)
    if not frames:
        return
    linked: dict[str, Any] = {
        "type": f"{COMPONENT_STACK_PREFIX}{name}",
        "value": message,
        "stacktrace": {"frames": frames},
        "mechanism": {"type": "chained", "source": "cause", "handled": True},
    }
    event["exception"]["values"].insert(0, linked)
