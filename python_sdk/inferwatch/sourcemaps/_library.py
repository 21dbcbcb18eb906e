"""Where a frame's source map is: the folders given to `serve --sourcemaps` and the uploads kept
beside the store, searched in Sentry's order.

1. Debug ids: the id an event names for the frame's file (`debug_meta.images`, as Sentry's SDKs
   send it), or the `//# debugId=` comment of the frame's file, matched with a map's `debugId`.
2. The frame's URL path against the folder's files: `/assets/index-X.js` finds
   `assets/index-X.js.map` (the longest matching tail, so a page served under `/app/` matches).
3. The `//# sourceMappingURL=` comment of the frame's file.

Uploads without a release are searched for every event; those with one, for its events first.
"""

from __future__ import annotations

import posixpath
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from ._folder import MAP_SUFFIX, Folder, Index, Script

NO_RELEASE = "_"  # the uploads folder of maps uploaded without --release
_LIST_EVERY_S = 1.0
_MAX_FOUND = 4096  # searches remembered until a folder changes


@dataclass(frozen=True)
class Match:
    """A frame's map, the minified file it belongs to (when known) and how it was found."""

    map_path: Path
    minified: Path | None
    resolved_with: str  # "debug-id", "path" or "sourcemap-url"
    label: str  # the map's path inside its folder, shown with resolved frames


def release_folder(release: str | None) -> str:
    """The folder name of a release's uploads.

    >>> release_folder("web@1.2.0"), release_folder(None)
    ('r-web%401.2.0', '_')
    """
    return NO_RELEASE if not release else "r-" + quote(release[:200], safe="._-")


class SourceMaps:
    """Every source map the collector can use.

    >>> maps = SourceMaps([Path("dist")], uploads=Path(".inferwatch/sourcemaps"))
    >>> maps.find("http://app.example/assets/index-X.js:1:2")  # doctest: +SKIP
    Match(map_path=PosixPath('dist/assets/index-X.js.map'), ...)
    """

    def __init__(self, folders: list[Path] | tuple[Path, ...], *, uploads: Path) -> None:
        self.folders = [Folder(Path(f)) for f in folders]
        self.uploads = uploads
        self._uploaded: dict[str, Folder] = {}
        self._listed = float("-inf")
        self._lock = threading.Lock()
        # What each search found, while the folders searched are as they were then.
        self._found: dict[tuple[str, str | None, str | None], Match | None] = {}
        self._state: tuple[tuple[int, int], ...] = ()

    def __repr__(self) -> str:
        return f"SourceMaps({[str(f.root) for f in self.folders]!r}, uploads={str(self.uploads)!r})"

    def empty(self) -> bool:
        """Whether there is nothing to search (no folder given, nothing uploaded yet)."""
        return not self.folders and not self._upload_folders()

    def uploaded(self) -> None:
        """Look at the uploads again on the next search (an upload just arrived)."""
        with self._lock:
            self._listed = float("-inf")
            for folder in self._uploaded.values():
                folder.forget()

    def find(
        self, url: str, debug_id: str | None = None, release: str | None = None
    ) -> Match | None:
        """The map of the file at `url`, searched in Sentry's order; None when none is known."""
        folders = self._search_order(release)
        indexes = [(folder, folder.index()) for folder in folders]
        state = tuple(sorted((id(f), f.generation) for f in folders))  # any release: all folders
        key = (url, debug_id, release)
        with self._lock:
            if state != self._state or len(self._found) >= _MAX_FOUND:
                self._found, self._state = {}, state
            if key in self._found:
                return self._found[key]
        found = self._search(indexes, url, debug_id)
        with self._lock:
            if state == self._state:
                self._found[key] = found
        return found

    def _search(
        self, indexes: list[tuple[Folder, Index]], url: str, debug_id: str | None
    ) -> Match | None:
        script = _script_at(indexes, url)
        for wanted in (debug_id, script[1].debug_id if script else None):
            if wanted and (found := _by_debug_id(indexes, wanted, script)):
                return found
        return _by_path(indexes, url) or (_by_mapping_url(indexes, script) if script else None)

    def _search_order(self, release: str | None) -> list[Folder]:
        uploads = self._upload_folders()
        names = [release_folder(release), NO_RELEASE] if release else [NO_RELEASE]
        first = [uploads[n] for n in names if n in uploads]
        # Other releases' uploads last: hashed file names rarely collide, and an event whose page
        # sends no release still finds the maps uploaded with one.
        rest = [f for n, f in sorted(uploads.items()) if n not in names]
        return [*first, *self.folders, *rest]

    def _upload_folders(self) -> dict[str, Folder]:
        now = time.monotonic()
        with self._lock:
            if now - self._listed >= _LIST_EVERY_S:
                self._listed = now
                for name in _subfolders(self.uploads):
                    self._uploaded.setdefault(name, Folder(self.uploads / name))
            return dict(self._uploaded)


def _subfolders(path: Path) -> list[str]:
    try:
        return sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def _tails(url: str) -> Iterator[str]:
    """The URL's path and its shorter tails, longest first: `a/b/c.js`, `b/c.js`, `c.js`."""
    path = unquote(urlsplit(url).path).lstrip("/")
    parts = [p for p in path.split("/") if p not in ("", ".", "..")]
    for i in range(len(parts)):
        yield "/".join(parts[i:])


def _script_at(indexes: list[tuple[Folder, Index]], url: str) -> tuple[Folder, Script] | None:
    for tail in _tails(url):
        for folder, index in indexes:
            if tail in index.scripts:
                return folder, index.scripts[tail]
    return None


def _label(folder: Folder, path: Path) -> str:
    try:
        return path.relative_to(folder.root).as_posix()
    except ValueError:
        return path.name


def _by_debug_id(
    indexes: list[tuple[Folder, Index]], debug_id: str, script: tuple[Folder, Script] | None
) -> Match | None:
    for folder, index in indexes:
        if debug_id in index.maps_by_debug_id:
            path = index.maps_by_debug_id[debug_id]
            minified = script[1].path if script and script[1].debug_id == debug_id else None
            minified = minified or next(
                (s.path for s in index.scripts.values() if s.debug_id == debug_id), None
            )
            return Match(path, minified, "debug-id", _label(folder, path))
    return None


def _by_path(indexes: list[tuple[Folder, Index]], url: str) -> Match | None:
    for tail in _tails(url):
        for folder, index in indexes:
            path = index.files.get(tail + MAP_SUFFIX)
            if path is not None:
                minified = index.scripts[tail].path if tail in index.scripts else None
                return Match(path, minified, "path", _label(folder, path))
    return None


def _by_mapping_url(
    indexes: list[tuple[Folder, Index]], found: tuple[Folder, Script]
) -> Match | None:
    folder, script = found
    url = script.mapping_url
    if not url or url.startswith("data:"):
        return None
    if "://" in url:  # an absolute URL: its path, like a frame's
        return _by_path_exact(indexes, url, script.path)
    here = posixpath.dirname(script.path.relative_to(folder.root).as_posix())
    wanted = posixpath.normpath(posixpath.join(here, unquote(url.split("?")[0])))
    path = dict(indexes)[folder].files.get(wanted)
    if path is None or not wanted.endswith(MAP_SUFFIX):
        return None
    return Match(path, script.path, "sourcemap-url", _label(folder, path))


def _by_path_exact(indexes: list[tuple[Folder, Index]], url: str, minified: Path) -> Match | None:
    for tail in _tails(url):
        for folder, index in indexes:
            path = index.files.get(tail)
            if path is not None and tail.endswith(MAP_SUFFIX):
                return Match(path, minified, "sourcemap-url", _label(folder, path))
    return None
