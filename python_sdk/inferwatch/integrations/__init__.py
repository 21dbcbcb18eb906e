"""Model context without decorators: integrations for LLM clients.

`inferwatch.init()` turns on every integration whose client library is installed (as sentry-sdk
turns on its auto-enabling integrations); `integrations=[...]` chooses them, `integrations=[]` or
`default_integrations=False` turns them off. An integration patches its client only when the app
imports it, and a call through it becomes a model call exactly as `watch_model` makes one.

    import inferwatch
    from inferwatch.integrations import OpenAIIntegration

    inferwatch.init(app, integrations=[OpenAIIntegration()])
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from typing import Protocol

from ._calls import active
from .anthropic import AnthropicIntegration
from .openai import OpenAIIntegration

__all__ = ["AnthropicIntegration", "Integration", "OpenAIIntegration", "default_integrations"]


class Integration(Protocol):
    """What `init(integrations=[...])` accepts: a name (the provider) and `setup()`."""

    name: str

    def setup(self) -> None: ...


_LIBRARIES: dict[str, Callable[[], Integration]] = {
    "openai": OpenAIIntegration,
    "anthropic": AnthropicIntegration,
}


def default_integrations() -> list[Integration]:
    """The integrations whose library is installed (looked up, not imported)."""
    return [cls() for lib, cls in _LIBRARIES.items() if importlib.util.find_spec(lib) is not None]


def install(integrations: Iterable[Integration]) -> None:
    """Make exactly these integrations active (the ones of a previous `init` go quiet)."""
    chosen = list(integrations)
    active.clear()
    for integration in chosen:
        integration.setup()
        active.add(integration.name)
