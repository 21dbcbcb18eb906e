"""Alerts: webhooks on new issues, regressions and spikes, with respx as the webhook."""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import pytest
import respx
from inferwatch import ConfigError
from inferwatch.alerts import (
    AlertConfig,
    Alerter,
    add_arguments,
    config_from_args,
    from_args,
)
from inferwatch.store import Store

from tests.conftest import asgi_client

HOOK = "https://hooks.example.test/inferwatch/T000/secret-token"
SLACK = "https://slack.example.test/services/T000/B000/XXXX"


class Clock:
    """A clock the test moves by hand: no real waiting."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def event(message: str = "bad input", kind: str = "ValueError") -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "level": "error",
        "platform": "python",
        "exception": {"values": [{"type": kind, "value": message}]},
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "events.db")
    yield store
    store.close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_alerter(store: Store, clock: Clock, sleeps: list[float]) -> Iterator[Any]:
    made: list[Alerter] = []

    def make(**config: Any) -> Alerter:
        config.setdefault("webhooks", (HOOK,))
        alerter = Alerter(AlertConfig(**config), clock=clock, sleep=sleeps.append)
        alerter.attach(store)
        made.append(alerter)
        return alerter

    yield make
    for alerter in made:
        alerter.close()


def write(store: Store, *events: dict[str, Any]) -> None:
    assert store.write([("event", e) for e in events])


def bodies(route: respx.Route) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in route.calls]


@respx.mock
def test_a_new_issue_alerts_once(store: Store, make_alerter: Any) -> None:
    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    alerter = make_alerter()
    write(store, event("model weights missing"))
    assert alerter.flush()
    [body] = bodies(hook)
    assert body["kind"] == "new_issue"
    assert body["issue"]["title"].startswith("ValueError")
    assert "model weights missing" in body["text"]
    assert body["source"] == "inferwatch"


@respx.mock
def test_a_hundred_events_of_one_issue_alert_once(store: Store, make_alerter: Any) -> None:
    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    alerter = make_alerter(spike_factor=0)
    # Messages that differ only by numbers or ids are one issue already.
    write(store, *(event(f"request {uuid.uuid4()} failed after {i} ms") for i in range(100)))
    assert alerter.flush()
    assert [b["kind"] for b in bodies(hook)] == ["new_issue"]


@respx.mock
def test_the_same_issue_alerts_again_only_after_the_quiet_period(
    store: Store, make_alerter: Any, clock: Clock
) -> None:
    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    alerter = make_alerter(quiet_minutes=30, spike_factor=0)
    write(store, event())
    _resolve_all(store)
    clock.advance(10 * 60)
    write(store, event())  # a regression inside the quiet period: quiet
    _resolve_all(store)
    clock.advance(25 * 60)
    write(store, event())  # 35 minutes after the first alert: heard
    assert alerter.flush()
    assert [b["kind"] for b in bodies(hook)] == ["new_issue", "regression"]


def _resolve_all(store: Store) -> None:
    with closing(sqlite3.connect(store.path)) as conn, conn:  # closed, and committed first
        conn.execute("UPDATE issues SET status = 'resolved'")


@respx.mock
def test_a_regression_alerts(store: Store, make_alerter: Any, clock: Clock) -> None:
    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    alerter = make_alerter(spike_factor=0)
    write(store, event("index out of range"))
    clock.advance(2 * 3600)
    write(store, event("index out of range"))  # a recurrence: no alert
    _resolve_all(store)
    clock.advance(2 * 3600)
    write(store, event("index out of range"))
    assert alerter.flush()
    kinds = [b["kind"] for b in bodies(hook)]
    assert kinds == ["new_issue", "regression"]
    assert "came back after it was resolved" in bodies(hook)[1]["text"]


@respx.mock
def test_an_error_rate_spike_alerts(store: Store, make_alerter: Any, clock: Clock) -> None:
    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    alerter = make_alerter(spike_factor=3, spike_window_minutes=5, spike_min_errors=10)
    for _ in range(12):  # a baseline of one error every five minutes for an hour
        write(store, event("timeout"))
        clock.advance(5 * 60)
    assert alerter.flush()
    assert [b["kind"] for b in bodies(hook)] == ["new_issue"]
    for _ in range(30):  # then thirty in one minute
        write(store, event("timeout"))
    assert alerter.flush()
    kinds = [b["kind"] for b in bodies(hook)]
    assert kinds == ["new_issue", "spike"]  # once, not once an event
    spike = bodies(hook)[1]
    assert spike["details"]["errors"] >= 10
    assert spike["details"]["baseline"] == pytest.approx(1.0)


@respx.mock
def test_a_steady_error_rate_does_not_alert_as_a_spike(
    store: Store, make_alerter: Any, clock: Clock
) -> None:
    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    alerter = make_alerter(spike_factor=3, spike_min_errors=10)
    for _ in range(24):  # twelve errors every five minutes, for two hours
        write(store, *(event("timeout") for _ in range(12)))
        clock.advance(5 * 60)
    assert alerter.flush()
    assert [b["kind"] for b in bodies(hook)] == ["new_issue", "spike"]  # only the first burst


@respx.mock
def test_the_hourly_cap_holds_and_a_summary_follows(
    store: Store, make_alerter: Any, clock: Clock
) -> None:
    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    alerter = make_alerter(max_per_hour=3, spike_factor=0)
    for name in ("KeyError", "TypeError", "OSError", "ZeroDivisionError", "AttributeError"):
        write(store, event("boom", kind=name))
        clock.advance(60)
    assert alerter.flush()
    assert [b["kind"] for b in bodies(hook)] == ["new_issue"] * 3
    clock.advance(3600)
    alerter.tick()
    assert alerter.flush()
    summary = bodies(hook)[-1]
    assert summary["kind"] == "summary"
    assert summary["details"]["held"] == {"new_issue": 2}
    assert "2 alerts held back" in summary["text"]
    assert "ZeroDivisionError" in summary["text"] and "AttributeError" in summary["text"]
    write(store, event("boom", kind="LookupError"))  # a new hour: heard again
    assert alerter.flush()
    assert bodies(hook)[-1]["kind"] == "new_issue"
    assert len(bodies(hook)) == 5


@respx.mock
def test_a_failing_webhook_is_retried_with_back_off(
    store: Store, make_alerter: Any, sleeps: list[float]
) -> None:
    hook = respx.post(HOOK).mock(
        side_effect=[
            httpx.Response(503),
            httpx.ConnectError("refused"),
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(200),
        ]
    )
    alerter = make_alerter()
    write(store, event())
    assert alerter.flush()
    assert hook.call_count == 4
    assert sleeps == [1.0, 2.0, 7.0]
    assert alerter.counts["sent"] == 1 and alerter.counts["failed"] == 0


@respx.mock
def test_a_webhook_that_refuses_the_body_is_not_retried(store: Store, make_alerter: Any) -> None:
    hook = respx.post(HOOK).mock(return_value=httpx.Response(400))
    alerter = make_alerter()
    write(store, event())
    assert alerter.flush()
    assert hook.call_count == 1
    assert alerter.counts["failed"] == 1


@respx.mock
def test_a_hanging_webhook_never_blocks_ingest(store: Store, make_alerter: Any) -> None:
    entered, release = threading.Event(), threading.Event()

    def hang(request: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(30)
        return httpx.Response(200)

    hook = respx.post(HOOK).mock(side_effect=hang)
    alerter = make_alerter(spike_factor=0)
    write(store, event("first"))
    assert entered.wait(10)  # the worker is now stuck in the webhook
    for i in range(50):
        write(store, event(f"distinct failure {i}", kind=f"Error{chr(65 + i % 26)}{i // 26}"))
    assert store.stats()["stored"] == 51
    assert not release.is_set()  # ... all stored while the webhook still hangs
    release.set()
    assert alerter.flush(10)
    assert hook.call_count == 20  # the hour's cap; the other 31 wait for the summary
    assert alerter.counts["sent"] == 20


@respx.mock
def test_slack_alerts_carry_escaped_text(store: Store, make_alerter: Any) -> None:
    slack = respx.post(SLACK).mock(return_value=httpx.Response(200))
    alerter = make_alerter(
        webhooks=(), slack_webhooks=(SLACK,), dashboard_url="http://127.0.0.1:8765"
    )
    write(store, event("<!channel> see <https://evil.example|here> & more"))
    assert alerter.flush()
    [body] = bodies(slack)
    assert set(body) == {"text"}
    assert "<!channel>" not in body["text"]
    assert "&lt;!channel&gt;" in body["text"] and "&amp; more" in body["text"]
    assert body["text"].endswith("|open>")
    assert "<http://127.0.0.1:8765/issues/1|open>" in body["text"]


def test_webhook_options_are_checked_and_name_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'alert_webhooks'"):
        inferwatch.init(store=tmp_path / "e.db", environ={}, alert_webhooks=["ftp://x.example"])
    with pytest.raises(ConfigError, match="'alert_max_per_hour'"):
        inferwatch.init(store=tmp_path / "e.db", environ={}, alert_max_per_hour=0)
    with pytest.raises(ConfigError, match="'spike_factor'"):
        AlertConfig(webhooks=(HOOK,), spike_factor=-1)


def test_the_config_repr_keeps_webhook_secrets_out() -> None:
    text = repr(AlertConfig(webhooks=(HOOK,), slack_webhooks=(SLACK,)))
    assert "secret-token" not in text and "XXXX" not in text
    assert "hooks.example.test" in text


@respx.mock
def test_init_with_alert_webhooks_alerts_on_a_captured_exception(tmp_path: Path) -> None:
    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    inferwatch.init(store=tmp_path / "events.db", environ={}, alert_webhooks=[HOOK])
    try:
        raise RuntimeError("the GPU fell over")
    except RuntimeError as exc:
        inferwatch.capture_exception(exc)
    assert inferwatch.flush(5)
    inferwatch.shutdown()  # drains the alerter
    [body] = bodies(hook)
    assert body["kind"] == "new_issue" and "the GPU fell over" in body["text"]


def test_serve_flags_build_an_alerter(store: Store) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    flags = ["--alert-quiet-minutes", "5", "--alert-max-per-hour", "7", "--spike-factor", "0"]
    args = parser.parse_args(["--webhook", HOOK, "--slack-webhook", SLACK, *flags])
    config = config_from_args(args)
    assert config.webhooks == (HOOK,) and config.slack_webhooks == (SLACK,)
    assert (config.quiet_minutes, config.max_per_hour, config.spike_factor) == (5, 7, 0)
    assert from_args(parser.parse_args([]), store) is None
    alerter = from_args(args, store)
    assert alerter is not None and alerter.listen in store.listeners
    alerter.close()
    assert alerter.listen not in store.listeners


@respx.mock
async def test_inferwatch_serve_alerts_on_a_browser_error_with_its_flags(tmp_path: Path) -> None:
    from inferwatch import serve

    hook = respx.post(HOOK).mock(return_value=httpx.Response(200))
    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    parser.add_argument("--store")
    args = parser.parse_args(["--store", str(tmp_path / "events.db"), "--webhook", HOOK])
    served = serve.build(serve.config_from_args(args, {}))
    try:
        batch = {"events": [{"type": "error", "ts": 1.8e12, "name": "TypeError", "message": "x"}]}
        async with asgi_client(served.app) as client:
            response = await client.post(
                f"/iw/ingest?key={served.key}",
                content=json.dumps(batch),
                headers={"content-type": "text/plain"},
            )
        assert response.json()["accepted"] == 1
        assert served.alerter is not None and served.alerter.flush()
    finally:
        served.close()
    [body] = bodies(hook)
    assert body["kind"] == "new_issue" and body["issue"]["platform"] == "javascript"
    assert body["issue"]["url"] == f"http://127.0.0.1:8765/issues/{body['issue']['id']}"


def test_webhooks_without_a_local_store_say_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="inferwatch"):
        inferwatch.init(store=None, environ={}, alert_webhooks=[HOOK])
    assert "alert webhooks need the local store" in caplog.text
