"""The event pipeline: plain `(event, hint) -> event | None` steps run in sentry-sdk's
`before_send`, so every event (captured by the middleware, by the app, by a logging call) gets
the request, the model context and redaction before it leaves the process.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable
from typing import Any

from ._context import current_request
from ._options import Options
from ._record import model_record_of
from ._redact import Work, redact, redact_text
from ._types import Event, Hint, Mask
from .export import _tracing

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
        trace = event.setdefault("contexts", {}).setdefault("trace", {})
        trace["trace_id"] = request.trace_id
        sampling = trace.get("dynamic_sampling_context")
        if isinstance(sampling, dict):  # the envelope's `trace` header: the same trace, too
            trace["dynamic_sampling_context"] = {**sampling, "trace_id": request.trace_id}
        if request.trace is not None:  # spans are exported: the request's root span, which
            trace["span_id"] = request.trace.span_id  # is how Sentry links the two
            trace.pop("parent_span_id", None)
    return event


def add_model_context(event: Event, hint: Hint) -> Event:
    """`contexts["model"]`: the record attached to the exception (the call that failed), else
    the request's last failed model call, else its last model call: a route that fails after
    the model answered shows what the model received and returned."""
    exc_info = hint.get("exc_info")
    record = model_record_of(exc_info[1]) if exc_info else None
    request = current_request.get()
    if record is None and request is not None and request.model_calls:
        calls = request.model_calls
        call = next((c for c in reversed(calls) if c.status == "error"), calls[-1])
        record = call.record(call.status or "ok", call.error)
    if record is not None:
        event.setdefault("contexts", {})["model"] = record
        event.setdefault("tags", {})["model"] = record["name"]
        if record.get("request_id"):
            event["tags"].setdefault("request_id", record["request_id"])
    return event


CONTEXT_LINES = 5


def add_source_context(event: Event, hint: Hint) -> Event:
    """Source lines around each in-app frame, from `linecache`.

    sentry-sdk's own source context reads and splits the whole file again for every frame of
    every capture; the cache reads a file once, and library frames are left without lines.
    """
    for block in ("exception", "threads"):
        values = (
            (event.get(block) or {}).get("values") if isinstance(event.get(block), dict) else None
        )
        for value in values if isinstance(values, list) else ():
            frames = (
                ((value or {}).get("stacktrace") or {}).get("frames")
                if isinstance(value, dict)
                else None
            )
            for frame in frames if isinstance(frames, list) else ():
                if isinstance(frame, dict) and frame.get("in_app") and "context_line" not in frame:
                    _add_lines(frame)
    return event


def _add_lines(frame: dict[str, Any]) -> None:
    path, lineno = frame.get("abs_path"), frame.get("lineno")
    if not isinstance(path, str) or not isinstance(lineno, int):
        return
    lines = linecache.getlines(path)
    if not 0 < lineno <= len(lines):
        return
    # Redacted here, once a line: the app's own code may hold a secret (a hard-coded key or
    # password), and a line seen before answers from the cache of text known clean.
    cut = [
        redact_text(line.rstrip("\n")[:500])
        for line in lines[max(0, lineno - 1 - CONTEXT_LINES) : lineno + CONTEXT_LINES]
    ]
    at = min(lineno - 1, CONTEXT_LINES)
    frame["pre_context"], frame["context_line"], frame["post_context"] = (
        cut[:at],
        cut[at],
        cut[at + 1 :],
    )


def redactor(options: Options) -> Step:
    """Redact every string of the event that came from the app: messages, exception values,
    breadcrumbs, request, contexts, tags, extra, and the local variables of stack frames. One
    work budget for the whole event (`Work`): past it, text is cut rather than scanned."""

    def redact_event(event: Event, hint: Hint) -> Event:
        work = Work()
        for key, value in list(event.items()):
            if key in ("exception", "threads"):
                event[key] = _redact_stacks(value, options.mask, work)
            elif key not in _UNTOUCHED:
                event[key] = redact(value, options.mask, work)
        return event

    return redact_event


def _redact_stacks(block: Any, mask: Mask | None, work: Work) -> Any:
    """Exception or thread values with their frames' `vars` redacted: a frame's file and
    function are the app's code, not its users' data, and its source lines were redacted when
    `add_source_context` read them; walking them all again was most of the cost of a capture."""
    values = block.get("values") if isinstance(block, dict) else None
    if not isinstance(values, list):
        return redact(block, mask, work)
    out = []
    for value in values:
        if not isinstance(value, dict):
            out.append(redact(value, mask, work))
            continue
        stack = value.get("stacktrace")
        kept = redact({k: v for k, v in value.items() if k != "stacktrace"}, mask, work)
        if isinstance(stack, dict) and isinstance(stack.get("frames"), list):
            frames = [_redact_frame(f, mask, work) for f in stack["frames"]]
            kept["stacktrace"] = {**stack, "frames": frames}
        elif stack is not None:
            kept["stacktrace"] = redact(stack, mask, work)
        out.append(kept)
    return {**block, "values": out}


def _redact_frame(frame: Any, mask: Mask | None, work: Work) -> Any:
    if not isinstance(frame, dict):
        return redact(frame, mask, work)
    if "vars" not in frame:
        return frame
    return {**frame, "vars": redact(frame["vars"], mask, work)}


def note_on_trace(event: Event, hint: Hint) -> Event:
    """Tell the request's trace an error was captured: it is kept, and shows the error."""
    if _tracing.current is not None:
        _tracing.current.error_captured(event)
    return event


def pipeline(options: Options) -> Callable[[Event, Hint], Event | None]:
    """The steps in order; the user's own `before_send` runs last, on redacted data, and an
    event it keeps is noted on the request's trace."""
    steps: list[Step] = [add_request, add_model_context, add_source_context, redactor(options)]
    if options.before_send is not None:
        steps.append(options.before_send)
    steps.append(note_on_trace)
    return _chain(steps)


def transaction_pipeline(options: Options) -> Callable[[Event, Hint], Event | None]:
    """What a transaction goes through (`before_send_transaction`): the request, redaction."""
    return _chain([add_request, redactor(options)])


def _chain(steps: list[Step]) -> Callable[[Event, Hint], Event | None]:
    def before_send(event: Event, hint: Hint) -> Event | None:
        for step in steps:
            result = step(event, hint)
            if result is None:
                return None
            event = result
        return event

    return before_send
