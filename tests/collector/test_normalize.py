"""Every event read by Sentry's own normalizer (Relay) before it is redacted, grouped and stored:
payloads as older SDKs and other languages send them, read as Sentry reads them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.collector._normalize import Arrival, Normalizer
from inferwatch.store import Store

from tests.collector.test_sentry_ingest import AUTH, KEY, URL, envelope, event_item, stored
from tests.conftest import asgi_client, rows


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    store = Store(store_path)
    yield store
    store.close()


@pytest.fixture
def collector(store: Store) -> Iterator[Collector]:
    collector = Collector(store, CollectorConfig(key=KEY))
    yield collector
    collector.close()


@pytest.fixture
async def client(collector: Collector) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(collector)) as client:
        yield client


async def send(client: httpx.AsyncClient, *events: dict[str, Any], **headers: str) -> list[str]:
    ids = []
    for data in events:
        body = envelope(event_item(data))
        response = await client.post(URL, content=body, headers={**AUTH, **headers})
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    return ids


def issues(store_path: Path) -> list[dict[str, Any]]:
    return rows(store_path, "SELECT title, culprit, platform, level, count FROM issues ORDER BY id")


async def test_message_objects_are_titled_by_their_text_and_unrelated_ones_stay_apart(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    texts = ("Payment provider timed out", "Disk is full", "User signed up")
    await send(client, *({"message": {"formatted": t, "message": t, "params": []}} for t in texts))
    assert [i["title"] for i in issues(store_path)] == list(texts)


async def test_legacy_interfaces_are_read_and_titled_and_keep_apart(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    def legacy(kind: str, value: str, function: str) -> dict[str, Any]:
        frames = [{"filename": "app.rb", "function": function, "in_app": True}]
        return {
            "sentry.interfaces.Exception": {"type": kind, "value": value},
            "sentry.interfaces.Stacktrace": {"frames": frames},
        }

    errors = [legacy(f"Error{i}", f"failure {chr(97 + i)}", f"step_{i}") for i in range(4)]
    message = {"sentry.interfaces.Message": {"message": "Queue %s is full", "params": ["mail"]}}
    await send(client, *errors, message)
    found = issues(store_path)
    assert [i["title"] for i in found] == [
        *(f"Error{i}: failure {chr(97 + i)}" for i in range(4)),
        "Queue mail is full",
    ]
    assert [i["culprit"] for i in found[:4]] == [f"app.rb in step_{i}" for i in range(4)]
    assert {i["platform"] for i in found} == {"other"}  # no platform said: Sentry's `other`
    [first, *_] = stored(store_path)
    assert first["exception"]["values"][0]["stacktrace"]["frames"][0]["function"] == "step_0"


async def test_params_are_applied_levels_read_and_empty_values_left_out(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    await send(
        client,
        {
            "logentry": {"message": "This is a warning: %s", "params": ["warning"]},
            "level": "warning",
        },
        {"exception": {"values": [{"type": "ValueError", "value": ""}]}, "level": 40},
    )
    assert [(i["title"], i["level"]) for i in issues(store_path)] == [
        ("This is a warning: warning", "warning"),
        ("ValueError", "error"),
    ]


async def test_stacks_outside_the_exception_are_kept_and_give_the_culprit(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    thread = {
        "id": 7,
        "crashed": True,
        "stacktrace": {"frames": [{"module": "app.jobs", "function": "run", "in_app": True}]},
    }
    await send(
        client,
        {
            "exception": {"values": [{"type": "SIGABRT", "value": "abort"}]},
            "threads": {"values": [thread]},
        },
        {
            "message": "slow query",
            "stacktrace": {"frames": [{"module": "app.db", "function": "query", "in_app": True}]},
        },
    )
    assert [i["culprit"] for i in issues(store_path)] == ["app.jobs in run", "app.db in query"]


async def test_an_event_older_than_the_retention_is_stored_at_its_arrival_with_its_own_time_kept(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    old = time.time() - 40 * 86400
    before = time.time()
    await send(client, {"message": "from the past", "timestamp": old})
    [row] = rows(store_path, "SELECT timestamp, data FROM events")
    assert row["timestamp"] >= before - 1  # where retention sees it: now, not 40 days ago
    [error] = json.loads(row["data"])["errors"]
    assert error["type"] == "past_timestamp" and error["sdk_time"].startswith(
        time.strftime("%Y-%m-%d", time.gmtime(old))
    )


async def test_an_invalid_event_id_is_replaced_and_the_event_kept(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    [answered] = await send(client, {"event_id": "not-a-uuid", "message": "kept anyway"})
    [saved] = stored(store_path)
    assert answered == saved["event_id"] and len(answered) == 32
    assert {"type": "invalid_data", "name": "event_id"}.items() <= saved["errors"][0].items()


async def test_a_transaction_posted_to_store_is_counted_not_made_an_issue(
    client: httpx.AsyncClient, collector: Collector, store: Store, store_path: Path
) -> None:
    transaction = {
        "type": "transaction",
        "transaction": "/checkout",
        "start_timestamp": time.time() - 1,
        "timestamp": time.time(),
        "contexts": {"trace": {"trace_id": uuid.uuid4().hex, "span_id": uuid.uuid4().hex[:16]}},
    }
    response = await client.post("/api/1/store/", content=json.dumps(transaction), headers=AUTH)
    assert response.status_code == 200
    store.flush()
    assert not store_path.exists() or issues(store_path) == []
    assert collector.ingest.totals()[("skipped", "transaction", "not_stored")] == 1


async def test_the_user_agent_of_a_browser_sdk_becomes_browser_and_os_contexts(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    chrome = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36"
        " (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
    )
    page = {"url": "http://app/chat", "headers": {"User-Agent": chrome}}  # as @sentry/browser sends
    await send(client, {"message": "from a page", "platform": "javascript", "request": page})
    [saved] = stored(store_path)
    contexts = saved["contexts"]
    assert contexts["browser"]["name"] == "Chrome" and contexts["os"]["name"] == "Mac OS X"
    assert contexts["device"]["brand"] == "Apple"


async def test_redaction_keeps_the_shape_sentrys_schema_expects(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    secret = "s3cr3t-cookie-value"
    cookies = (
        {},
        f"sessionid={secret}; theme=dark",
        {"sessionid": secret},
        [["csrftoken", secret]],
    )
    await send(
        client,
        *(
            {"message": f"cookies {i}", "request": {"url": "http://h/", "cookies": c}}
            for i, c in enumerate(cookies)
        ),
    )
    normalizer = Normalizer(Arrival(received=time.time()))
    for saved in stored(store_path):
        cookies_kept = saved["request"].get("cookies", [])
        assert isinstance(cookies_kept, list | dict), cookies_kept  # never "[Filtered]" alone
        assert secret not in json.dumps(saved)
        again = normalizer.event(json.dumps(saved).encode())
        assert not again.get("errors"), again.get("errors")


async def test_a_value_nested_deeper_than_relay_reads_is_cut_not_refused(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    nested: Any = "leaf"
    for _ in range(300):
        nested = [nested]
    await send(client, {"message": "deep", "extra": {"nested": nested}})
    [saved] = stored(store_path)
    assert saved["logentry"]["formatted"] == "deep"


def test_importing_inferwatch_does_not_load_sentrys_normalizer() -> None:
    code = (
        "import sys, inferwatch, inferwatch.collector, inferwatch.cli\n"
        "assert 'sentry_relay' not in sys.modules, 'loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_a_secret_deep_in_a_structure_is_filtered_by_its_key_after_normalization(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    deep: Any = {"session_token": "Qz-deep-secret-9", "api_key": ["Qz-list-secret-9"]}
    for name in ("a", "b", "c", "d", "e", "f"):
        deep = {name: deep}
    await send(client, {"message": "deep secret", "extra": {"deep": deep}, "contexts": {"c": deep}})
    [saved] = stored(store_path)
    assert "Qz-" not in json.dumps(saved)
