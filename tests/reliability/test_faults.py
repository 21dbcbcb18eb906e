"""Faults never reach the app: a broken store or an unreachable Sentry costs events, counted,
never a request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
import respx
from inferwatch import _runtime
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store

from tests.conftest import asgi_client, rows
from tests.reliability._app import accounted, call, failures, make_app
from tests.reliability.conftest import INGEST_URL, KEY, batch, browser_error

DSN = "https://abc123def456@o1.ingest.example.com/42"
SENTRY = "https://o1.ingest.example.com/api/42/envelope/"
ROOT = os.geteuid() == 0


def store_stats() -> dict[str, Any]:
    runtime = _runtime.current()
    assert runtime is not None and runtime.store is not None
    return runtime.store.stats()


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Wait for a background thread to get somewhere (this bounds the wait, it times nothing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def mount_tmpfs(where: Path, size: str) -> None:
    """A tmpfs of `size` at `where`, or a skip where mounting is not allowed (a container)."""
    where.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)]
    if subprocess.run(command, capture_output=True, check=False).returncode != 0:
        pytest.skip("mounting a tmpfs is not allowed here")


def unmount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def read_only_store(tmp_path: Path) -> Iterator[Path]:
    """A store file that exists, on a file system (or folder, without root) that is read-only."""
    folder = tmp_path / "read-only"
    path = folder / "events.db"
    if ROOT:  # root ignores permission bits, so make the file system itself read-only
        mount_tmpfs(folder, "4m")
        Store(path).close()
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield path
        unmount(folder)
    else:
        folder.mkdir()
        Store(path).close()
        path.chmod(0o444)
        folder.chmod(0o555)
        yield path
        folder.chmod(0o755)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    if not ROOT:
        pytest.skip("mounting a tiny tmpfs needs root (the rlimit test covers a full disk)")
    folder = tmp_path / "tiny"
    mount_tmpfs(folder, "1m")
    yield folder
    unmount(folder)


def fill(folder: Path) -> Path:
    """Write a file until the file system is full."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_a_store_on_a_read_only_file_system_costs_events_but_no_request(
    read_only_store: Path,
) -> None:
    app = make_app(store=read_only_store)
    assert call(app, failures(10)) == [200] * 10
    inferwatch.flush(15)
    stats = store_stats()
    assert stats["accepted"] > 0 and stats["stored"] == 0
    assert accounted(stats)
    assert set(stats["dropped"]) <= {"readonly", "unwritable", "write_error"}


def test_a_store_file_deleted_while_running_is_made_again_and_later_events_land_in_it(
    store_path: Path,
) -> None:
    app = make_app(store=store_path)
    assert call(app, failures(3)) == [200] * 3
    assert inferwatch.flush(5)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    assert call(app, failures(4, start=100)) == [200] * 4
    assert inferwatch.flush(5)
    stored = rows(store_path, "SELECT data FROM events")
    messages = {json.loads(r["data"])["exception"]["values"][-1]["value"] for r in stored}
    assert messages == {f"cannot classify fail {i} " for i in range(100, 104)}
    assert accounted(store_stats())


LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the parent closes our stdin
"""


def test_a_store_locked_by_another_process_costs_events_but_no_request(store_path: Path) -> None:
    Store(store_path).close()
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(store_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline() == "locked\n"
        app = make_app(store=store_path)
        assert call(app, failures(10)) == [200] * 10
        wait_for(lambda: store_stats()["dropped"].get("locked", 0) > 0)
    finally:
        assert locker.stdin is not None and locker.stdout is not None
        locker.stdin.close()
        locker.wait(10)
        locker.stdout.close()
    assert call(app, failures(2, start=50)) == [200] * 2
    assert inferwatch.flush(15) is False  # rows were dropped while it was locked: it says so
    assert call(app, failures(1, start=60)) == [200]
    assert inferwatch.flush(15)  # the lock is gone: what came since is stored
    stats = store_stats()
    assert accounted(stats) and stats["stored"] > 0
    values = [
        json.loads(r["data"])["exception"]["values"][-1]["value"]
        for r in rows(store_path, "SELECT data FROM events")
    ]
    assert "cannot classify fail 51 " in values


def test_a_full_disk_costs_events_but_no_request_and_writing_resumes_once_space_is_freed(
    tiny_disk: Path,
) -> None:
    path = tiny_disk / "events.db"
    app = make_app(store=path)
    assert call(app, failures(1)) == [200]
    assert inferwatch.flush(5)
    filler = fill(tiny_disk)
    assert call(app, failures(20, size=8000, start=10)) == [200] * 20
    inferwatch.flush(10)
    assert store_stats()["dropped"].get("disk_full", 0) > 0
    filler.unlink()
    assert call(app, failures(1, start=99)) == [200]
    assert inferwatch.flush(10)
    stats = store_stats()
    assert accounted(stats)
    values = [
        json.loads(r["data"])["exception"]["values"][-1]["value"]
        for r in rows(path, "SELECT data FROM events")
    ]
    assert "cannot classify fail 99 " in values


FILE_SIZE_LIMIT = """
import json, resource, signal, sys
sys.path.insert(0, sys.argv[2])
from tests.reliability._app import call, failures, make_app
import inferwatch
from inferwatch import _runtime

app = make_app(store=sys.argv[1])
assert call(app, failures(1)) == [200]
assert inferwatch.flush(5)
# From here on no file of this process may grow: a full disk, as the file layer sees it.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
size = max(p.stat().st_size for p in __import__("pathlib").Path(sys.argv[1]).parent.iterdir())
resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
statuses = call(app, failures(20, size=8000, start=10))
inferwatch.flush(10)
print(json.dumps({"statuses": statuses, "stats": _runtime.current().store.stats()}))
"""


def test_a_file_layer_that_refuses_to_grow_costs_events_but_no_request(store_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", FILE_SIZE_LIMIT, str(store_path), os.getcwd()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SENTRY_DSN": ""},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["statuses"] == [200] * 20
    stats = report["stats"]
    assert sum(stats["dropped"].values()) > 0
    assert accounted(stats)


def test_an_unreachable_sentry_costs_no_request_and_every_event_waits_in_the_outbox(
    store_path: Path,
) -> None:
    with respx.mock(assert_all_called=False) as sentry:
        route = sentry.post(SENTRY).mock(side_effect=httpx.ConnectError("unreachable"))
        app = make_app(store=store_path, dsn=DSN)
        assert call(app, failures(5)) == [200] * 5
        runtime = _runtime.current()
        assert runtime is not None and runtime.forwarder is not None
        forwarder = runtime.forwarder
        wait_for(lambda: forwarder.stats()["failed"] > 0)
        assert forwarder.stats()["pending"] == 5 and forwarder.stats()["sent"] == 0
        assert route.called
        inferwatch.shutdown(1)
    assert len(rows(store_path, "SELECT event_id FROM events")) == 5


async def test_a_collector_whose_sentry_is_unreachable_still_answers_200_and_keeps_the_events(
    store_path: Path,
) -> None:
    with respx.mock(assert_all_called=False) as sentry:
        sentry.post(SENTRY).mock(side_effect=httpx.ConnectError("unreachable"))
        store = Store(store_path)
        collector = Collector(store, CollectorConfig(key=KEY, dsn=DSN))
        async with asgi_client(create_app(collector)) as client:
            for i in range(3):
                body = batch(browser_error(f"render failed {i}"))
                response = await client.post(INGEST_URL, content=body)
                assert response.status_code == 200, response.text
        assert collector.forwarder is not None
        forwarder = collector.forwarder
        wait_for(lambda: forwarder.stats()["failed"] > 0)
        assert forwarder.stats()["pending"] == 3 and forwarder.stats()["sent"] == 0
        collector.close(1)
        store.close()
    assert len(rows(store_path, "SELECT id FROM events")) == 3
