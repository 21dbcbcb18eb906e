"""Run a callback when a module is imported: now if it already was, else right after it is.

An integration patches a client library only once the app imports it, so an app that never
imports `openai` pays nothing for the OpenAI integration, not even the import. A finder at the
front of `sys.meta_path` finds the module's spec with the other finders and wraps its loader, so
that the callback runs after the module's code, in the importing thread.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

logger = logging.getLogger("inferwatch")
Callback = Callable[[types.ModuleType], None]

_pending: dict[str, list[Callback]] = {}
_lock = threading.RLock()
_looking = threading.local()  # names whose spec this thread is finding, to skip ourselves


def when_imported(name: str, callback: Callback) -> None:
    """`callback(module)` once `name` is imported (at once when it already is)."""
    with _lock:
        module = sys.modules.get(name)
        if module is None:
            _pending.setdefault(name, []).append(callback)
            if not any(isinstance(f, _Finder) for f in sys.meta_path):
                sys.meta_path.insert(0, _Finder())
            return
    _run(callback, module)


def _run(callback: Callback, module: types.ModuleType) -> None:
    try:
        callback(module)
    except Exception:  # a library we do not know the shape of must still import
        logger.warning("inferwatch: could not instrument %s", module.__name__, exc_info=True)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _pending or fullname in getattr(_looking, "names", ()):
            return None
        _looking.names = {*getattr(_looking, "names", ()), fullname}
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            _looking.names = _looking.names - {fullname}
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Loader(spec.loader, fullname)
        return spec


class _Loader(importlib.abc.Loader):
    """The module's own loader, then the callbacks waiting for it."""

    def __init__(self, loader: Any, name: str) -> None:
        self.loader, self.name = loader, name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        module: types.ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        self.loader.exec_module(module)
        with _lock:
            callbacks = _pending.pop(self.name, [])
        for callback in callbacks:
            _run(callback, module)

    def __getattr__(self, name: str) -> Any:  # get_source, is_package... for tools that ask
        return getattr(self.loader, name)
