"""Sentry's own event normalizer at the door: every event is read as Sentry reads it.

`sentry-relay` is the Rust code Sentry's ingestion runs (Relay), published for Python. Its
`StoreNormalizer` turns legacy payloads (`sentry.interfaces.Exception`, `...Message`, a top-level
`stacktrace` beside one exception) into today's schema, formats `logentry` from its params,
reads `level: 40` as `error`, sets `platform: other` when it is missing, replaces an invalid
`event_id`, clamps timestamps too far in the past or future to the time the event arrived, and
fills `contexts.browser`, `os` and `device` from a user agent (`_user_agent`: once per agent). What it changed is recorded in
the event's `errors` and `_meta`, as in Sentry.

It is imported on the first event, never on `import inferwatch` (its wheel is 22 MB of native
code, and the SDK has no use for it).

>>> normalizer = Normalizer(Arrival(received=time.time()))    # doctest: +SKIP
>>> normalizer.event(b'{"message": {"message": "Hi %s", "params": ["Al"]}, "level": 40}')
... # doctest: +SKIP
{'event_id': '...', 'level': 'error', 'type': 'default', 'logentry': {'formatted': 'Hi Al', ...
"""

from __future__ import annotations

import functools
import importlib
import math
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from .. import _json
from .._errors import ConfigError
from .._types import Event
from ._repair import add_meta, may_need_repair, repair
from ._user_agent import add_user_agent_contexts

MAX_SECS_IN_FUTURE = 60  # Relay's default: a client clock a minute fast is not the event's fault
DEFAULT_MAX_AGE_DAYS = 30.0  # Relay's default, and the store's default retention
_MAX_DEPTH = 100  # below serde_json's limit of 128 levels, which Relay cannot read past


class NotNormalized(ValueError):
    """Sentry's normalizer refused the event; the message says why, in a sentence."""


class TransactionEvent(ValueError):
    """The event is a transaction (performance data), not an error: it opens no issue."""


@dataclass(frozen=True, kw_only=True)
class Arrival:
    """What the request says about the events it carries.

    `received` is when they arrived (epoch seconds): the time Relay stores an event at when its
    own timestamp is older than `max_age_days` or more than a minute ahead. `user_agent` is the
    request's (a browser SDK's events get their browser and OS from it), `client` the SDK named
    in `X-Sentry-Auth`, `project_id` the DSN's project.
    """

    received: float
    user_agent: str | None = None
    client: str | None = None
    project_id: int | None = None
    max_age_days: float = DEFAULT_MAX_AGE_DAYS


class Normalizer:
    """Relay's `StoreNormalizer` set up for one request's events."""

    def __init__(self, arrival: Arrival) -> None:
        self.arrival = arrival
        self._relay = relay().StoreNormalizer(**_config(arrival))

    def event(self, payload: bytes, header_event_id: str | None = None) -> Event:
        """The event in `payload` (JSON bytes) as Relay normalizes it, repaired first where the
        store could not hold a value (see `_repair`); `NotNormalized` when Relay cannot read
        it, `TransactionEvent` when it is a transaction."""
        if payload.lstrip()[:1] != b"{":
            raise NotNormalized("an event must be a JSON object")
        payload = _repaired(payload)
        event = self._normalize(payload)
        if header_event_id and b'"event_id"' not in payload:  # Relay made one up: the
            event["event_id"] = header_event_id  # envelope header's is the event's, as in Relay
        return tags_as_mapping(add_user_agent_contexts(event))

    def event_dict(self, event: Event) -> Event:
        """`event` (a mapping already in memory, such as a converted browser error) normalized."""
        return self.event(_json.dumps(event).encode())

    def _normalize(self, payload: bytes) -> Event:
        try:
            out = self._call(payload)
        except NotNormalized as exc:
            if "recursion limit" not in str(exc):
                raise
            out = self._call(_json.dumps(cut_deep(_json.loads(payload))).encode())
        if not isinstance(out, dict):
            raise NotNormalized("Sentry's normalizer returned no event")
        if out.get("type") == "transaction":
            raise TransactionEvent("a transaction is performance data, not an error")
        return out

    def _call(self, payload: bytes) -> Any:
        errors = relay().exceptions
        try:
            return self._relay.normalize_event(raw_event=payload, json_loads=_json.loads)
        except errors.ProcessingErrorInvalidTransaction as exc:
            raise TransactionEvent(_first_line(exc)) from None
        except errors.InvalidJsonError as exc:
            raise NotNormalized(f"Sentry's normalizer cannot read it: {_first_line(exc)}") from None
        except errors.RelayError as exc:
            raise NotNormalized(f"Sentry's normalizer refused it: {_first_line(exc)}") from None


def normalizer_for(arrival: Arrival) -> Normalizer:
    """A normalizer for `arrival`, shared by the requests that arrive within the same 10 ms with
    the same settings (making one costs about as much as reading a small event)."""
    return _cached(replace(arrival, received=math.floor(arrival.received * 100) / 100))


@functools.lru_cache(maxsize=64)
def _cached(arrival: Arrival) -> Normalizer:
    return Normalizer(arrival)


def normalized(event: Event, arrival: Arrival | None = None) -> Event:
    """`event` (a mapping already in memory, such as a converted browser error) normalized as
    Relay normalizes what SDKs send; `NotNormalized` when it cannot be."""
    return normalizer_for(arrival or Arrival(received=time.time())).event_dict(event)


@functools.cache
def relay() -> Any:
    """The `sentry_relay` package, imported on first use (a clear error where it is missing)."""
    try:
        package = importlib.import_module("sentry_relay")
        importlib.import_module("sentry_relay.processing")
        importlib.import_module("sentry_relay.exceptions")
    except ImportError as exc:  # no wheel for this platform (Windows, musl): say what to do
        raise ConfigError(
            "inferwatch: the collector needs sentry-relay, Sentry's event normalizer"
            f" ({exc}); install it with `pip install sentry-relay` (wheels exist for Linux"
            " with glibc and for macOS)"
        ) from exc
    return package


def _config(arrival: Arrival) -> dict[str, Any]:
    config: dict[str, Any] = {
        "received_at": datetime.fromtimestamp(arrival.received, timezone.utc).isoformat(),
        "max_secs_in_past": int(arrival.max_age_days * 86400),
        "max_secs_in_future": MAX_SECS_IN_FUTURE,
        # User agents are read once per distinct one, by `_user_agent` (most of Relay's time).
        "normalize_user_agent": False,
        # No trimming: Sentry's would write a structure nested past its depth limits as JSON
        # text, where the key rules of redaction (which runs next) no longer see a secret's key.
        # The collector bounds an event's size itself (`max_event_bytes`).
        "enable_trimming": False,
    }
    if arrival.user_agent:
        config["user_agent"] = arrival.user_agent[:1024]
    if arrival.client:
        config["client"] = arrival.client[:200]
    if arrival.project_id is not None:
        config["project_id"] = arrival.project_id
    return config


def _repaired(payload: bytes) -> bytes:
    """`payload`, with what the store cannot hold (and Relay's reader refuses: lone surrogates)
    repaired and recorded in `_meta`, which Relay reads and keeps."""
    if not may_need_repair(payload):
        return payload
    try:
        event = _json.loads(payload)
    except (ValueError, RecursionError):
        return payload  # Relay says what is wrong with it
    if not isinstance(event, dict):
        return payload
    repairs = repair(event)
    if not repairs:
        return payload
    add_meta(event, repairs)
    return _json.dumps(event).encode()


def tags_as_mapping(event: Event) -> Event:
    """`tags` as a mapping, as SDKs send them (Relay writes `[key, value]` pairs; both are its
    schema): every reader of the store, and the SDK's own events, use the mapping."""
    tags = event.get("tags")
    if isinstance(tags, list) and all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in tags
    ):
        event["tags"] = {key: value for key, value in tags}
    return event


def cut_deep(value: Any, depth: int = 0) -> Any:
    """`value` with what is nested deeper than Relay reads replaced by a note (iteration would
    be safer, but `_json` read it, so Python's recursion holds for the walk)."""
    if isinstance(value, dict):
        if depth >= _MAX_DEPTH:
            return "[nested too deeply]"
        return {k: cut_deep(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth >= _MAX_DEPTH:
            return "[nested too deeply]"
        return [cut_deep(v, depth + 1) for v in value]
    return value


def _first_line(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).strip().splitlines()[0][:200] if str(message).strip() else "no reason"
