"""Fork safety: what owns threads, locks and connections starts over in a forked child.

`gunicorn --preload`, Celery's prefork pool and `multiprocessing` with the fork start method run
`init` in a parent and fork the workers from it. A child inherits the parent's objects but none
of its threads; a lock another thread held at the fork stays held for ever; a queue holds rows
the parent will write; a connection is the parent's file or socket. So each object that owns
such things registers handlers here, which `os.register_at_fork` calls around every fork:

- `before`, in the parent: wait for the transaction in flight and close SQLite connections. A
  child must not inherit SQLite's own per-file state either (which locks "this process" holds,
  kept by SQLite for every connection of a process to one file): a connection the child opens
  would believe the parent's locks are its own, wait for ever on a write lock the parent's
  thread held at the fork, and hold none of the locks that tell other processes it is there.
- `after_in_parent`: let the parent's threads go on (they open their connections again).
- `after_in_child`: re-create locks, queues and events, forget the parent's threads and queued
  work, and set the parent's remaining connections aside. Threads start again on first use, as
  sentry-sdk's `BackgroundWorker` does.

sentry-sdk notices a fork by comparing `os.getpid()` on every submit. Here the child's handler
clears an attribute instead, which costs the hot path one comparison (about 10 ns): `os.getpid()`
is a system call, about 180 ns on the machine this was measured on, against 490 ns for
`Store.add`.

>>> register(before=self._before_fork, after_in_child=self._after_fork)  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import inspect
import logging
import os
import sys
import weakref
from collections.abc import Callable
from typing import Literal

logger = logging.getLogger("inferwatch")

Handler = Callable[[], None]
Moment = Literal["before", "after_in_parent", "after_in_child"]
WAIT_SECONDS = 10.0
"""How long a fork waits for a transaction in flight; past it, it forks without closing."""

_handlers: list[tuple[Moment, Callable[[], Handler | None]]] = []
_set_aside: list[object] = []


def register(
    *,
    before: Handler | None = None,
    after_in_parent: Handler | None = None,
    after_in_child: Handler | None = None,
) -> None:
    """Call these around every fork from now on; bound methods only while their object lives."""
    _handlers[:] = [(moment, ref) for moment, ref in _handlers if ref() is not None]
    handlers: tuple[tuple[Moment, Handler | None], ...] = (
        ("before", before),
        ("after_in_parent", after_in_parent),
        ("after_in_child", after_in_child),
    )
    for moment, handler in handlers:
        if handler is not None:
            _handlers.append((moment, _reference(handler)))


def _reference(handler: Handler) -> Callable[[], Handler | None]:
    if inspect.ismethod(handler):  # a Store must not live for ever because a fork might come
        return weakref.WeakMethod(handler)
    return lambda: handler


def set_aside(*resources: object) -> None:
    """Keep the parent's connections referenced in a child, so that they are neither used nor
    closed there: closing a SQLite connection can rewrite the WAL index that the parent shares
    (SQLite: "do not open a database before fork() and use it in the child"), and closing an
    HTTP client would end the parent's TLS sessions on the sockets both processes hold."""
    _set_aside.extend(r for r in resources if r is not None)


def at_exit(callback: Callable[[], object]) -> None:
    """Call `callback` when this process ends: at interpreter exit, and when `multiprocessing`
    ends it, which runs its own finalizers and then `os._exit`, never the `atexit` handlers.

    A child registers this when it starts its threads: `multiprocessing` forgets the parent's
    finalizers after the fork, so one registered earlier would never run.
    """
    atexit.register(callback)
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:  # not imported: this process is not one multiprocessing started
        mp_util.Finalize(None, callback, exitpriority=10)


def _run(moment: Moment) -> None:
    handlers = [ref for m, ref in _handlers if m == moment]
    if moment == "before":
        handlers.reverse()  # as os.register_at_fork orders them: the last registered first
    for ref in handlers:
        handler = ref()
        if handler is None:
            continue
        try:
            handler()
        except Exception:  # a fork must go on whatever one object does, but never silently:
            # a handler that fails may leave the child a connection the parent still uses
            logger.warning("inferwatch: a fork handler failed", exc_info=True)


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(
        before=lambda: _run("before"),
        after_in_parent=lambda: _run("after_in_parent"),
        after_in_child=lambda: _run("after_in_child"),
    )
