"""inferwatch's exceptions: raised at configuration time, never from a capture at runtime."""

from __future__ import annotations


class InferwatchError(Exception):
    """The base of every error inferwatch raises on purpose."""


class ConfigError(InferwatchError, ValueError):
    """An option given to `init`, `serve` or the collector has a bad value."""


class StoreError(InferwatchError):
    """The store file cannot be opened for reading (the CLI and dashboard report it)."""
