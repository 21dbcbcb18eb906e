"""A corpus of real Sentry payloads written by others (see fixtures/corpus/README.md), sent
through the real ingest route: read as Sentry reads them, grouped, shown."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.collector._normalize import Arrival, Normalizer
from inferwatch.dashboard import Access, dashboard_router
from inferwatch.store import Store
from markupsafe import escape

from tests.conftest import rows

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
SENTRY_READING: dict[str, dict[str, Any]] = json.loads(
    (CORPUS / "glitchtip" / "sentry_oss_reading.json").read_text()
)
KEY = "0123456789abcdef0123456789abcdef"
AUTH = {"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client=corpus/1"}


def envelope_of(name: str, **changes: Any) -> bytes:
    """The payload as an envelope: an event as its one item, or (the Android file) the
    envelope's own lines, its items' `length` dropped as the JSON was reformatted."""
    raw = json.loads((CORPUS / name).read_bytes())
    if isinstance(raw, list):
        header, *rest = raw
        lines = [header]
        for item_header, payload in zip(rest[::2], rest[1::2], strict=True):
            item_header = {k: v for k, v in item_header.items() if k != "length"}
            lines += [
                item_header,
                {**payload, **changes} if item_header["type"] == "event" else payload,
            ]
        return b"\n".join(json.dumps(line).encode() for line in lines) + b"\n"
    payload = json.dumps({**raw, **changes}).encode() if changes else (CORPUS / name).read_bytes()
    header = json.dumps({"type": "event", "length": len(payload)}).encode()
    return b"{}\n" + header + b"\n" + payload + b"\n"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    store = Store(store_path)
    yield store
    store.close()


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    collector = Collector(store, CollectorConfig(key=KEY))
    app = create_app(collector)
    app.include_router(dashboard_router(store.path, Access(token=None, loopback=True)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client
    collector.close()


async def send_all(client: httpx.AsyncClient, *, again: bool = False) -> dict[str, str]:
    """Every payload sent (`again`: each with a new id and the time now); the event id each
    was answered with, by name."""
    answered = {}
    for name in EXPECTED:
        changes = {"event_id": uuid.uuid4().hex, "timestamp": time.time()} if again else {}
        response = await client.post(
            "/api/1/envelope/", content=envelope_of(name, **changes), headers=AUTH
        )
        assert response.status_code == 200, (name, response.text)
        answered[name] = response.json()["id"]
    return answered


def stored_by_name(store: Store, answered: dict[str, str]) -> dict[str, dict[str, Any]]:
    assert store.flush(10)
    found = rows(
        store.path,
        "SELECT e.event_id, e.issue_id, e.platform, e.level, e.data, i.title, i.culprit"
        " FROM events e JOIN issues i ON i.id = e.issue_id",
    )
    by_id = {r["event_id"]: r for r in found}
    return {name: by_id[event_id] for name, event_id in answered.items()}


async def test_every_payload_is_accepted_and_read_as_sentry_reads_it(
    client: httpx.AsyncClient, store: Store
) -> None:
    stored = stored_by_name(store, await send_all(client))
    for name, expected in EXPECTED.items():
        row = stored[name]
        got = {k: row[k] for k in ("title", "culprit", "platform", "level")}
        assert got == {k: expected[k] for k in got}, name


async def test_glitchtip_payloads_are_titled_as_sentry_itself_titled_them(
    client: httpx.AsyncClient, store: Store
) -> None:
    stored = stored_by_name(store, await send_all(client))
    for name, sentry in SENTRY_READING.items():
        row = stored[f"glitchtip/{name}"]
        event = json.loads(row["data"])
        assert (row["title"], row["platform"], row["level"], event["type"]) == (
            sentry["title"],
            sentry["platform"],
            sentry["level"],
            sentry["type"],
        ), name
        if sentry["culprit_from_frames"]:
            assert row["culprit"] == sentry["culprit"], name


async def test_the_same_payload_again_with_a_new_id_and_time_joins_its_issue(
    client: httpx.AsyncClient, store: Store
) -> None:
    first = stored_by_name(store, await send_all(client))
    again = stored_by_name(store, await send_all(client, again=True))
    for name in EXPECTED:
        assert again[name]["issue_id"] == first[name]["issue_id"], name
        assert again[name]["event_id"] != first[name]["event_id"], name


async def test_unrelated_payloads_do_not_merge(client: httpx.AsyncClient, store: Store) -> None:
    stored = stored_by_name(store, await send_all(client))
    issue_of_group: dict[str, int] = {}
    for name, expected in EXPECTED.items():
        issue_of_group.setdefault(expected["group"], stored[name]["issue_id"])
        assert stored[name]["issue_id"] == issue_of_group[expected["group"]], name
    assert len(set(issue_of_group.values())) == len(issue_of_group)


async def test_no_stored_event_gains_a_normalizer_error_it_did_not_arrive_with(
    client: httpx.AsyncClient, store: Store
) -> None:
    stored = stored_by_name(store, await send_all(client))
    normalizer = Normalizer(Arrival(received=time.time()))
    for name, row in stored.items():
        event = json.loads(row["data"])
        again = normalizer.event(json.dumps(event).encode())
        kept = {(e.get("type"), e.get("name")) for e in event.get("errors", [])}
        gained = {(e.get("type"), e.get("name")) for e in again.get("errors", [])} - kept
        assert not gained, (name, gained)


async def test_every_issue_page_renders(client: httpx.AsyncClient, store: Store) -> None:
    stored = stored_by_name(store, await send_all(client))
    for name, row in stored.items():
        page = await client.get(f"/issues/{row['issue_id']}", headers={"Accept": "text/html"})
        assert page.status_code == 200, name
        assert str(escape(row["title"])) in page.text, name


def test_the_corpus_covers_what_the_issue_names() -> None:
    """Legacy interfaces, message objects, raven levels, security reports, threads of SDKs in
    many languages: the corpus keeps holding them."""
    raw = {name: (CORPUS / name).read_text() for name in EXPECTED}
    for needle in (
        "sentry.interfaces.Exception",
        "sentry.interfaces.Stacktrace",
        '"level": 40',
        '"params"',
        '"csp"',
        '"hpkp"',
        '"expectct"',
        '"exception": [',
    ):
        assert any(needle in text for text in raw.values()), needle
    platforms = {e["platform"] for e in EXPECTED.values()}
    assert {"python", "javascript", "node", "csharp", "elixir", "go", "php", "java"} <= platforms
