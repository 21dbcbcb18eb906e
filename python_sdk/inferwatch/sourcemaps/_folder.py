"""One build output folder: its minified files and source maps, indexed by path and debug id.

The index is read when first needed and again whenever the folder changes (a file added,
removed, rewritten); a change is looked for at most once a second. Nothing here is ever served:
the folder is read, never published.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

MAP_SUFFIX = ".map"
SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs")
MAX_FILE_BYTES = 100 * 1024 * 1024  # a map past this is skipped (large apps' maps are ~50 MB)
MAX_FILES = 20_000  # files a folder may hold before the rest are ignored
_TAIL_BYTES = 4096  # where bundlers write `//# debugId=` and `//# sourceMappingURL=`
_CHECK_EVERY_S = 1.0

# `//# debugId=<uuid>` (Sentry's bundler plugins, rollup, rolldown, esbuild with a plugin).
_DEBUG_ID_COMMENT = re.compile(
    rb"//# debugId=([0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12})"
)
_MAPPING_URL_COMMENT = re.compile(rb"//[#@] sourceMappingURL=(\S{1,2048})")
# A map's own `"debugId"` (or the older `"debug_id"`), written by the same tools at its start
# or its end: a quote before the key that is not escaped cannot be inside a string value.
_DEBUG_ID_KEY = re.compile(
    rb'"debug_?[iI]d"\s*:\s*"([0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12})"'
)


def normalize_debug_id(value: str) -> str:
    """A debug id as 32 lowercase hex digits, however it was written.

    >>> normalize_debug_id("5E8C38F6-AF8E-4B40-9F4E-9D2A1E0B6C11")
    '5e8c38f6af8e4b409f4e9d2a1e0b6c11'
    """
    return value.replace("-", "").lower()[:32]


@dataclass(frozen=True)
class Script:
    """A minified file: where it says its map is, and its debug id, if it says."""

    path: Path
    debug_id: str | None
    mapping_url: str | None


@dataclass(frozen=True)
class Index:
    """What a folder held when it was last read."""

    files: dict[str, Path] = field(default_factory=dict)  # relative path -> file
    scripts: dict[str, Script] = field(default_factory=dict)
    maps_by_debug_id: dict[str, Path] = field(default_factory=dict)


class Folder:
    """A build output folder, read again when it changes.

    >>> Folder(Path("dist")).index().files  # doctest: +SKIP
    {'assets/index-X.js': PosixPath('dist/assets/index-X.js'), ...}
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._signature: str | None = None
        self._index = Index()
        self._checked = float("-inf")
        self.generation = 0  # how many times the folder was read: changes with its content

    def __repr__(self) -> str:
        return f"Folder({str(self.root)!r})"

    def index(self) -> Index:
        """The index, read again first when the folder changed since the last look."""
        self.changed()
        return self._index

    def changed(self) -> bool:
        """Whether the folder changed since it was last read (and read it again if so); looked
        at at most once a second."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked < _CHECK_EVERY_S:
                return False
            self._checked = now
            entries = _entries(self.root)
            signature = _signature(entries)
            if signature == self._signature:
                return False
            self._index = _read(self.root, entries)
            self._signature = signature
            self.generation += 1
            return True

    def forget(self) -> None:
        """Look at the folder again on the next call, however recently it was looked at."""
        with self._lock:
            self._checked = float("-inf")


def _entries(root: Path) -> list[tuple[str, Path, int, int]]:
    """(relative path, file, size, mtime) of the maps and scripts under `root`."""
    found: list[tuple[str, Path, int, int]] = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "node_modules" and not d.startswith("."))
        for name in sorted(names):
            if not name.endswith((MAP_SUFFIX, *SCRIPT_SUFFIXES)):
                continue
            path = Path(directory) / name
            try:
                stat = path.stat()
            except OSError:
                continue
            if stat.st_size <= MAX_FILE_BYTES:
                found.append(
                    (path.relative_to(root).as_posix(), path, stat.st_size, stat.st_mtime_ns)
                )
            if len(found) >= MAX_FILES:
                return found
    return found


def _signature(entries: list[tuple[str, Path, int, int]]) -> str:
    digest = hashlib.sha1()
    for rel, _, size, mtime in entries:
        digest.update(f"{rel}\0{size}\0{mtime}\n".encode())
    return digest.hexdigest()


def _read(root: Path, entries: list[tuple[str, Path, int, int]]) -> Index:
    index = Index()
    for rel, path, _, _ in entries:
        index.files[rel] = path
        if rel.endswith(MAP_SUFFIX):
            debug_id = _map_debug_id(path)
            if debug_id:
                index.maps_by_debug_id[debug_id] = path
        else:
            index.scripts[rel] = _script(path)
    return index


def _ends(path: Path) -> tuple[bytes, bytes]:
    """The first and last few KiB of a file (both empty when it cannot be read)."""
    try:
        with path.open("rb") as f:
            head = f.read(_TAIL_BYTES)
            f.seek(max(0, f.seek(0, os.SEEK_END) - _TAIL_BYTES))
            return head, f.read(_TAIL_BYTES)
    except OSError:
        return b"", b""


def _script(path: Path) -> Script:
    _, tail = _ends(path)
    debug_id = _last(_DEBUG_ID_COMMENT, tail)
    url = _last(_MAPPING_URL_COMMENT, tail)
    return Script(path, normalize_debug_id(debug_id) if debug_id else None, url)


def _map_debug_id(path: Path) -> str | None:
    head, tail = _ends(path)
    found = _last(_DEBUG_ID_KEY, tail) or _last(_DEBUG_ID_KEY, head)
    return normalize_debug_id(found) if found else None


def _last(pattern: re.Pattern[bytes], data: bytes) -> str | None:
    matches = pattern.findall(data)
    return matches[-1].decode("ascii", "replace") if matches else None
