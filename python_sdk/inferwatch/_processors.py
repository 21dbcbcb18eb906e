"""The event pipeline: plain `(event, hint) -> event | None` steps run in sentry-sdk's
`before_send`, so every event (captured by the middleware, by the app, by a logging call) gets
the request, the model context and redaction before it leaves the process.
"""

from __future__ import annotations

from collections.abc import Callable

from ._context import current_request
from ._model import model_record_of
from ._options import Options
from ._redact import redact
from ._types import Event, Hint

Step = Callable[[Event, Hint], "Event | None"]

# Parts of an event that are ours or sentry-sdk's own bookkeeping, never user data.
_UNTOUCHED = frozenset(
    {
        "event_id",
        "timestamp",
        "platform",
        "level",
        "sdk",
        "modules",
        "fingerprint",
        "release",
        "environment",
        "server_name",
        "_meta",
    }
)


def add_request(event: Event, hint: Hint) -> Event:
    """Method, route, URL, filtered headers and the request id of the request being served."""
    request = current_request.get()
    if request is None:
        return event
    event.setdefault("request", request.as_sentry_request())
    route = request.route
    if route:
        event["transaction"] = route
    tags = event.setdefault("tags", {})
    tags["request_id"] = request.request_id
    if request.trace_id:
        event.setdefault("contexts", {}).setdefault("trace", {})["trace_id"] = request.trace_id
    return event


def add_model_context(event: Event, hint: Hint) -> Event:
    """`contexts["model"]` from the exception's model record, or from the request's last failed
    model call when the event is not about an exception (a 5xx the app returned itself)."""
    exc_info = hint.get("exc_info")
    record = model_record_of(exc_info[1]) if exc_info else None
    request = current_request.get()
    if record is None and exc_info is None and request is not None and request.failed_models:
        record = request.failed_models[-1]
    if record is not None:
        event.setdefault("contexts", {})["model"] = record
        event.setdefault("tags", {})["model"] = record["name"]
        if record.get("request_id"):
            event["tags"].setdefault("request_id", record["request_id"])
    return event


def redactor(options: Options) -> Step:
    """Redact every string of the event that came from the app: messages, exception values,
    breadcrumbs, request, contexts, tags, extra."""

    def redact_event(event: Event, hint: Hint) -> Event:
        for key, value in list(event.items()):
            if key not in _UNTOUCHED:
                event[key] = redact(value, options.mask)
        return event

    return redact_event


def pipeline(options: Options) -> Callable[[Event, Hint], Event | None]:
    """The steps in order; the user's own `before_send` runs last, on redacted data."""
    steps: list[Step] = [add_request, add_model_context, redactor(options)]
    if options.before_send is not None:
        steps.append(options.before_send)

    def before_send(event: Event, hint: Hint) -> Event | None:
        for step in steps:
            result = step(event, hint)
            if result is None:
                return None
            event = result
        return event

    return before_send
