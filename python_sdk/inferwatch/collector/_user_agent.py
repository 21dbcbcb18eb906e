"""The browser, OS and device an event's user agent names, read by Relay once per user agent.

Relay's normalizer fills `contexts.browser`, `device` and `os` (`client_os` for an event that
is not JavaScript's, so a server SDK's own `os` stays) from the `User-Agent` and `Sec-CH-UA*`
headers of the event's request, when the event has no such context yet. Parsing a user agent
is most of Relay's work on an event (about 0.3 to 0.5 ms against 0.2 ms for the rest of a 5 KB
event), and an app's traffic comes from a few hundred user agents at most. So the collector
runs Relay with user agents off, then asks Relay again, on an event that holds only the
platform and those headers, once per distinct (platform kind, headers): the contexts are Relay's
own, merged where Relay would have put them.
"""

from __future__ import annotations

import functools
from typing import Any

from .. import _json
from .._types import Event

_HEADERS = frozenset(
    (
        "user-agent",
        "sec-ch-ua",
        "sec-ch-ua-model",
        "sec-ch-ua-platform",
        "sec-ch-ua-platform-version",
    )
)
_MAX_CACHED_CHARS = 2048  # longer headers are parsed every time, so the cache stays small
_CONTEXTS = ("browser", "device", "os", "client_os")

Hints = tuple[tuple[str, str], ...]


def add_user_agent_contexts(event: Event) -> Event:
    """`event` (normalized by Relay with user agents off) with the contexts Relay derives from
    its request's user agent headers, where it has none of that kind yet."""
    hints = _hints(event)
    if not hints:
        return event
    javascript = event.get("platform") == "javascript"
    if sum(len(k) + len(v) for k, v in hints) <= _MAX_CACHED_CHARS:
        derived = _derived(javascript, hints)
    else:
        derived = _derived.__wrapped__(javascript, hints)
    if not derived:
        return event
    contexts = event.get("contexts")
    if not isinstance(contexts, dict):
        contexts = event["contexts"] = {}
    for key, context in derived.items():
        if key not in contexts:
            contexts[key] = dict(context)
    return event


def _hints(event: Event) -> Hints:
    """The user agent headers of the event's request, as Relay reads them: names folded, the
    last of a repeated name kept, pairs in a fixed order (the cache key)."""
    request = event.get("request")
    headers = request.get("headers") if isinstance(request, dict) else None
    if isinstance(headers, dict):
        headers = list(headers.items())
    if not isinstance(headers, list):
        return ()
    found: dict[str, str] = {}
    for pair in headers:
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            name, value = pair
            if isinstance(name, str) and isinstance(value, str) and name.lower() in _HEADERS:
                found[name.lower()] = value
    return tuple(sorted(found.items()))


@functools.lru_cache(maxsize=1024)
def _derived(javascript: bool, hints: Hints) -> dict[str, Any]:
    """The contexts Relay derives from `hints` for an event of this platform kind."""
    probe = {"platform": "javascript" if javascript else "other", "request": {"headers": hints}}
    out = _parser().normalize_event(raw_event=_json.dumps(probe).encode(), json_loads=_json.loads)
    contexts = out.get("contexts") if isinstance(out, dict) else None
    if not isinstance(contexts, dict):
        return {}
    return {k: v for k, v in contexts.items() if k in _CONTEXTS and isinstance(v, dict)}


@functools.cache
def _parser() -> Any:
    """A Relay normalizer that reads user agents (its other settings do not touch contexts)."""
    from ._normalize import relay

    return relay().StoreNormalizer(normalize_user_agent=True, enable_trimming=False)
