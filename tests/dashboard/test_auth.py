"""Access to the dashboard: CSRF bound to the session, wrong tokens slowed without locking the
operator out, and a token required behind a reverse proxy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from inferwatch.serve import ServeConfig, build
from inferwatch.store import Store

from tests.conftest import LiveServer, free_port, rows
from tests.dashboard._seed import KEY
from tests.reliability.conftest import served_collector

TOKEN = "s3cret-token"


@pytest.fixture
def with_token(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    served = build(ServeConfig(store=tmp_path / "events.db", port=port, key=KEY, token=TOKEN))
    store = Store(served.config.store)
    try:
        assert store.write([("event", {"event_id": "a" * 32, "message": "boom"})])
    finally:
        store.close()
    try:
        with LiveServer(served.app, port) as server:
            yield server.url, served.config.store
    finally:
        served.close()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def log_in(client: httpx.Client) -> None:
    csrf = csrf_of(client.get("/login").text)
    assert client.post("/login", data={"token": TOKEN, "csrf": csrf}).status_code == 303


def test_the_csrf_value_of_the_public_login_page_does_not_change_an_issue(
    with_token: tuple[str, Path],
) -> None:
    url, store = with_token
    issue = rows(store, "SELECT id FROM issues")[0]["id"]
    public = csrf_of(httpx.get(f"{url}/login").text)  # anyone can read this, logged out
    with httpx.Client(base_url=url) as victim:
        log_in(victim)
        forged = victim.post(f"/issues/{issue}/status", data={"status": "ignored", "csrf": public})
        assert forged.status_code == 403
        assert rows(store, "SELECT status FROM issues")[0]["status"] == "unresolved"
        own = csrf_of(victim.get(f"/issues/{issue}").text)
        done = victim.post(f"/issues/{issue}/status", data={"status": "ignored", "csrf": own})
        assert done.status_code == 303
    assert rows(store, "SELECT status FROM issues")[0]["status"] == "ignored"


def test_a_csrf_value_of_one_session_does_not_serve_another(
    with_token: tuple[str, Path],
) -> None:
    url, store = with_token
    issue = rows(store, "SELECT id FROM issues")[0]["id"]
    with httpx.Client(base_url=url) as first:
        log_in(first)
        csrf = csrf_of(first.get(f"/issues/{issue}").text)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=bearer) as other:  # no session cookie
        forged = other.post(f"/issues/{issue}/status", data={"status": "resolved", "csrf": csrf})
    assert forged.status_code == 403
    assert rows(store, "SELECT status FROM issues")[0]["status"] == "unresolved"


# -- against `inferwatch serve` on loopback -------------------------------------------------


def test_after_many_wrong_tokens_the_right_token_and_cookie_still_get_in(store_path: Path) -> None:
    served = served_collector(store_path, "--token", TOKEN)
    with served as (_, url), httpx.Client(base_url=url) as operator:
        log_in(operator)  # a session from before the guessing started
        wrong = {"Authorization": "Bearer guess"}
        guesses = [httpx.get(f"{url}/api/version", headers=wrong) for _ in range(30)]
        right = httpx.get(f"{url}/api/version", headers={"Authorization": f"Bearer {TOKEN}"})
        by_cookie = operator.get("/api/version")
        with httpx.Client(base_url=url) as newcomer:
            log_in(newcomer)  # the login form takes the right token too
            fresh_cookie = newcomer.get("/api/version")
        csrf = csrf_of(operator.get("/login").text)
        failed_login = httpx.post(f"{url}/login", data={"token": "guess", "csrf": csrf})
        still_slowed = httpx.get(f"{url}/api/version", headers=wrong)
    codes = [g.status_code for g in guesses]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    assert right.status_code == 200 and by_cookie.status_code == 200
    assert fresh_cookie.status_code == 200
    assert failed_login.status_code == 429 and still_slowed.status_code == 429


PROXY_HEADERS = [
    {"X-Forwarded-For": "203.0.113.7"},
    {"X-Forwarded-Proto": "https"},
    {"Forwarded": "for=203.0.113.7;proto=https"},
    {"X-Real-IP": "203.0.113.7"},
]


def test_behind_a_proxy_a_loopback_dashboard_needs_the_token(store_path: Path) -> None:
    with served_collector(store_path) as (_, url), httpx.Client(base_url=url) as client:
        proxied = [client.get("/", headers=h) for h in PROXY_HEADERS]
        metrics = client.get("/metrics", headers=PROXY_HEADERS[0])
        direct = client.get("/")
        direct_metrics = client.get("/metrics")
        ingest = client.get("/iw/inferwatch.js", headers=PROXY_HEADERS[0])
    for answer in [*proxied, metrics]:
        assert answer.status_code == 403
        assert "--token" in answer.text and "reverse proxy" in answer.text
    assert direct.status_code == 200 and direct_metrics.status_code == 200  # as before
    assert ingest.status_code == 200  # the ingest routes never use the token

    bearer = {"Authorization": f"Bearer {TOKEN}"}
    served = served_collector(store_path, "--token", TOKEN)
    with served as (_, url), httpx.Client(base_url=url) as client:
        without = client.get("/api/version", headers=PROXY_HEADERS[0])
        with_token = client.get("/api/version", headers={**PROXY_HEADERS[0], **bearer})
        page = client.get("/", headers={**PROXY_HEADERS[2], **bearer})
    assert without.status_code == 401
    assert with_token.status_code == 200 and page.status_code == 200
