"""Where an event crashed: its main exception, the stack trace that tells, and the crash frame.

A stored event holds any JSON its sender chose, so every reader here checks each field's type
and returns an empty value for anything unexpected.

The stack trace that tells is the one Sentry reads: that of the exceptions (the last one that has
frames), else that of the crashed thread (or of the only thread), else the top-level one.
"""

from __future__ import annotations

from typing import Any

from .._types import Event


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def values(value: Any) -> list[dict[str, Any]]:
    """The objects of `{"values": [...]}` (or of the bare list Sentry also accepts)."""
    listed = items(value.get("values")) if isinstance(value, dict) else items(value)
    return [v for v in listed if isinstance(v, dict)]


def exceptions(event: Event) -> list[dict[str, Any]]:
    """The exceptions of the event, oldest first (the one raised last is last)."""
    return values(event.get("exception"))


def main_exception(event: Event) -> dict[str, Any] | None:
    """The exception a title names: the one `main_exception_id` points at (an exception group's
    chosen member), else the last one.

    >>> main_exception({"exception": {"values": [{"type": "A"}, {"type": "B"}]}})["type"]
    'B'
    """
    listed = exceptions(event)
    main_id = event.get("main_exception_id")
    if main_id is not None:
        for exc in listed:
            if mapping(exc.get("mechanism")).get("exception_id") == main_id:
                return exc
    return listed[-1] if listed else None


def is_synthetic(exc: dict[str, Any] | None) -> bool:
    """An exception the SDK made up to carry a stack trace (a signal, a message): its type and
    value say nothing of the error."""
    return bool(exc) and mapping(mapping(exc).get("mechanism")).get("synthetic") is True


def frames_of(stacktrace: Any) -> list[dict[str, Any]]:
    return [f for f in items(mapping(stacktrace).get("frames")) if isinstance(f, dict)]


def crashed_thread(event: Event) -> dict[str, Any] | None:
    """The thread marked `crashed`, else the only thread there is."""
    threads = values(event.get("threads"))
    for thread in threads:
        if thread.get("crashed") is True:
            return thread
    return threads[0] if len(threads) == 1 else None


def telling_frames(event: Event) -> list[dict[str, Any]]:
    """The frames of the stack trace that tells where the event happened, oldest first."""
    for exc in reversed(exceptions(event)):
        frames = frames_of(exc.get("stacktrace"))
        if frames:
            return frames
    thread = crashed_thread(event)
    if thread is not None:
        frames = frames_of(thread.get("stacktrace"))
        if frames:
            return frames
    return frames_of(event.get("stacktrace"))


def crash_frame(frames: list[dict[str, Any]], *, named: bool = False) -> dict[str, Any] | None:
    """The innermost in-app frame, else the innermost frame; `named`: only frames whose function
    is known (Sentry's rule for the crash location).

    >>> crash_frame([{"function": "a", "in_app": True}, {"function": "b"}])["function"]
    'a'
    """
    fallback: dict[str, Any] | None = None
    for frame in frames[::-1]:
        if named and frame.get("function") in _UNNAMED:
            continue
        if frame.get("in_app") is True:
            return frame
        if fallback is None:
            fallback = frame
    return fallback


_UNNAMED = (None, "<redacted>", "<unknown>")
