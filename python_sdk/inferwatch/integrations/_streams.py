"""A client's stream recorded as the caller reads it: the first chunk's time when it reaches the
caller, the chunks seen, and how it ended: read to the end (`ok`), failed (`error`), or left
unread, by a `break`, a `close()` or a caller that went away (`abandoned`, with what was seen).

The stream keeps its identity and type: its class is swapped for a subclass whose public
iteration methods (`__iter__`, `__next__`, `close`, and their async twins) record and then call
the client's own. So `isinstance(stream, openai.Stream)` still holds and the client's helpers
(`text_stream`, `get_final_message()`) read through the recording. No private attribute of the
client is read or written.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

from .._model import ModelCall

logger = logging.getLogger("inferwatch")
_STATE = "_inferwatch_stream"


class Chunks(Protocol):
    """What one kind of stream says: its chunks, read as they pass."""

    def add(self, chunk: Any) -> None: ...

    def close(self, call: ModelCall) -> str:
        """Put what the stream said on `call` (text, usage, finish reason); the status."""


class _State:
    def __init__(self, owner: object, call: ModelCall, chunks: Chunks) -> None:
        self.call, self.chunks, self.count, self.open = call, chunks, 0, True
        # A client may iterate a shallow copy of its stream (anthropic does), which shares this
        # state: only the stream the caller holds ends it when dropped.
        self.owner = id(owner)
        call.streaming = True

    def seen(self, chunk: Any) -> None:
        if not self.open:
            return
        self.call.mark_first_chunk()
        self.count += 1
        try:
            self.chunks.add(chunk)
        except Exception:
            logger.debug("inferwatch: could not read a stream's chunk", exc_info=True)

    def end(self, exc: BaseException | None = None, status: str | None = None) -> None:
        if not self.open:
            return
        self.open = False
        self.call.output_chunks = self.count
        try:
            said = self.chunks.close(self.call)
        except Exception:
            said = "ok"
        self.call.finish(exc, status=None if exc is not None else status or said)


def _state(stream: Any) -> _State | None:
    state = vars(stream).get(_STATE)
    return state if isinstance(state, _State) else None


def is_stream(value: Any) -> bool:
    return _iterable_stream(value) and hasattr(value, "__next__")


def is_async_stream(value: Any) -> bool:
    return hasattr(value, "__aiter__") and hasattr(value, "__anext__") and hasattr(value, "close")


def _iterable_stream(value: Any) -> bool:
    return hasattr(value, "__iter__") and hasattr(value, "close") and hasattr(value, "__dict__")


def record_stream(stream: Any, call: ModelCall, chunks: Chunks) -> Any:
    """`stream`, recording on `call` as it is read."""
    return _swap(stream, call, chunks, _sync_class)


def record_async_stream(stream: Any, call: ModelCall, chunks: Chunks) -> Any:
    return _swap(stream, call, chunks, _async_class)


_classes: dict[tuple[type, bool], type] = {}


def _swap(stream: Any, call: ModelCall, chunks: Chunks, make: Callable[[type], type]) -> Any:
    base = type(stream)
    key = (base, make is _async_class)
    try:
        if key not in _classes:
            _classes[key] = make(base)
        vars(stream)[_STATE] = _State(stream, call, chunks)
        stream.__class__ = _classes[key]
    except (TypeError, AttributeError):  # a type whose instances cannot change class
        call.finish(None)
    return stream


def _sync_class(base: Any) -> type:
    def __iter__(self: Any) -> Iterator[Any]:
        state = _state(self)
        try:
            for item in base.__iter__(self):
                if state is not None:
                    state.seen(item)
                yield item
        except GeneratorExit:
            if state is not None:
                state.end(status="abandoned")
            raise
        except BaseException as exc:
            if state is not None:
                state.end(exc)
            raise
        if state is not None:
            state.end()

    def __next__(self: Any) -> Any:
        state = _state(self)
        try:
            item = base.__next__(self)
        except StopIteration:
            if state is not None:
                state.end()
            raise
        except BaseException as exc:
            if state is not None:
                state.end(exc)
            raise
        if state is not None:
            state.seen(item)
        return item

    def close(self: Any) -> Any:
        state = _state(self)
        if state is not None:
            state.end(status="abandoned")
        return base.close(self)

    def __del__(self: Any) -> None:
        state = _state(self)
        if state is not None and state.owner == id(self):  # a stream dropped unread
            state.end(status="abandoned")
        if hasattr(base, "__del__"):
            base.__del__(self)

    methods = {"__iter__": __iter__, "__next__": __next__, "close": close, "__del__": __del__}
    return type(base.__name__, (base,), {"__module__": base.__module__, **methods})


def _async_class(base: Any) -> type:
    async def __aiter__(self: Any) -> AsyncIterator[Any]:
        state = _state(self)
        try:
            async for item in base.__aiter__(self):
                if state is not None:
                    state.seen(item)
                yield item
        except GeneratorExit:
            if state is not None:
                state.end(status="abandoned")
            raise
        except BaseException as exc:
            if state is not None:
                state.end(exc)
            raise
        if state is not None:
            state.end()

    async def __anext__(self: Any) -> Any:
        state = _state(self)
        try:
            item = await base.__anext__(self)
        except StopAsyncIteration:
            if state is not None:
                state.end()
            raise
        except BaseException as exc:
            if state is not None:
                state.end(exc)
            raise
        if state is not None:
            state.seen(item)
        return item

    async def close(self: Any) -> Any:
        state = _state(self)
        if state is not None:
            state.end(status="abandoned")
        return await base.close(self)

    def __del__(self: Any) -> None:
        state = _state(self)
        if state is not None and state.owner == id(self):  # a stream dropped unread
            state.end(status="abandoned")
        if hasattr(base, "__del__"):
            base.__del__(self)

    methods = {"__aiter__": __aiter__, "__anext__": __anext__, "close": close, "__del__": __del__}
    return type(base.__name__, (base,), {"__module__": base.__module__, **methods})


def record_managed(
    manager: Any, begin: Callable[[], ModelCall], chunks: Callable[[], Chunks]
) -> Any:
    """A client's stream manager (`with client.messages.stream(...) as stream:`) whose stream is
    recorded: the call begins when the block is entered, which is when the request is sent."""
    base = type(manager)
    is_async = hasattr(base, "__aenter__")
    key = (base, is_async)
    try:
        if key not in _classes:
            _classes[key] = _manager_class(base, is_async)
        vars(manager)[_STATE] = (begin, chunks)
        manager.__class__ = _classes[key]
    except (TypeError, AttributeError):
        pass
    return manager


def _manager_class(base: Any, is_async: bool) -> type:
    from ._calls import failed

    def opened(self: Any) -> tuple[ModelCall, Callable[[], Chunks]] | None:
        how = vars(self).get(_STATE)
        return (how[0](), how[1]) if isinstance(how, tuple) else None

    if is_async:

        async def __aenter__(self: Any) -> Any:
            started = opened(self)
            try:
                stream = await base.__aenter__(self)
            except BaseException as exc:
                if started is not None:
                    failed(started[0], exc)
                raise
            return stream if started is None else record_async_stream(stream, *_args(started))

        methods: dict[str, Any] = {"__aenter__": __aenter__}
    else:

        def __enter__(self: Any) -> Any:
            started = opened(self)
            try:
                stream = base.__enter__(self)
            except BaseException as exc:
                if started is not None:
                    failed(started[0], exc)
                raise
            return stream if started is None else record_stream(stream, *_args(started))

        methods = {"__enter__": __enter__}
    return type(base.__name__, (base,), {"__module__": base.__module__, **methods})


def _args(started: tuple[ModelCall, Callable[[], Chunks]]) -> tuple[ModelCall, Chunks]:
    return started[0], started[1]()
