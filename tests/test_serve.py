"""`inferwatch serve`: one app with the collector, the dashboard and /metrics; token off loopback."""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
import respx
from inferwatch import ConfigError, StoreError
from inferwatch.cli import main
from inferwatch.serve import ServeConfig, Served, banner, build, snippet_tag
from inferwatch.store import Store
from inferwatch.store._retention import Retention

from tests.conftest import LiveServer, free_port, rows
from tests.dashboard._seed import KEY, browser_batch

TOKEN = "s3cret-token"
DSN = "https://abc123@o1.ingest.sentry.io/42"


def serve(config: ServeConfig) -> Iterator[tuple[str, Served]]:
    served = build(config)
    try:
        with LiveServer(served.app, config.port) as server:
            yield server.url, served
    finally:
        served.close()


@pytest.fixture
def with_token(tmp_path: Path) -> Iterator[tuple[str, Served]]:
    # 127.0.0.1 with a token behaves as any non-loopback bind does: the token is required.
    config = ServeConfig(store=tmp_path / "events.db", port=free_port(), key=KEY, token=TOKEN)
    yield from serve(config)


def send_browser_error(url: str) -> httpx.Response:
    batch = browser_batch(1.7e12, message="boom", selector="button")
    return httpx.post(
        f"{url}/iw/ingest?key={KEY}",
        json=batch,
        headers={"Content-Type": "text/plain", "Origin": "http://127.0.0.1:3000"},
    )


def test_refuses_to_start_off_loopback_without_a_token(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--token"):
        build(ServeConfig(store=tmp_path / "events.db", host="0.0.0.0"))


def test_the_command_refuses_off_loopback_without_a_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INFERWATCH_TOKEN", raising=False)
    assert main(["serve", "--store", str(tmp_path / "e.db"), "--host", "0.0.0.0"]) == 2
    assert "without a token" in capsys.readouterr().err
    assert not (tmp_path / "e.db").exists()


def test_off_loopback_with_a_token_builds(tmp_path: Path) -> None:
    served = build(ServeConfig(store=tmp_path / "events.db", host="0.0.0.0", token=TOKEN))
    served.close()


def test_dashboard_requests_without_the_token_are_refused(
    with_token: tuple[str, Served],
) -> None:
    url, _ = with_token
    assert httpx.get(f"{url}/api/version").status_code == 401
    page = httpx.get(f"{url}/generations", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert httpx.get(f"{url}/metrics").status_code == 401
    wrong = httpx.get(f"{url}/", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_a_bearer_token_opens_the_dashboard_and_metrics(with_token: tuple[str, Served]) -> None:
    url, _ = with_token
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{url}/", headers=auth).status_code == 200
    assert "inferwatch" in httpx.get(f"{url}/metrics", headers=auth).text


def test_the_login_form_sets_an_httponly_samesite_cookie(with_token: tuple[str, Served]) -> None:
    url, _ = with_token
    with httpx.Client(base_url=url) as client:
        form = client.get("/login").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
        assert csrf
        bad = client.post("/login", data={"token": "nope", "csrf": csrf.group(1)})
        assert bad.status_code == 401
        good = client.post("/login", data={"token": TOKEN, "csrf": csrf.group(1), "next": "/usage"})
        assert good.status_code == 303 and good.headers["location"] == "/usage"
        cookie = good.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and TOKEN not in cookie
        assert client.get("/usage").status_code == 200


def test_login_never_redirects_off_site(with_token: tuple[str, Served]) -> None:
    url, _ = with_token
    with httpx.Client(base_url=url) as client:
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/login").text)
        assert csrf
        for target in ("//evil.example/", "/\t/evil.example", "/\\evil.example", "https://e.x"):
            data = {"token": TOKEN, "csrf": csrf.group(1), "next": target}
            assert client.post("/login", data=data).headers["location"] == "/"


def test_ingest_keeps_using_the_public_key_not_the_token(with_token: tuple[str, Served]) -> None:
    url, _ = with_token
    assert send_browser_error(url).status_code == 200
    refused = httpx.post(f"{url}/iw/ingest?key=wrong", content=b"{}", headers={})
    assert refused.status_code == 403


def test_banner_prints_the_urls_the_key_and_the_snippet_tag(tmp_path: Path) -> None:
    served = build(ServeConfig(store=tmp_path / "events.db", port=9911, key=KEY))
    try:
        text = banner(served)
    finally:
        served.close()
    assert "http://127.0.0.1:9911/" in text and KEY in text
    assert snippet_tag("http://127.0.0.1:9911", KEY) in text


def test_the_key_is_kept_beside_the_store_when_not_given(tmp_path: Path) -> None:
    first = build(ServeConfig(store=tmp_path / "events.db"))
    first.close()
    second = build(ServeConfig(store=tmp_path / "events.db"))
    second.close()
    assert first.key == second.key and (tmp_path / "collector.key").exists()


def test_snippet_tag_escapes_its_attributes() -> None:
    tag = snippet_tag('http://x"><script>', "k")
    assert "<script>" not in tag.replace("<script src=", "") and "&quot;&gt;" in tag


@respx.mock(assert_all_called=False)
def test_with_a_dsn_browser_errors_are_forwarded_to_sentry(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.route(host="127.0.0.1").pass_through()
    sentry = respx_mock.post("https://o1.ingest.sentry.io/api/42/envelope/").respond(200)
    config = ServeConfig(store=tmp_path / "events.db", port=free_port(), key=KEY, dsn=DSN)
    for url, served in serve(config):
        assert send_browser_error(url).status_code == 200
        assert served.collector.forwarder is not None
        assert served.collector.forwarder.flush(5)
    assert sentry.called
    assert b'"platform":"javascript"' in sentry.calls.last.request.content.replace(b" ", b"")


def test_serve_forwards_through_a_durable_outbox_beside_the_store(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.post("https://o1.ingest.sentry.io/api/42/envelope/").respond(503)
    served = build(ServeConfig(store=tmp_path / "events.db", key=KEY, dsn=DSN))
    try:
        forwarder = served.collector.forwarder
        assert forwarder is not None
        assert forwarder.submit(b'{}\n{"type":"event"}\n{}')
        assert forwarder.persist(5)
    finally:
        served.close()
    with closing(sqlite3.connect(tmp_path / "outbox.db")) as conn:  # kept for the next start
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (1,)


def test_tunnel_dsn_flags_reach_the_collector(tmp_path: Path) -> None:
    from inferwatch.cli import build_parser
    from inferwatch.serve import config_from_args

    args = build_parser().parse_args(
        ["serve", "--store", str(tmp_path / "events.db"), "--tunnel-dsn", DSN]
    )
    served = build(config_from_args(args, {}))
    try:
        assert served.collector.config.tunnel_dsns == (DSN,)
        assert served.collector.config.tunnel_verbatim is False  # redacted unless asked
    finally:
        served.close()


def test_tunnel_verbatim_flag_reaches_the_collector(tmp_path: Path) -> None:
    from inferwatch.cli import build_parser
    from inferwatch.serve import config_from_args

    args = build_parser().parse_args(
        ["serve", "--store", str(tmp_path / "events.db"), "--tunnel-dsn", DSN, "--tunnel-verbatim"]
    )
    served = build(config_from_args(args, {}))
    try:
        assert served.collector.config.tunnel_verbatim is True
    finally:
        served.close()


def test_wrong_tokens_are_slowed_down_and_the_right_one_still_gets_in(
    with_token: tuple[str, Served],
) -> None:
    url, _ = with_token
    wrong = {"Authorization": "Bearer nope"}
    codes = [httpx.get(f"{url}/api/version", headers=wrong).status_code for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{url}/api/version", headers=right).status_code == 200
    assert httpx.get(f"{url}/api/version", headers=wrong).status_code == 429


def test_retention_runs_when_serve_starts(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = Store(path)
    events = [
        {"event_id": uuid.uuid4().hex, "message": "m", "fingerprint": ["busy"]} for _ in range(12)
    ]
    assert store.write([("event", e) for e in events])
    store.close()
    served = build(ServeConfig(store=path, retention=Retention(max_events_per_issue=5)))
    try:
        deadline = time.monotonic() + 10
        while rows(path, "SELECT COUNT(*) AS n FROM events")[0]["n"] > 5:
            assert time.monotonic() < deadline, "retention did not run"
            time.sleep(0.05)
    finally:
        served.close()
    assert rows(path, "SELECT count FROM issues")[0]["count"] == 12


# A test run started in the background inherits SIGINT ignored; the child restores Ctrl-C.
_MAIN = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
    " from inferwatch.cli import main; sys.exit(main())"
)


def test_the_serve_command_prints_the_tag_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-c", _MAIN, "serve", "--store", str(tmp_path / "e.db")]
    command += ["--port", str(port), "--key", KEY]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        watchdog = threading.Timer(30, process.kill)  # fail, never hang
        watchdog.start()
        try:
            assert process.stdout is not None
            printed = ""
            while "<script" not in printed:
                line = process.stdout.readline()
                assert line, f"serve stopped before printing the tag: {printed}"
                printed += line
            url = f"http://127.0.0.1:{port}"
            assert snippet_tag(url, KEY) in printed and f"{url}/metrics" in printed
            assert _get_when_up(f"{url}/").status_code == 200
            assert send_browser_error(url).status_code == 200
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(15)
            watchdog.cancel()
    assert code == 0
    assert rows(tmp_path / "e.db", "SELECT COUNT(*) AS n FROM events")[0]["n"] == 1


def _get_when_up(url: str) -> httpx.Response:
    """The banner is printed just before uvicorn binds the port."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return httpx.get(url, headers={"Accept": "text/html"})
        except httpx.ConnectError:
            assert time.monotonic() < deadline, "serve did not start listening"
            time.sleep(0.05)


def test_a_busy_port_is_refused_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "--store", str(tmp_path / "e.db"), "--port", str(port)])
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_a_store_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the store"):
        build(ServeConfig(store=tmp_path / "file" / "events.db"))
