"""Decoded source maps, kept while they are used: Sentry's `SourceMapCache` (from `symbolic`).

Decoding is the expensive step (tens of milliseconds for a megabyte of map); a lookup in a
decoded map costs microseconds. Decoded maps are kept by file, size and modification time, so a
rewritten file is decoded again, up to a count and a total size of their inputs.

`symbolic` was chosen over a Python map reader after measuring both on the example page's
production build (a 226 KB bundle with a 1 MB map; see docs/sourcemaps.md): it is Sentry's own
reader, kept up to date, and the only one that names the original function from the minified
file's scopes, as Sentry does; it decodes three times faster (54 ms against 172 ms with the
pure-Python `sourcemap` package, unmaintained since 2017).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._library import Match

logger = logging.getLogger("inferwatch")

MAX_DECODED = 32
MAX_DECODED_BYTES = 256 * 1024 * 1024  # the inputs (maps and minified files) of those kept
MAX_MEMO = 5000  # frames remembered a map: one bug's crashes repeat the same positions
_Key = tuple[str, int, int, str, int, int]


@dataclass
class DecodedMap:
    """A decoded map (a `symbolic.SourceMapCache`), and the frames it resolved lately."""

    cache: Any
    memo: dict[Any, Any] = field(default_factory=dict)

    def remember(self, key: Any, value: Any) -> None:
        if len(self.memo) >= MAX_MEMO:
            self.memo.clear()
        self.memo[key] = value


class Decoded:
    """The decoded maps in use, least recently used dropped first.

    >>> Decoded().get(match)  # doctest: +SKIP
    <SourceMapCache>
    """

    def __init__(self, max_items: int = MAX_DECODED, max_bytes: int = MAX_DECODED_BYTES) -> None:
        self.max_items, self.max_bytes = max_items, max_bytes
        self._items: OrderedDict[_Key, tuple[DecodedMap | None, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.decoded = 0  # maps decoded so far (the cold lookups), for the benchmark

    def get(self, match: Match) -> DecodedMap | None:
        """The decoded map of `match`, or None when it cannot be read or is not a source map."""
        key = _key(match)
        if key is None:
            return None
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        decoded = _decode(match)  # outside the lock: other lookups go on meanwhile
        size = key[1] + key[4]
        with self._lock:
            self.decoded += 1
            self._items[key] = (decoded, size)
            self._bytes += size
            while len(self._items) > self.max_items or (
                self._bytes > self.max_bytes and len(self._items) > 1
            ):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
        return decoded

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


def _key(match: Match) -> _Key | None:
    try:
        stat = match.map_path.stat()
        mini = match.minified.stat() if match.minified else None
    except OSError:
        return None
    return (
        str(match.map_path),
        stat.st_size,
        stat.st_mtime_ns,
        str(match.minified or ""),
        mini.st_size if mini else 0,
        mini.st_mtime_ns if mini else 0,
    )


def _decode(match: Match) -> DecodedMap | None:
    """Decode once; a file that is not a map is remembered as None, not decoded again."""
    from symbolic.exceptions import SymbolicError
    from symbolic.sourcemapcache import SourceMapCache

    try:
        source = _read(match.minified) if match.minified else b""
        return DecodedMap(SourceMapCache.from_bytes(source, _read(match.map_path)))
    except (OSError, SymbolicError) as exc:
        logger.warning("inferwatch: cannot read the source map %s: %s", match.map_path, exc)
        return None


def _read(path: Path) -> bytes:
    return path.read_bytes()
