"""Secrets generated in many shapes (hypothesis) leak nowhere: not through the SDK (the store
file, the outbox, the body Sentry receives, inferwatch's log lines, webhook and Slack alerts),
nor through the collector's ingest routes and its tunnel (the store, the outbox, what the tunnel
forwards to Sentry, the dashboard's HTML, the CLI, exports).

`tests/_secrets.py` makes the secrets and the shapes; `test_no_leaks.py` is the fixed corpus.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import respx
from fastapi import FastAPI, Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inferwatch.cli import main as cli
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.dashboard import Access, dashboard_router
from inferwatch.store import Store, open_readonly

from tests._secrets import found, keyed, opaque, patterned, placed
from tests.conftest import asgi_client
from tests.reliability.conftest import (
    AUTH,
    ENVELOPE_URL,
    INGEST_URL,
    KEY,
    batch,
    browser_error,
    envelope,
    sentry_event,
)
from tests.reliability.test_no_leaks import DSN, SENTRY, decoded, store_bytes

WEBHOOK, SLACK = "https://hooks.example/inferwatch", "https://hooks.example/slack"
TUNNEL_DSN = "https://b5d4c3b2a1f0e9d8@o77.ingest.example.com/4242"
TUNNEL_UPSTREAM = "https://o77.ingest.example.com/api/4242/envelope/"
SLOW = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
Planted = list[tuple[Any, tuple[str, ...]]]


@dataclasses.dataclass
class Ticket:
    """What an app passes a model beside JSON: an object of its own, a set."""

    payload: Any
    labels: set[str]


def needles(planted: Planted) -> list[str]:
    return [n for _, ns in planted for n in ns]


def prose_of(planted: Planted) -> str:
    """The secrets that are text, in one sentence (for exception messages and log lines)."""
    return " and ".join(str(v) for v, _ in planted if isinstance(v, str | int))


@contextlib.contextmanager
def inferwatch_log() -> Iterator[io.StringIO]:
    """inferwatch's own log lines (INFO: what each model call received and returned), as JSON."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(inferwatch.JsonFormatter())
    logger = logging.getLogger("inferwatch")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def app_with_secrets() -> FastAPI:
    app = FastAPI()

    @inferwatch.watch_model("chat")
    def predict(ticket: Ticket, note: str) -> str:
        raise RuntimeError(f"the model refused: {note}")

    @app.post("/chat")
    async def chat(request: Request) -> dict[str, str]:
        body = await request.json()
        ticket = Ticket(body["planted"], set(body["labels"]))
        inferwatch.log_usage("/chat", ticket)
        with inferwatch.model_context("ranker", input=body["planted"]) as call:
            call.note("parsed", first=body["planted"][0], labels=set(body["labels"]))
            call.set_output(body["labels"])
        return {"answer": predict(ticket, body["note"])}

    return app


@SLOW
@given(
    st.lists(placed(), min_size=3, max_size=8),
    st.lists(keyed(), min_size=1, max_size=3),
    st.lists(patterned(), min_size=1, max_size=3),
)
def test_secrets_leak_nowhere_the_sdk_sends_or_writes(
    planted: Planted, headers: list[tuple[str, Any]], labelled: list[Any]
) -> None:
    texts = [s for s in labelled if isinstance(s.value, str)]
    planted = [*planted, *((s.value, s.needles) for s in texts)]
    header_values = {key: secret.value for key, secret in headers}
    wanted = needles(planted) + [n for _, secret in headers for n in secret.needles]
    with tempfile.TemporaryDirectory() as tmp, respx.mock(assert_all_called=False) as mock:
        for url in (SENTRY, WEBHOOK, SLACK):
            mock.post(url).mock(return_value=httpx.Response(200, json={}))
        store = Path(tmp) / "events.db"
        app = app_with_secrets()
        with inferwatch_log() as log:
            inferwatch.init(
                app,
                dsn=DSN,
                store=store,
                environ={},
                alert_webhooks=[WEBHOOK],
                slack_webhooks=[SLACK],
            )
            body = {
                "planted": [v for v, _ in planted],
                "labels": [s.value for s in texts],
                "note": prose_of(planted),
            }

            async def post() -> int:
                async with asgi_client(app) as client:
                    response = await client.post(
                        "/chat",
                        json=body,
                        headers={
                            **header_values,
                            "Cookie": "; ".join(
                                f"c{i}={v}" for i, v in enumerate(header_values.values())
                            ),
                        },
                        params=header_values,
                    )
                    return response.status_code

            assert asyncio.run(post()) == 500
            assert inferwatch.flush(10)
            inferwatch.shutdown()
        sent = b"".join(decoded(call.request) for call in mock.calls)
        assert mock.calls.call_count >= 3  # Sentry, the webhook and Slack each got the error
        assert found(wanted, sent) == []
        assert found(wanted, log.getvalue().encode()) == []
        assert found(wanted, store_bytes(store.parent)) == []
        with open_readonly(store) as conn:
            assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
            assert conn.execute("SELECT count(*) FROM usage").fetchone()[0] == 1


def foreign_event(planted: Planted, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """What another Sentry SDK sends: headers, cookies, query and env as pair lists."""
    pair_list = [[key, secret.value] for key, secret in pairs]
    return sentry_event(
        f"login failed: {prose_of(planted)}",
        request={
            "url": "https://app.example/login",
            "headers": [*pair_list, ["Accept", "text/html"]],
            "cookies": pair_list,
            "query_string": pair_list,
            "env": dict(pair_list),
            "data": [v for v, _ in planted],
        },
        extra={"planted": [v for v, _ in planted]},
        contexts={"model": {"input": [v for v, _ in planted]}},
        breadcrumbs={"values": [{"message": prose_of(planted), "data": dict(pair_list)}]},
    )


def cli_output(*args: str) -> bytes:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(list(args)) == 0
    return out.getvalue().encode()


@SLOW
@given(
    st.lists(placed(), min_size=3, max_size=8),
    st.lists(keyed(), min_size=1, max_size=3),
    opaque(),
)
def test_secrets_leak_nowhere_the_collector_stores_forwards_shows_or_exports(
    planted: Planted, pairs: list[tuple[str, Any]], session_secret: str
) -> None:
    wanted = needles(planted) + [n for _, secret in pairs for n in secret.needles]
    wanted.append(session_secret)
    query = "&".join(f"{key}={secret.value.replace(' ', '+')}" for key, secret in pairs)
    with tempfile.TemporaryDirectory() as tmp:
        store_path = Path(tmp) / "events.db"
        store = Store(store_path)
        collector = Collector(store, CollectorConfig(key=KEY, tunnel_dsns=(TUNNEL_DSN,)))
        app = create_app(collector)
        app.include_router(dashboard_router(store_path, Access(token=None, loopback=True)))
        event = foreign_event(planted, pairs)
        browser = batch(
            browser_error(
                f"fetch failed: {prose_of(planted)}",
                url=f"http://127.0.0.1:5173/chat?{query}",
                breadcrumbs=[
                    {"type": "console", "ts": 1.0, "level": "error", "message": prose_of(planted)}
                ],
                user={"session_token": session_secret},
            )
        )

        tunnelled = {**event, "event_id": "0" * 31 + "2"}
        tunnel_body = json.dumps({"event_id": tunnelled["event_id"], "dsn": TUNNEL_DSN}).encode()
        tunnel_body += b'\n{"type":"event"}\n' + json.dumps(tunnelled).encode()

        async def run() -> bytes:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1"
            ) as client:
                ingest = await client.post(
                    INGEST_URL, content=browser, headers={"content-type": "text/plain"}
                )
                assert ingest.json()["accepted"] == 1
                assert (
                    await client.post(ENVELOPE_URL, content=envelope(event), headers=AUTH)
                ).status_code == 200
                other = {**event, "event_id": "0" * 31 + "1"}
                assert (
                    await client.post("/api/1/store/", json=other, headers=AUTH)
                ).status_code == 200
                tunnel = await client.post("/iw/tunnel", content=tunnel_body)
                assert tunnel.status_code == 200, tunnel.text
                assert store.flush(10)
                with open_readonly(store_path) as conn:
                    ids = [r[0] for r in conn.execute("SELECT id FROM issues")]
                html = b""
                for url in [
                    "/",
                    "/?status=all",
                    "/generations",
                    "/usage",
                    *(f"/issues/{i}" for i in ids),
                ]:
                    page = await client.get(url, headers={"accept": "text/html"})
                    assert page.status_code == 200, url
                    html += page.content
                return html

        with respx.mock(assert_all_called=False) as sentry:
            upstream = sentry.post(TUNNEL_UPSTREAM).mock(return_value=httpx.Response(200))
            html = asyncio.run(run())
            assert collector.tunnel_forwarder(TUNNEL_DSN).flush(10)
            collector.close()
            forwarded = b"".join(decoded(call.request) for call in upstream.calls)
        assert upstream.called, collector.counts()
        assert found(wanted, forwarded) == []
        store.close()
        shown = [cli_output("issues", "--store", str(store_path), "--json")]
        for issue in json.loads(shown[0]):
            shown.append(cli_output("show", str(issue["id"]), "--store", str(store_path), "--json"))
        shown.append(cli_output("export", "--store", str(store_path), "--format", "jsonl"))
        assert found(wanted, store_bytes(store_path.parent)) == []
        assert found(wanted, html) == []
        assert found(wanted, b"".join(shown)) == []
