"""Where the `inferwatch serve` running on a store listens, kept beside the store while it runs.

`serve` writes `events.db.serve.json` (its URL, its key, its process) beside the store when it
starts and removes it when it stops, so that `inferwatch snippet` prints the tag of the
collector that is really there. A file left by a `serve` that was killed names a process that
is gone, and is ignored.

>>> announce(Path("/app/.inferwatch/events.db"), "http://127.0.0.1:9000", "k")  # doctest: +SKIP
>>> running(Path("/app/.inferwatch/events.db"))                                 # doctest: +SKIP
Running(url='http://127.0.0.1:9000', key='k')
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Running:
    """The collector serving a store: the URL browsers reach and the key it takes."""

    url: str
    key: str


def address_file(store: Path) -> Path:
    return store.with_name(store.name + ".serve.json")


def announce(store: Path, url: str, key: str) -> None:
    """Say beside `store` that this process serves it at `url` (not fatal when it cannot)."""
    record = {"url": url, "key": key, "pid": os.getpid(), "host": socket.gethostname()}
    path = address_file(store)
    temporary = path.with_name(path.name + f".{os.getpid()}")
    with contextlib.suppress(OSError):  # a read-only folder: snippet falls back to its default
        temporary.write_text(json.dumps(record) + "\n")
        temporary.replace(path)


def withdraw(store: Path) -> None:
    """Remove the address written by this process (another `serve` may have replaced it)."""
    path = address_file(store)
    if _read(path).get("pid") == os.getpid():
        with contextlib.suppress(OSError):
            path.unlink()


def running(store: Path) -> Running | None:
    """The collector running on `store` on this machine, or None (none, or a stale file)."""
    record = _read(address_file(store))
    url, key, pid = record.get("url"), record.get("key"), record.get("pid")
    if not (isinstance(url, str) and isinstance(key, str) and isinstance(pid, int)):
        return None
    if record.get("host") != socket.gethostname() or not _alive(pid):
        return None
    return Running(url, key)


def _read(path: Path) -> dict[str, object]:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # signal 0 is CTRL_C_EVENT there: it would interrupt the process
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:
        return False
    return True
