"""Every process stores: workers forked after `init` (gunicorn `--preload`, multiprocessing's
fork start method) start their own writer, sender and alerter, and lose and repeat nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port, rows

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")

APP = textwrap.dedent(
    """
    import contextlib, os, time
    import inferwatch
    from fastapi import FastAPI


    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        # Rows recorded as the worker stops: uvicorn then ends it by raising SIGTERM again.
        for i in range(SHUTDOWN_ROWS):
            inferwatch.log_usage("/shutdown", {"row": i})


    app = FastAPI(lifespan=lifespan)


    @inferwatch.watch_model("tiny")
    def predict(text: str) -> str:
        if text == "fail":
            raise ValueError(f"the model failed in worker {os.getpid()}")
        return text.upper()


    @app.get("/ok")
    async def ok() -> dict:
        time.sleep(0.005)  # hold this worker's loop, so that the others accept connections too
        return {"pid": os.getpid(), "label": predict("hi")}


    @app.get("/fail")
    async def fail() -> dict:
        time.sleep(0.005)
        return {"label": predict("fail")}


    @app.get("/healthz")
    async def healthz() -> dict:
        return {"ok": True}


    inferwatch.init(app, store=os.environ["TEST_STORE"], environ={})
    """
)


SHUTDOWN_ROWS = 3000


@contextmanager
def gunicorn_preload(tmp_path: Path, store: Path, workers: int) -> Iterator[tuple[Any, str]]:
    """`gunicorn app:app --preload -w N -k uvicorn.workers.UvicornWorker` on loopback."""
    (tmp_path / "app.py").write_text(f"SHUTDOWN_ROWS = {SHUTDOWN_ROWS}\n{APP}")
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "app:app", "--preload", "-w", str(workers)]
    command += ["-k", "uvicorn.workers.UvicornWorker", "-b", f"127.0.0.1:{port}"]
    command += ["--chdir", str(tmp_path), "--graceful-timeout", "20", "--log-level", "warning"]
    env = {**os.environ, "TEST_STORE": str(store), "SENTRY_DSN": ""}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *sys.path])
    # Its log (a traceback a failing request) goes to a file, not into the test's output.
    with (tmp_path / "gunicorn.log").open("wb") as log:
        master = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(master, url)
        yield master, url
    finally:
        if master.poll() is None:
            os.killpg(master.pid, signal.SIGKILL)  # the master and its workers
        master.wait(10)


def _wait_until_up(master: Any, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert master.poll() is None, "gunicorn exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start within 60 s")


def _get(url: str, path: str, request_id: str) -> httpx.Response:
    # A connection a request, so that every worker gets a share of them.
    with httpx.Client(timeout=30) as client:
        return client.get(f"{url}{path}", headers={"X-Request-ID": request_id})


def test_every_gunicorn_preload_worker_stores_every_row_once_also_as_sigterm_stops_it(
    tmp_path: Path, store_path: Path
) -> None:
    n = 100
    with gunicorn_preload(tmp_path, store_path, workers=3) as (master, url):
        calls = [("/ok", f"ok-{i}") for i in range(n)] + [("/fail", f"fail-{i}") for i in range(n)]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda c: _get(url, *c), calls))
        assert [a.status_code for a in answers] == [200] * n + [500] * n
        ok_pids = {a.json()["pid"] for a in answers[:n]}
        master.send_signal(signal.SIGTERM)  # workers end as gunicorn ends them, then the master
        assert master.wait(60) == 0

    generations = rows(store_path, "SELECT request_id, status FROM generations")
    assert Counter(g["request_id"] for g in generations) == Counter(rid for _, rid in calls)
    assert {g["status"] for g in generations if g["request_id"].startswith("fail")} == {"error"}
    events = rows(store_path, "SELECT request_id, data FROM events")
    assert sorted(e["request_id"] for e in events) == sorted(f"fail-{i}" for i in range(n))
    requests = rows(store_path, "SELECT request_id FROM requests WHERE route != '/healthz'")
    assert Counter(r["request_id"] for r in requests) == Counter(rid for _, rid in calls)
    shutdown = rows(store_path, "SELECT count(*) AS n FROM usage WHERE endpoint = '/shutdown'")
    assert shutdown == [{"n": 3 * SHUTDOWN_ROWS}]
    event_pids = {json.loads(e["data"])["exception"]["values"][-1]["value"] for e in events}
    assert len(ok_pids) >= 2, "the requests did not reach two workers"
    assert len(event_pids) >= 2


FORKING_PARENT = textwrap.dedent(
    """
    import json, multiprocessing, os, sys, threading
    import inferwatch
    from inferwatch import _runtime

    inferwatch.init(store=sys.argv[1], environ={})


    @inferwatch.watch_model("tiny")
    def predict(text):
        if text.startswith("fail"):
            raise ValueError(f"failed: {text}")
        return text.upper()


    def work(name, n):
        for i in range(n):
            predict(f"ok {name} {i}")
            try:
                predict(f"fail {name} {i}")
            except ValueError as exc:
                inferwatch.capture_exception(exc)
        # No flush: a multiprocessing child ends with os._exit, after its finalizers.


    def idle(names):
        names.put(("idle", sorted(t.name for t in threading.enumerate())))


    def in_child_after_recording(names):
        work("recording", 1)
        names.put(("recording", sorted(t.name for t in threading.enumerate())))


    fork = multiprocessing.get_context("fork")
    depth_at_fork = []
    os.register_at_fork(
        before=lambda: depth_at_fork.append(_runtime.current().store.stats()["queue_depth"])
    )
    children = []
    for c in range(3):
        work(f"parent-before-{c}", 20)  # queued, not yet written, when the child is forked
        child = fork.Process(target=work, args=(f"child-{c}", 50))
        child.start()
        children.append(child)
    names = fork.Queue()
    for target in (idle, in_child_after_recording):
        child = fork.Process(target=target, args=(names,))
        child.start()
        children.append(child)
    # Each says which child it is: the two run at once, and either may answer first (taking
    # the first answer as the idle child's once read the recording child's writer as its own).
    threads = dict([names.get(timeout=30), names.get(timeout=30)])
    for child in children:
        child.join(60)
    assert inferwatch.flush(10)
    print(json.dumps({
        "exit_codes": [child.exitcode for child in children],
        "depth_at_fork": depth_at_fork,
        "threads": threads,
    }))
    """
)


def test_children_forked_by_multiprocessing_store_their_rows_and_the_parents_once(
    tmp_path: Path, store_path: Path
) -> None:
    script = tmp_path / "parent.py"
    script.write_text(FORKING_PARENT)
    result = subprocess.run(
        [sys.executable, str(script), str(store_path)],
        env={**os.environ, "SENTRY_DSN": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["exit_codes"] == [0] * 5

    expected = Counter({"parent-before-0": 20, "parent-before-1": 20, "parent-before-2": 20})
    expected.update({"child-0": 50, "child-1": 50, "child-2": 50, "recording": 1})
    events = rows(store_path, "SELECT data FROM events")
    messages = [json.loads(e["data"])["exception"]["values"][-1]["value"] for e in events]
    assert Counter(m.split()[2] for m in messages) == expected
    assert len(set(messages)) == len(messages)
    statuses = Counter(g["status"] for g in rows(store_path, "SELECT status FROM generations"))
    assert statuses == {"ok": sum(expected.values()), "error": sum(expected.values())}

    idle_threads, recording_threads = report["threads"]["idle"], report["threads"]["recording"]
    assert not [name for name in idle_threads if name.startswith("inferwatch")]
    # Its own writer; the retention pruner stays with the parent, which prunes for everyone.
    assert "inferwatch-store" in recording_threads
    assert "inferwatch-retention" not in recording_threads


HELD_LOCKS_PARENT = textwrap.dedent(
    """
    import json, multiprocessing, sys, threading, time, uuid
    from pathlib import Path

    import httpx
    from inferwatch._forward import Forwarder
    from inferwatch.alerts import AlertConfig, Alerter
    from inferwatch.store import Store

    out = Path(sys.argv[1])


    def recorder(name):
        def handler(request):
            with (out / name).open("ab") as f:
                f.write(request.content + b"\\n")
            return httpx.Response(200)

        return httpx.MockTransport(handler)


    def event(message):
        return {
            "event_id": uuid.uuid4().hex,
            "timestamp": time.time(),
            "platform": "python",
            "exception": {"values": [{"type": "ValueError", "value": message}]},
        }


    def envelope(message):
        body = json.dumps(event(message)).encode()
        header = json.dumps({"type": "event", "length": len(body)}).encode()
        return b"{}\\n" + header + b"\\n" + body + b"\\n"


    store = Store(out / "events.db")
    forwarder = Forwarder(
        "http://public@sentry.example/1", outbox=out / "outbox.db", transport=recorder("sentry")
    )
    alerter = Alerter(
        AlertConfig(webhooks=("https://hooks.example/x",)), transport=recorder("webhook")
    )
    alerter.attach(store)
    store.add("event", event("parent issue"))
    forwarder.submit(envelope("parent envelope"))
    assert store.flush(10) and alerter.flush(10) and forwarder.flush(10)

    # Another thread of the parent holds every lock the child will need when it forks.
    held, release = threading.Event(), threading.Event()


    def hold():
        with store._lock, forwarder._progress, alerter._lock:
            held.set()
            release.wait()


    threading.Thread(target=hold, daemon=True).start()
    held.wait()


    def child():
        store.add("event", event("child issue"))
        forwarder.submit(envelope("child envelope"))  # delivered as the child exits
        assert store.flush(10) and alerter.flush(10)


    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(30)
    if process.exitcode is None:
        process.kill()
    release.set()
    print(json.dumps({"exitcode": process.exitcode}))
    """
)


def test_a_child_forked_while_the_parent_holds_the_locks_records_forwards_and_alerts(
    tmp_path: Path,
) -> None:
    script = tmp_path / "parent.py"
    script.write_text(HELD_LOCKS_PARENT)
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"exitcode": 0}, result.stderr

    stored = rows(tmp_path / "events.db", "SELECT title FROM issues ORDER BY id")
    assert [r["title"] for r in stored] == ["ValueError: parent issue", "ValueError: child issue"]
    sent = (tmp_path / "sentry").read_text()
    assert sent.count("parent envelope") == 1
    assert sent.count("child envelope") == 1
    alerts = [json.loads(line) for line in (tmp_path / "webhook").read_text().splitlines()]
    assert sorted(a["text"] for a in alerts) == [
        "New issue #1: ValueError: parent issue",
        "New issue #2: ValueError: child issue",
    ]


def test_a_fork_closes_the_store_writers_connection_from_the_thread_that_forks(
    store_path: Path,
) -> None:
    """The connection is the writer thread's, the fork another thread's: sqlite3 refuses to close
    a connection from a thread but its own unless told it is shared. Left open, the child
    inherited SQLite's state of the file, and commits of several processes were lost."""
    import sqlite3

    from inferwatch.store import Store

    store = Store(store_path)
    try:
        assert store.write([("usage", {"timestamp": time.time(), "endpoint": "/x", "data": {}})])
        opened = store._conn
        assert opened is not None
        store._before_fork()
        try:
            assert store._conn is None
            with pytest.raises(sqlite3.ProgrammingError, match="closed"):
                opened.execute("SELECT 1")
        finally:
            store._after_fork_in_parent()
        assert store.write([("usage", {"timestamp": time.time(), "endpoint": "/y", "data": {}})])
    finally:
        store.close()
