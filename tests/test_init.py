"""`init`: where events go, how options are checked, and that it can be called again."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import inferwatch
import pytest
import respx
import sentry_sdk
from inferwatch import _runtime

from tests.conftest import Events, rows

DSN = "https://abc123def456@o1.ingest.example.com/42"
ENVELOPE_URL = "https://o1.ingest.example.com/api/42/envelope/"


def fail(message: str) -> None:
    raise RuntimeError(message)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Records every attempt to open an internet socket."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts


def boom() -> None:
    raise ValueError("boom")


def capture_boom() -> None:
    try:
        boom()
    except ValueError as exc:
        inferwatch.capture_exception(exc)


def test_without_a_dsn_events_are_stored_locally_and_no_socket_is_opened(
    store_path: Path, stored_events: Events, no_network: list[object]
) -> None:
    inferwatch.init(store=store_path, environ={})
    capture_boom()
    events = stored_events()
    assert [e["exception"]["values"][-1]["value"] for e in events] == ["boom"]
    assert no_network == []


@respx.mock
def test_with_a_dsn_envelopes_go_to_sentry_with_auth_and_to_the_store(
    store_path: Path, stored_events: Events
) -> None:
    route = respx.post(ENVELOPE_URL).mock(return_value=httpx.Response(200, json={}))
    inferwatch.init(dsn=DSN, store=store_path, environ={})
    capture_boom()
    assert len(stored_events()) == 1
    assert route.call_count == 1
    request = route.calls.last.request
    assert "sentry_key=abc123def456" in request.headers["x-sentry-auth"]
    assert "sentry_version=7" in request.headers["x-sentry-auth"]
    assert b'"value":"boom"' in request.content.replace(b": ", b":")


@respx.mock
def test_sentry_dsn_from_the_environment_is_honoured(store_path: Path) -> None:
    route = respx.post(ENVELOPE_URL).mock(return_value=httpx.Response(200))
    inferwatch.init(store=store_path, environ={"SENTRY_DSN": DSN})
    capture_boom()
    inferwatch.flush(5)
    assert route.call_count == 1


@respx.mock
def test_store_none_with_a_dsn_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    route = respx.post(ENVELOPE_URL).mock(return_value=httpx.Response(200))
    inferwatch.init(dsn=DSN, store=None, environ={})
    capture_boom()
    inferwatch.flush(5)
    assert route.call_count == 1
    assert not (tmp_path / ".inferwatch").exists()


def test_default_store_path_is_created_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inferwatch.init(environ={})
    capture_boom()
    inferwatch.flush(5)
    assert (
        rows(tmp_path / ".inferwatch" / "events.db", "SELECT count(*) AS n FROM events")[0]["n"]
        == 1
    )


def test_inferwatch_store_environment_variable_overrides_the_default(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "x.db"
    inferwatch.init(environ={"INFERWATCH_STORE": str(path)})
    capture_boom()
    inferwatch.flush(5)
    assert rows(path, "SELECT count(*) AS n FROM events")[0]["n"] == 1


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"sample_rate": 2}, "'sample_rate'"),
        ({"generations_sample_rate": -0.1}, "'generations_sample_rate'"),
        ({"queue_size": 0}, "'queue_size'"),
        ({"store": 42}, "'store'"),
        ({"dsn": "not a dsn"}, "'dsn'"),
        ({"mask": "nope"}, "'mask'"),
        ({"colour": "blue"}, "'colour'"),
    ],
)
def test_a_bad_option_raises_naming_the_option_and_value(
    options: dict[str, object], named: str
) -> None:
    with pytest.raises(inferwatch.ConfigError) as info:
        inferwatch.init(environ={}, **options)
    assert named in str(info.value)
    assert _runtime.current() is None


def test_calling_init_twice_reconfigures_cleanly(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    inferwatch.init(store=first, environ={})
    capture_boom()
    inferwatch.init(store=second, environ={}, release="2.0")
    capture_boom()
    inferwatch.flush(5)
    assert rows(first, "SELECT count(*) AS n FROM events")[0]["n"] == 1
    assert rows(second, "SELECT release FROM events") == [{"release": "2.0"}]


def test_local_variables_are_not_sent_by_default(store_path: Path, stored_events: Events) -> None:
    inferwatch.init(store=store_path, environ={})

    def leaky() -> None:
        prompt = "my secret prompt"  # noqa: F841 (the local variable under test)
        raise ValueError("x")

    try:
        leaky()
    except ValueError as exc:
        inferwatch.capture_exception(exc)
    frames = stored_events()[0]["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames and all("vars" not in f for f in frames)


def test_sentry_sdks_starlette_and_fastapi_integrations_are_not_enabled(store_path: Path) -> None:
    inferwatch.init(store=store_path, environ={})
    enabled = set(sentry_sdk.get_client().integrations)
    assert not enabled & {"starlette", "fastapi"}


def test_shutdown_drains_the_queue(store_path: Path) -> None:
    inferwatch.init(store=store_path, environ={})
    for _ in range(50):
        capture_boom()
    inferwatch.shutdown()
    assert rows(store_path, "SELECT count(*) AS n FROM events")[0]["n"] == 50


def test_public_names_are_the_documented_ones() -> None:
    assert inferwatch.__all__ == sorted(inferwatch.__all__)
    for name in (
        "init",
        "watch_model",
        "model_context",
        "capture_exception",
        "flush",
        "log_usage",
        "Middleware",
    ):
        assert name in inferwatch.__all__


def test_the_sdk_keeps_its_store_within_the_retention_policy(store_path: Path) -> None:
    inferwatch.init(store=store_path, environ={}, retention=None)
    for _ in range(12):
        capture_boom()
    inferwatch.init(
        store=store_path, environ={}, retention=inferwatch.Retention(max_events_per_issue=5)
    )
    deadline = time.monotonic() + 10
    while rows(store_path, "SELECT count(*) AS n FROM events")[0]["n"] > 5:
        assert time.monotonic() < deadline, "retention did not run"
        time.sleep(0.05)
    assert rows(store_path, "SELECT count FROM issues") == [{"count": 12}]


def test_retention_must_be_a_policy() -> None:
    with pytest.raises(inferwatch.ConfigError, match="'retention'"):
        inferwatch.init(environ={}, retention=5)


def test_in_app_frames_carry_their_source_lines(store_path: Path, stored_events: Events) -> None:
    inferwatch.init(store=store_path, environ={})
    capture_boom()
    frames = stored_events()[0]["exception"]["values"][-1]["stacktrace"]["frames"]
    [raising] = [f for f in frames if f["function"] == "boom"]
    assert raising["context_line"].strip() == 'raise ValueError("boom")'
    assert raising["pre_context"][-1].strip() == "def boom() -> None:"
    assert all("context_line" not in f for f in frames if not f.get("in_app"))


def leaky() -> None:
    password = "hunter2-but-longer"  # a secret hard-coded in the app's own source
    owner = "ops@example.com"
    raise ValueError(f"login failed for {len(password)} {len(owner)}")


def test_secrets_in_the_apps_own_source_lines_are_redacted(
    store_path: Path, stored_events: Events
) -> None:
    inferwatch.init(store=store_path, environ={})
    for _ in range(2):  # the second time, from the cache of lines known clean
        try:
            leaky()
        except ValueError as exc:
            inferwatch.capture_exception(exc)
    assert inferwatch.flush()
    for event in stored_events():
        frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
        [raising] = [f for f in frames if f["function"] == "leaky"]
        source = "\n".join([*raising["pre_context"], raising["context_line"]])
        assert "hunter2" not in source and "ops@example.com" not in source
        assert 'password = "[Filtered]"' in source and "[email]" in source
        assert "raise ValueError" in raising["context_line"]


def test_flush_is_false_when_nothing_could_be_stored_and_stats_say_why(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("where the store's folder should be")
    inferwatch.init(store=tmp_path / "file" / "events.db", environ={})
    capture_boom()
    time.sleep(0.5)  # the writer tries (and fails) before flush is called, as at an app's exit
    assert inferwatch.flush(5) is False
    assert inferwatch.flush(5) is True  # nothing more was captured since
    stats = inferwatch.stats()
    assert stats is not None
    assert stats["store"] == str(tmp_path / "file" / "events.db")
    assert stats["dropped"] == {"unwritable": 1}
    assert stats["last_error"]["reason"] == "unwritable"


def test_flush_is_true_and_stats_count_what_was_stored(store_path: Path) -> None:
    assert inferwatch.stats() is None  # before init
    inferwatch.init(store=store_path, environ={})
    capture_boom()
    assert inferwatch.flush(5) is True
    stats = inferwatch.stats()
    assert stats is not None and stats["stored"] == 1 and stats["last_error"] is None


def test_the_store_is_logged_once_with_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.INFO, logger="inferwatch"):
        inferwatch.init(store="relative/events.db", environ={})
        inferwatch.init(store="relative/events.db", environ={}, release="2.0")
    said = [r.getMessage() for r in caplog.records if "storing events in" in r.getMessage()]
    assert said == [f"inferwatch: storing events in {tmp_path / 'relative' / 'events.db'}"]
