"""The pruner: retention applied to a store from a daemon thread, at start and then every ten
minutes (see `_retention` for what it deletes)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from .. import _fork
from ._retention import Retention, apply_retention

logger = logging.getLogger("inferwatch")


class Pruner:
    """Applies `policy` to the store at `path` at start and then every `every` seconds, from a
    daemon thread; a busy or broken store is logged and tried again, never raised.

    One process prunes: a forked child (a gunicorn `--preload` worker, a prefork pool's process)
    does not start a pruner of its own. The parent that made this one goes on pruning the same
    file for as long as its workers live (gunicorn's and Celery's masters, a multiprocessing
    parent), and every pruner would delete the same rows: `apply_retention` is safe from several
    processes at once (its own connection, short transactions), but N workers doing the same
    scan every ten minutes only compete with the writers for the lock.

    >>> pruner = Pruner(Path(".inferwatch/events.db"), Retention())  # doctest: +SKIP
    >>> pruner.close()                                               # doctest: +SKIP
    """

    def __init__(self, path: Path, policy: Retention, *, every: float = 600.0) -> None:
        self.path, self.policy, self.every = path, policy, every
        self._stop = threading.Event()
        self._pruning = threading.Lock()  # held for a run: a fork waits for it to end
        self._guarded = False
        self._thread = threading.Thread(target=self._run, name="inferwatch-retention", daemon=True)
        self._thread.start()
        _fork.register(
            before=self._before_fork,
            after_in_parent=self._after_fork_in_parent,
            after_in_child=self._after_fork,
        )

    def _before_fork(self) -> None:
        # A run's connection open at the fork would leave the child SQLite's record of its
        # locks (see `_fork`); runs are short, chunked transactions.
        self._guarded = self._pruning.acquire(timeout=_fork.WAIT_SECONDS)

    def _after_fork_in_parent(self) -> None:
        if self._guarded:
            self._guarded = False
            self._pruning.release()

    def _after_fork(self) -> None:
        # The parent's thread is not here, and its locks may be held for ever: `close` in the
        # child then stops nothing and waits for nothing.
        self._stop, self._pruning, self._guarded = threading.Event(), threading.Lock(), False

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._pruning:
                    apply_retention(self.path, self.policy)
            except sqlite3.OperationalError as exc:  # busy or locked: the writers go first
                logger.warning("inferwatch: retention put off (%s); will try again", exc)
            except Exception:
                logger.exception("inferwatch: retention failed; will try again")
            self._stop.wait(self.every)
