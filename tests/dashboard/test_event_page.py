"""The issue page shows everything a Sentry SDK sends; attachments are downloads behind the
dashboard's access rules; feedback is listed; the usage page has the ingest panel."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from inferwatch.serve import ServeConfig, build

from tests.conftest import LiveServer, free_port, rows
from tests.dashboard._seed import KEY
from tests.dashboard.conftest import Running

HTML = {"Accept": "text/html"}
TOKEN = "t0ken-for-the-dashboard"


def full_event() -> dict[str, Any]:
    """One event with every part a Sentry SDK may send."""
    frames = [
        {
            "module": "app.jobs",
            "function": "run",
            "lineno": 3,
            "in_app": True,
            "vars": {"order_id": "1234", "api_key": "sk-abcdefghijklmnopqrstuv"},
        },
        {
            "module": "app.pay",
            "function": "charge",
            "lineno": 9,
            "in_app": True,
            "context_line": "    total = amount / count",
            "vars": {"count": "0"},
        },
    ]
    return {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "level": "error",
        "release": "shop@2.1.0",
        "environment": "staging",
        "server_name": "web-7",
        "transaction": "/checkout",
        "user": {"id": "u-42", "username": "al", "email": "al@example.com"},
        "tags": {"region": "eu-west"},
        "sdk": {"name": "sentry.python", "version": "2.75.0"},
        "contexts": {
            "os": {"name": "Linux", "version": "6.1"},
            "runtime": {"name": "CPython", "version": "3.12.1"},
            "device": {"arch": "x86_64"},
            "app": {"app_start_time": "2026-01-01T00:00:00Z"},
            "gpu": {"name": "A100", "vendor_name": "NVIDIA"},
            "trace": {
                "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "span_id": "00f067aa0ba902b7",
                "op": "http.server",
            },
            "model": {"name": "ranker", "status": "error"},
        },
        "exception": {
            "values": [
                {
                    "type": "KeyError",
                    "value": "'price'",
                    "mechanism": {"type": "chained", "exception_id": 1, "parent_id": 0},
                },
                {
                    "type": "ExceptionGroup",
                    "value": "2 sub-exceptions",
                    "mechanism": {"type": "generic", "exception_id": 0, "is_exception_group": True},
                },
                {
                    "type": "ZeroDivisionError",
                    "value": "division by zero",
                    "stacktrace": {"frames": frames},
                    "mechanism": {
                        "type": "generic",
                        "handled": False,
                        "exception_id": 2,
                        "parent_id": 0,
                    },
                },
            ]
        },
        "threads": {
            "values": [
                {
                    "id": 1,
                    "name": "MainThread",
                    "current": True,
                    "stacktrace": {
                        "frames": [{"module": "app.main", "function": "serve", "in_app": True}]
                    },
                },
                {
                    "id": 2,
                    "name": "worker-3",
                    "crashed": True,
                    "stacktrace": {
                        "frames": [{"module": "app.jobs", "function": "run", "in_app": True}]
                    },
                },
            ]
        },
        "request": {
            "method": "POST",
            "url": "http://shop/checkout",
            "headers": {"Cookie": "sessionid=abc"},
            "cookies": {"sessionid": "abc"},
        },
        "timestamp": 1,  # long ago: Sentry's normalizer stores it now, and says so
    }


def send(url: str, *items: tuple[dict[str, Any], bytes], event_id: str) -> None:
    lines = [json.dumps({"event_id": event_id}).encode()]
    for header, payload in items:
        lines += [json.dumps({**header, "length": len(payload)}).encode(), payload]
    response = httpx.post(
        f"{url}/api/1/envelope/?sentry_key={KEY}", content=b"\n".join(lines) + b"\n"
    )
    assert response.status_code == 200, response.text


def seed(url: str) -> str:
    event = full_event()
    report = {
        "event_id": event["event_id"],
        "name": "Al",
        "email": "al@example.com",
        "comments": "Paying failed twice",
    }
    send(
        url,
        ({"type": "event"}, json.dumps(event).encode()),
        (
            {"type": "attachment", "filename": "page.html", "content_type": "text/html"},
            b"<script>window.__pwned=1</script>",
        ),
        ({"type": "user_report"}, json.dumps(report).encode()),
        event_id=event["event_id"],
    )
    return str(event["event_id"])


def issue_page(url: str, store: Path, **headers: str) -> str:
    [issue] = rows(store, "SELECT id FROM issues")
    page = httpx.get(f"{url}/issues/{issue['id']}", headers={**HTML, **headers})
    assert page.status_code == 200
    return page.text


def test_the_issue_page_shows_everything_the_sdk_sent(running: Running) -> None:
    seed(running.url)
    running.served.collector.store.flush()
    page = issue_page(running.url, running.store)
    for shown in (
        "ZeroDivisionError",
        "division by zero",
        "unhandled",  # the main exception
        "KeyError",
        "exception group 0",
        "in exception group 0",  # the group and its members
        "order_id",
        "1234",
        "api_key",  # a frame's local variables, redacted
        "worker-3",
        "crashed",
        "MainThread",  # threads, the crashed one first
        "u-42",
        "al",  # the user
        "region",
        "eu-west",
        "web-7",
        "shop@2.1.0",
        "staging",
        "/checkout",
        "sentry.python 2.75.0",
        "CPython",
        "A100",
        "x86_64",
        "app_start_time",
        "00f067aa0ba902b7",  # every context
        "past timestamp at timestamp",  # what Sentry's normalizer repaired, in a few words
        "Paying failed twice",
        "page.html",  # feedback and the attachment
    ):
        assert shown in page, shown
    assert "sessionid=abc" not in page and "sk-abcdef" not in page  # redacted, in their shape
    crashed = page.index("worker-3")
    assert (
        page.index("MainThread") > crashed
        and "open" in page[page.rindex("<details", 0, crashed) : crashed]
    )


def test_attachments_are_downloads_that_never_render_and_need_the_token(tmp_path: Path) -> None:
    port = free_port()
    served = build(ServeConfig(store=tmp_path / "events.db", port=port, key=KEY, token=TOKEN))
    try:
        with LiveServer(served.app, port) as server:
            seed(server.url)
            served.collector.store.flush()
            [attachment] = rows(served.config.store, "SELECT id FROM attachments")
            link = f"{server.url}/attachments/{attachment['id']}"
            assert httpx.get(link).status_code == 401
            assert httpx.get(link, headers={"Authorization": "Bearer wrong"}).status_code == 401
            page = issue_page(server.url, served.config.store, Authorization=f"Bearer {TOKEN}")
            assert f'href="/attachments/{attachment["id"]}"' in page
            response = httpx.get(link, headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        served.close()
    assert response.status_code == 200
    assert response.content == b"<script>window.__pwned=1</script>"  # as sent, byte for byte
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith('attachment; filename="page.html"')
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]


def test_feedback_is_listed_with_its_issue(running: Running) -> None:
    event_id = seed(running.url)
    running.served.collector.store.flush()
    page = httpx.get(f"{running.url}/feedback", headers=HTML).text
    assert "Paying failed twice" in page and "al@example.com" in page
    [issue] = rows(running.store, "SELECT id FROM issues")
    assert f'href="/issues/{issue["id"]}?event={event_id}"' in page


def test_the_usage_page_has_the_ingest_panel(running: Running) -> None:
    seed(running.url)
    running.served.collector.store.flush()
    page = httpx.get(f"{running.url}/usage", headers=HTML).text
    panel = page[page.index('id="ingest"') :]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", panel)
    assert cells[cells.index("stored") : cells.index("stored") + 5] == [
        "stored",
        "attachment",
        "—",
        "1",
        "1",
    ]
    assert "user_report" in panel and "Received" in panel
