"""What the collector holds: the maps, the resolver, and stored events resolved when maps come.

Events are resolved at ingest, before they are grouped, so a crash resolved on arrival is
grouped by its original frames. Events stored before their maps (a deploy that uploads its maps
after the first crash) are resolved when the maps arrive: at once after an upload, and within
a few seconds after a `--sourcemaps` folder changes. Their issues are grouped again (see
`store._regroup`): a minified and a resolved crash of the same bug end in one issue.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from .._types import Event
from ..store import Row, _schema
from ..store._regroup import rewrite_events
from ._library import SourceMaps
from ._resolve import Resolver

logger = logging.getLogger("inferwatch")

UPLOADS_DIR = "sourcemaps"  # beside the store: the maps uploaded to the collector
BACKFILL_LIMIT = 5000  # stored events looked at, newest first, when maps arrive
WATCH_EVERY_S = 2.0


class SourceMapService:
    """Source maps for one collector and its store.

    >>> service = SourceMapService([Path("dist")], store_path=Path(".inferwatch/events.db"))
    >>> service.resolver.resolve(event)  # doctest: +SKIP
    """

    def __init__(self, folders: list[Path] | tuple[Path, ...], *, store_path: Path) -> None:
        self.store_path = store_path
        self.maps = SourceMaps(folders, uploads=store_path.parent / UPLOADS_DIR)
        self.resolver = Resolver(self.maps)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._backfill_lock = threading.Lock()

    @property
    def uploads(self) -> Path:
        return self.maps.uploads

    def resolve_events(self, events: list[Event]) -> None:
        """Resolve the frames of `events` in place (on the calling thread)."""
        if events and not self.maps.empty():
            for event in events:
                self.resolver.resolve(event)

    async def resolve_rows(self, rows: list[Row]) -> None:
        """Resolve the frames of the events among `rows` in place, on a worker thread: a map
        decoded the first time takes tens of milliseconds."""
        events = [data for kind, data in rows if kind == "event" and has_frames(data)]
        if events and not self.maps.empty():
            await run_in_threadpool(self.resolve_events, events)

    def backfill(self) -> int:
        """Resolve stored browser events that have frames no map resolved yet, and group their
        issues again; returns the events rewritten. Never raises: a busy store is logged."""
        with self._backfill_lock:
            for folder in self.maps.folders:
                folder.forget()  # what changed within the last second counts too
            try:
                events = self._newly_resolved()
                return rewrite_events(self.store_path, events) if events else 0
            except (sqlite3.Error, OSError) as exc:
                logger.warning("inferwatch: cannot resolve stored events now: %s", exc)
                return 0

    def _newly_resolved(self) -> list[tuple[int, Event]]:
        if not self.store_path.exists() or self.maps.empty():
            return []
        conn = _schema.connect(str(self.store_path), readonly=True)
        try:
            rows = conn.execute(
                "SELECT id, data FROM events WHERE platform = 'javascript'"
                " ORDER BY id DESC LIMIT ?",
                (BACKFILL_LIMIT,),
            ).fetchall()
        finally:
            conn.close()
        out: list[tuple[int, Event]] = []
        for row in rows:
            event = _loads(row["data"])
            if event is not None and unresolved(event) and self.resolver.resolve(event):
                out.append((int(row["id"]), event))
        return out

    def watch(self, every: float = WATCH_EVERY_S) -> None:
        """Resolve stored events whenever a `--sourcemaps` folder changes (and once at start),
        from a daemon thread; nothing to do without folders."""
        if not self.maps.folders or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._watch, args=(every,), name="inferwatch-sourcemaps", daemon=True
        )
        self._thread.start()

    def _watch(self, every: float) -> None:
        seen = [0] * len(self.maps.folders)
        while True:
            for folder in self.maps.folders:
                folder.index()
            now = [folder.generation for folder in self.maps.folders]
            if now != seen:  # read again since the last look (here or by an ingest's search)
                seen = now
                self.backfill()
            if self._stop.wait(every):
                return

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def has_frames(event: Event) -> bool:
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else None
    return isinstance(values, list) and any(
        isinstance(v, dict) and isinstance(v.get("stacktrace"), dict) for v in values
    )


def unresolved(event: Event) -> bool:
    """Whether a stored event has a frame with a location that no map resolved yet."""
    for value in event.get("exception", {}).get("values", []) if has_frames(event) else []:
        frames = value.get("stacktrace", {}).get("frames")
        for frame in frames if isinstance(frames, list) else []:
            if _located(frame) and not _symbolicated(frame):
                return True
    return False


def _located(frame: Any) -> bool:
    return isinstance(frame, dict) and "://" in str(frame.get("abs_path")) and "lineno" in frame


def _symbolicated(frame: dict[str, Any]) -> bool:
    data = frame.get("data")
    return isinstance(data, dict) and data.get("symbolicated") is True


def _loads(text: str) -> Event | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
