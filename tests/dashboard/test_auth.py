"""CSRF with a token: the value a form carries is bound to the browser's session."""

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
