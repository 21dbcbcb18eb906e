"""Forwarding to Sentry through the outbox, with respx as Sentry and a clock that never sleeps."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import inferwatch
import pytest
import respx
from inferwatch._forward import Forwarder
from inferwatch._outbox import Outbox
from sentry_sdk.envelope import Envelope

from tests.conftest import free_port

DSN = "https://abc123def456@o1.ingest.example.com/42"
ENVELOPE_URL = "https://o1.ingest.example.com/api/42/envelope/"


class FakeClock:
    """Wall-clock seconds that only move when the forwarder sleeps: hours pass in no time."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.start = self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
        time.sleep(0)  # let the test thread run

    @property
    def elapsed(self) -> float:
        return self() - self.start


def envelope(kind: str = "event", marker: str = "") -> bytes:
    event_id = uuid.uuid4().hex
    env = Envelope(headers={"event_id": event_id})
    if kind == "event":
        env.add_event({"event_id": event_id, "message": marker or "boom", "level": "error"})
    else:
        env.add_transaction({"event_id": event_id, "type": "transaction", "transaction": marker})
    return env.serialize()


def forwarder(outbox: Path | Outbox, clock: FakeClock, **kwargs: int) -> Forwarder:
    return Forwarder(DSN, outbox=outbox, clock=clock, sleep=clock.sleep, max_backoff=60.0, **kwargs)


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll until `predicate` holds; fails the test (it is not a timing assertion) if it never does."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the condition never became true"
        time.sleep(0.005)


@pytest.fixture
def sentry() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def outbox_path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.db"


def test_a_ten_minute_outage_then_recovery_delivers_every_envelope_once_and_whole(
    sentry: respx.MockRouter, outbox_path: Path
) -> None:
    clock = FakeClock()
    received: list[bytes] = []
    phases: Counter[str] = Counter()

    def answer(request: httpx.Request) -> httpx.Response:
        t = clock.elapsed
        if t < 200:
            phases["connect_error"] += 1
            raise httpx.ConnectError("connection refused", request=request)
        if t < 400:
            phases["503"] += 1
            return httpx.Response(503)
        if t < 600:
            phases["429"] += 1
            return httpx.Response(429, headers={"Retry-After": "45"})
        received.append(request.content)
        return httpx.Response(200, json={"id": "ok"})

    sentry.post(ENVELOPE_URL).mock(side_effect=answer)
    fw = forwarder(outbox_path, clock)
    sent = [envelope(marker=f"first {i}") for i in range(10)]
    for body in sent:
        fw.submit(body)
    wait_for(lambda: phases["connect_error"] > 0)
    later = [envelope(marker=f"during the outage {i}") for i in range(10)]
    for body in later:
        fw.submit(body)
    assert fw.flush(10)
    stats = fw.stats()
    fw.close()
    assert clock.elapsed >= 600
    assert set(phases) == {"connect_error", "503", "429"}
    assert Counter(received) == Counter(sent + later)  # each exactly once, byte for byte
    assert received[:10] == sent  # oldest first
    assert stats["sent"] == 20 and stats["pending"] == 0 and stats["dropped"] == {}
    assert stats["failed"] >= 2 and stats["rate_limited"] >= 1


def test_back_off_is_exponential_and_capped(sentry: respx.MockRouter, outbox_path: Path) -> None:
    clock = FakeClock()
    attempts: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        attempts.append(clock.elapsed)
        return httpx.Response(200) if clock.elapsed > 1000 else httpx.Response(500)

    sentry.post(ENVELOPE_URL).mock(side_effect=answer)
    fw = forwarder(outbox_path, clock)
    fw.submit(envelope())
    assert fw.flush(10)
    fw.close()
    gaps = [round(b - a) for a, b in itertools.pairwise(attempts)]
    assert gaps[:7] == [1, 2, 4, 8, 16, 32, 60]
    assert set(gaps[6:]) == {60}


@pytest.mark.parametrize("status", [400, 413])
def test_a_final_rejection_drops_that_envelope_only_and_counts_it(
    sentry: respx.MockRouter, outbox_path: Path, status: int
) -> None:
    received: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if b"too big" in request.content:
            return httpx.Response(status)
        received.append(request.content)
        return httpx.Response(200)

    sentry.post(ENVELOPE_URL).mock(side_effect=answer)
    fw = forwarder(outbox_path, FakeClock())
    bodies = [envelope(marker="fine 1"), envelope(marker="too big"), envelope(marker="fine 2")]
    for body in bodies:
        fw.submit(body)
    assert fw.flush(10)
    stats = fw.stats()
    fw.close()
    assert received == [bodies[0], bodies[2]]
    assert stats["dropped"] == {f"rejected_{status}": 1}
    assert stats["sent"] == 2 and stats["pending"] == 0


def test_a_rate_limit_on_one_category_holds_only_that_category(
    sentry: respx.MockRouter, outbox_path: Path
) -> None:
    clock = FakeClock()
    received: list[tuple[float, str]] = []
    gate = threading.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        gate.wait(10)  # hold the first request until every envelope is in the outbox
        kind = "transaction" if b'"type":"transaction"' in request.content else "event"
        if kind == "transaction" and clock.elapsed < 120:
            return httpx.Response(429, headers={"X-Sentry-Rate-Limits": "120:transaction:key"})
        received.append((clock.elapsed, kind))
        return httpx.Response(200)

    sentry.post(ENVELOPE_URL).mock(side_effect=answer)
    fw = forwarder(outbox_path, clock)
    for kind in ("transaction", "event", "transaction", "event"):
        fw.submit(envelope(kind))
    assert fw.persist(5)
    gate.set()
    assert fw.flush(10)
    fw.close()
    assert [k for _, k in received] == ["event", "event", "transaction", "transaction"]
    assert all(t < 1 for t, k in received if k == "event"), received  # errors never waited
    assert all(t >= 120 for t, k in received if k == "transaction")


def test_rate_limits_on_a_2xx_answer_are_honoured_too(
    sentry: respx.MockRouter, outbox_path: Path
) -> None:
    clock = FakeClock()
    times: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        times.append(clock.elapsed)
        return httpx.Response(200, headers={"X-Sentry-Rate-Limits": "30::organization"})

    sentry.post(ENVELOPE_URL).mock(side_effect=answer)
    fw = forwarder(outbox_path, clock)
    fw.submit(envelope())
    fw.submit(envelope())
    assert fw.flush(10)
    fw.close()
    assert times[1] - times[0] >= 30


def test_a_restart_in_the_middle_of_an_outage_loses_nothing(
    sentry: respx.MockRouter, outbox_path: Path
) -> None:
    clock = FakeClock()
    received: list[bytes] = []
    up = threading.Event()
    up.set()

    def answer(request: httpx.Request) -> httpx.Response:
        if not up.is_set():
            raise httpx.ConnectError("down", request=request)
        received.append(request.content)
        return httpx.Response(200)

    sentry.post(ENVELOPE_URL).mock(side_effect=answer)
    bodies = [envelope(marker=f"e{i}") for i in range(10)]
    first = forwarder(outbox_path, clock)
    for body in bodies[:4]:
        first.submit(body)
    assert first.flush(10)
    up.clear()  # Sentry goes down, more events come, and the process stops
    for body in bodies[4:]:
        first.submit(body)
    assert first.persist(5)
    first.close(timeout=0.2)
    left = Outbox(outbox_path)
    assert left.pending(ENVELOPE_URL) == 6
    left.close()
    up.set()
    second = forwarder(outbox_path, clock)  # the restarted process, on the same file
    assert second.flush(10)
    second.close()
    assert received == bodies


def test_pending_envelopes_survive_kill_9_and_are_sent_on_restart(
    sentry: respx.MockRouter, outbox_path: Path
) -> None:
    port = free_port()
    dead = f"http://abc123def456@127.0.0.1:{port}/42"  # nothing listens: every send fails
    bodies = [envelope(marker=f"k{i}") for i in range(5)]
    script = textwrap.dedent(
        f"""
        import sys, time
        from inferwatch._forward import Forwarder
        fw = Forwarder({dead!r}, outbox={str(outbox_path)!r})
        for body in {bodies!r}:
            fw.submit(body)
        assert fw.persist(5)
        print("persisted", flush=True)
        time.sleep(60)
        """
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == b"persisted\n"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    received: list[bytes] = []
    sentry.post(f"http://127.0.0.1:{port}/api/42/envelope/").mock(
        side_effect=lambda r: received.append(r.content) or httpx.Response(200)
    )
    # An hour later: a claim the killed process held while sending has expired by then.
    restarted = Forwarder(dead, outbox=outbox_path, clock=lambda: time.time() + 3600)
    assert restarted.flush(10)
    restarted.close()
    assert received == bodies


def test_the_request_path_never_waits_for_sentry(
    sentry: respx.MockRouter, outbox_path: Path
) -> None:
    release = threading.Event()
    started = threading.Event()

    def hang(request: httpx.Request) -> httpx.Response:
        started.set()
        release.wait(10)
        return httpx.Response(200)

    sentry.post(ENVELOPE_URL).mock(side_effect=hang)
    fw = forwarder(outbox_path, FakeClock())
    fw.submit(envelope())
    assert started.wait(5)  # Sentry is holding the first request open...
    fw.submit(envelope())  # ...and submitting, even waiting for the disk, still returns
    assert fw.persist(5)
    assert not release.is_set()
    release.set()
    assert fw.flush(10)
    fw.close()


def test_past_its_bound_the_outbox_drops_the_oldest_and_counts_them(
    sentry: respx.MockRouter, outbox_path: Path
) -> None:
    received: list[bytes] = []
    up = threading.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        if not up.is_set():
            return httpx.Response(503)
        received.append(request.content)
        return httpx.Response(200)

    sentry.post(ENVELOPE_URL).mock(side_effect=answer)
    clock = FakeClock()
    outbox = Outbox(outbox_path, max_envelopes=3)  # the test's: the forwarder leaves it open
    fw = forwarder(outbox, clock)
    bodies = [envelope(marker=f"b{i}") for i in range(5)]
    for body in bodies:
        fw.submit(body)
    assert fw.persist(5)
    up.set()
    assert fw.flush(10)
    stats = fw.stats()
    fw.close()
    outbox.close()
    assert received == bodies[2:]
    assert stats["dropped"] == {"overflow": 2}


def test_submit_never_raises_and_counts_what_it_cannot_take(outbox_path: Path) -> None:
    fw = forwarder(outbox_path, FakeClock(), max_envelope_bytes=100)
    fw.submit(b"x" * 101)
    fw.close(0.1)
    fw.submit(envelope())
    assert fw.stats()["dropped"] == {"too_large": 1, "closed": 1}


def test_persist_reports_an_envelope_it_could_not_take(
    sentry: respx.MockRouter, outbox_path: Path
) -> None:
    sentry.post(ENVELOPE_URL).respond(200)
    small = envelope()
    fw = forwarder(outbox_path, FakeClock(), max_envelope_bytes=len(small))
    assert fw.submit(small)
    assert fw.persist(5)
    assert not fw.submit(small + b"x")
    assert not fw.persist(5)  # the collector answers 503, not 200, for what was lost
    assert fw.persist(5)
    fw.close(1)


def test_init_with_a_dsn_forwards_through_an_outbox_beside_the_store(
    sentry: respx.MockRouter, store_path: Path
) -> None:
    route = sentry.post(ENVELOPE_URL).mock(return_value=httpx.Response(200))
    inferwatch.init(dsn=DSN, store=store_path, environ={})
    try:
        raise ValueError("forward me")
    except ValueError as exc:
        inferwatch.capture_exception(exc)
    assert inferwatch.flush(5)
    assert route.call_count == 1
    assert b"forward me" in route.calls.last.request.content
    outbox = Outbox(store_path.parent / "outbox.db")
    assert outbox.pending(ENVELOPE_URL) == 0  # delivered, so deleted
    outbox.close()


def test_close_during_an_outage_does_not_wait_and_keeps_the_envelopes(
    sentry: respx.MockRouter, outbox_path: Path
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    sentry.post(ENVELOPE_URL).mock(side_effect=down)
    # A clock that never moves and no fake sleep: the first back-off never ends.
    fw = Forwarder(DSN, outbox=outbox_path, clock=FakeClock())
    fw.submit(envelope())
    wait_for(lambda: fw.stats()["failed"] == 1)
    fw.submit(envelope())
    closing = threading.Thread(target=fw.close, kwargs={"timeout": 600})
    closing.start()
    closing.join(30)  # a liveness check: without the early exit this waits for ten minutes
    assert not closing.is_alive()
    left = Outbox(outbox_path)
    assert left.pending(ENVELOPE_URL) == 2
    left.close()


def test_an_outbox_that_cannot_be_opened_falls_back_to_memory_and_still_delivers(
    sentry: respx.MockRouter, tmp_path: Path
) -> None:
    route = sentry.post(ENVELOPE_URL).mock(return_value=httpx.Response(200))
    (tmp_path / "a-file").write_text("not a directory")
    fw = forwarder(tmp_path / "a-file" / "outbox.db", FakeClock())
    fw.submit(envelope())
    assert fw.flush(5)
    fw.close()
    assert fw.outbox.path == ":memory:" and route.call_count == 1
