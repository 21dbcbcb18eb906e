"""The official Sentry SDKs, in processes of their own, against a real `inferwatch serve`: every
item they send lands where it should (stored, shown, or counted by type and reason).

sentry-sdk (Python) sends logging, breadcrumbs, local variables, the user, an attachment, user
feedback, a transaction, a session and a check-in; @sentry/node (from npm, driven by `node`)
an exception, a message, a span, feedback and a check-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import rows
from tests.reliability.conftest import KEY, served_collector

NODE_MODULES = Path(__file__).parents[2] / "js_snippet" / "node_modules"

PYTHON_APP = textwrap.dedent(
    """
    import logging, sys
    import sentry_sdk
    from sentry_sdk.crons import capture_checkin
    from sentry_sdk.envelope import Envelope, Item, PayloadRef

    sentry_sdk.init(
        dsn=sys.argv[1], release="shop@1.4.0", environment="staging", server_name="web-7",
        traces_sample_rate=1.0, include_local_variables=True, auto_session_tracking=False,
    )
    scope = sentry_sdk.get_isolation_scope()
    scope.start_session()
    sentry_sdk.set_user({"id": "u-42", "username": "al"})
    sentry_sdk.set_tag("tier", "gold")
    sentry_sdk.add_breadcrumb(category="cart", message="added item 7")
    logging.getLogger("shop.payments").error("Payment provider %s timed out", "acme")

    def checkout(items):
        card = "4111 1111 1111 1111"
        return sum(items) / len(items)

    with sentry_sdk.start_transaction(name="/checkout", op="http.server"):
        with sentry_sdk.new_scope() as inner:
            inner.add_attachment(bytes=b'{"items": []}', filename="cart.json")
            try:
                checkout([])
            except ZeroDivisionError:
                event_id = sentry_sdk.capture_exception()
    scope.end_session()
    capture_checkin(monitor_slug="nightly-report", status="ok")
    # sentry-sdk 2.x has no feedback call of its own: a user report through its own transport.
    report = Envelope(headers={"event_id": event_id})
    report.add_item(Item(payload=PayloadRef(json={
        "event_id": event_id, "name": "Al", "email": "al@example.com",
        "comments": "Checkout failed with an empty cart",
    }), type="user_report"))
    sentry_sdk.get_client().transport.capture_envelope(report)
    sentry_sdk.flush(10)
    print(event_id)
    """
)

NODE_APP = textwrap.dedent(
    """
    const Sentry = require("@sentry/node");
    Sentry.init({
      dsn: process.argv[2], release: "jobs@2.0.0", tracesSampleRate: 1.0, attachStacktrace: false,
    });
    Sentry.setUser({ id: "n-7" });
    Sentry.addBreadcrumb({ category: "queue", message: "queued job 9" });
    function parseConfig(text) {
      return JSON.parse(text);
    }
    (async () => {
      let eventId;
      try {
        parseConfig("{oops");
      } catch (error) {
        eventId = Sentry.captureException(error);
      }
      Sentry.captureMessage("Worker queue is full", "warning");
      Sentry.startSpan({ name: "nightly-export", op: "task" }, () => {});
      Sentry.captureFeedback({
        message: "The export never finished", email: "nia@example.com", name: "Nia",
        associatedEventId: eventId,
      });
      Sentry.captureCheckIn({ monitorSlug: "nightly-export", status: "ok" });
      await Sentry.flush(10000);
      console.log(eventId);
    })();
    """
)


def run(command: list[str], **env: str) -> str:
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, **env}
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def wait_for(store: Path, sql: str, n: int) -> list[dict[str, Any]]:
    """The rows of `sql` once there are `n` (the serve process commits in the background)."""
    deadline = time.monotonic() + 20
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        if store.exists():
            found = rows(store, sql)
            if len(found) >= n:
                return found
        time.sleep(0.1)
    raise AssertionError(f"{sql}: {found}")


def counted(url: str) -> dict[tuple[str, str, str], float]:
    """`inferwatch_ingest_items_total` from the serve process's /metrics."""
    out = {}
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith("inferwatch_ingest_items_total{"):
            labels, value = line[len("inferwatch_ingest_items_total{") :].split("} ")
            parts = dict(p.split("=", 1) for p in labels.split(","))
            key = (
                parts["outcome"].strip('"'),
                parts["type"].strip('"'),
                parts["reason"].strip('"'),
            )
            out[key] = float(value)
    return out


def test_the_python_sdk_lands_every_item_where_it_belongs(tmp_path: Path) -> None:
    store = tmp_path / "events.db"
    with served_collector(store) as (_, url):
        port = url.rsplit(":", 1)[1]
        event_id = run([sys.executable, "-c", PYTHON_APP, f"http://{KEY}@127.0.0.1:{port}/1"])
        issues = wait_for(
            store, "SELECT id, title, culprit, level, platform FROM issues ORDER BY id", 2
        )
        feedback = wait_for(store, "SELECT event_id, name, message FROM feedback", 1)
        counts = counted(url)
        page = httpx.get(f"{url}/issues/{issues[1]['id']}", headers={"Accept": "text/html"}).text
    by_title = {i["title"]: i for i in issues}
    logged = by_title["Payment provider acme timed out"]  # the logging call, its params applied
    assert (logged["level"], logged["platform"]) == ("error", "python")
    crash = by_title["ZeroDivisionError: division by zero"]
    assert crash["culprit"].endswith("in checkout")
    [event] = [
        json.loads(r["data"])
        for r in rows(store, "SELECT data FROM events WHERE event_id = ?", event_id)
    ]
    assert event["user"]["id"] == "u-42" and event["tags"]["tier"] == "gold"
    # Sentry's normalizer moves `server_name` among the tags, where Sentry shows it
    assert event["tags"]["server_name"] == "web-7" and event["release"] == "shop@1.4.0"
    assert "added item 7" in json.dumps(event["breadcrumbs"])
    frame = event["exception"]["values"][-1]["stacktrace"]["frames"][-1]
    assert frame["function"] == "checkout" and frame["vars"]["card"] == "'[card]'"
    [attachment] = rows(store, "SELECT event_id, name, data FROM attachments")
    assert attachment == {"event_id": event_id, "name": "cart.json", "data": b'{"items": []}'}
    assert feedback == [
        {"event_id": event_id, "name": "Al", "message": "Checkout failed with an empty cart"}
    ]
    for shown in ("u-42", "card", "cart.json", "Checkout failed with an empty cart", "web-7"):
        assert shown in page, shown
    assert counts[("skipped", "transaction", "not_stored")] == 1
    assert counts[("skipped", "check_in", "not_stored")] == 1
    assert (
        sum(n for (o, t, _), n in counts.items() if o == "skipped" and t.startswith("session")) >= 1
    )
    assert counts[("stored", "event", "")] == 2 and counts[("stored", "user_report", "")] == 1
    assert counts[("stored", "attachment", "")] == 1


def test_the_node_sdk_lands_every_item_where_it_belongs(tmp_path: Path) -> None:
    assert (NODE_MODULES / "@sentry" / "node").exists(), (
        "run `npm ci` in js_snippet (make test does)"
    )
    store = tmp_path / "events.db"
    script = tmp_path / "app.cjs"
    script.write_text(NODE_APP)
    with served_collector(store) as (_, url):
        port = url.rsplit(":", 1)[1]
        event_id = run(
            ["node", str(script), f"http://{KEY}@127.0.0.1:{port}/1"], NODE_PATH=str(NODE_MODULES)
        )
        issues = wait_for(
            store, "SELECT title, culprit, level, platform FROM issues ORDER BY id", 2
        )
        feedback = wait_for(store, "SELECT event_id, name, email, message FROM feedback", 1)
        counts = counted(url)
    by_title = {i["title"]: i for i in issues}
    crash = next(i for t, i in by_title.items() if t.startswith("SyntaxError"))
    assert crash["platform"] == "node" and crash["culprit"].startswith("parseConfig(")
    assert by_title["Worker queue is full"]["level"] == "warning"
    [event] = [
        json.loads(r["data"])
        for r in rows(store, "SELECT data FROM events WHERE event_id = ?", event_id)
    ]
    assert event["user"]["id"] == "n-7" and event["release"] == "jobs@2.0.0"
    assert event["contexts"]["runtime"]["name"] == "node"
    assert feedback == [
        {
            "event_id": event_id,
            "name": "Nia",
            "email": "nia@example.com",
            "message": "The export never finished",
        }
    ]
    # @sentry/node 11 sends its spans as `span` items (older ones as a transaction)
    performance = ("span", "transaction")
    assert sum(counts.get(("skipped", t, "not_stored"), 0) for t in performance) >= 1
    assert counts[("skipped", "session", "not_stored")] >= 1
    assert counts[("skipped", "check_in", "not_stored")] == 1
    assert counts[("stored", "feedback", "")] == 1 and counts[("stored", "event", "")] == 2
