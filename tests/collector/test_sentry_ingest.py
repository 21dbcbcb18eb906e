"""Sentry-compatible ingest: raw envelopes against `POST /api/{project_id}/envelope/` and `/store/`."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import brotli
import httpx
import inferwatch
import pytest
from fastapi import FastAPI, Response
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.collector._guards import INLINE_BYTES
from inferwatch.store import Store

from tests.conftest import Events, asgi_client, rows

KEY = "0123456789abcdef0123456789abcdef"
URL = "/api/1/envelope/"
AUTH = {"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=7, sentry_client=test/1"}


def event(message: str = "boom", **extra: Any) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": "2026-11-27T10:00:00Z",
        "platform": "python",
        "level": "error",
        "exception": {"values": [{"type": "ValueError", "value": message}]},
        **extra,
    }


def envelope(
    *items: tuple[dict[str, Any], bytes], headers: dict[str, Any] | None = None, length: bool = True
) -> bytes:
    out = [json.dumps(headers or {}).encode()]
    for item_headers, payload in items:
        hdr = {**item_headers, "length": len(payload)} if length else item_headers
        out += [json.dumps(hdr).encode(), payload]
    return b"\n".join(out) + b"\n"


def event_item(data: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    return {"type": "event"}, json.dumps(data).encode()


def stored(store_path: Path) -> list[dict[str, Any]]:
    return [json.loads(r["data"]) for r in rows(store_path, "SELECT data FROM events ORDER BY id")]


def make_collector(store: Store, **config: Any) -> Collector:
    return Collector(store, CollectorConfig(key=KEY, **config))


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    store = Store(store_path)
    yield store
    store.close()


@pytest.fixture
def collector(store: Store) -> Iterator[Collector]:
    collector = make_collector(store)
    yield collector
    collector.close()


@pytest.fixture
async def client(collector: Collector) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app(collector)) as client:
        yield client


async def test_an_event_envelope_is_stored_grouped_and_answered_with_its_id(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    data = event("user 42 not found", tags={"region": "eu"})
    response = await client.post(URL, content=envelope(event_item(data)), headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"id": data["event_id"]}
    [saved] = stored(store_path)
    assert saved["tags"] == {"region": "eu"} and saved["event_id"] == data["event_id"]
    [issue] = rows(store_path, "SELECT title, count FROM issues")
    assert issue == {"title": "ValueError: user 42 not found", "count": 1}


async def test_stored_events_are_redacted(client: httpx.AsyncClient, store_path: Path) -> None:
    data = event("mail bob@example.com failed", extra={"api_key": "sk-abcdefghijklmnopqrstuv"})
    await client.post(URL, content=envelope(event_item(data)), headers=AUTH)
    [saved] = stored(store_path)
    assert saved["exception"]["values"][0]["value"] == "mail [email] failed"
    assert saved["extra"]["api_key"] == "[Filtered]"


@pytest.mark.parametrize("padding", [0, INLINE_BYTES])
async def test_small_envelopes_on_the_event_loop_and_large_ones_on_a_worker_thread_alike(
    client: httpx.AsyncClient, store_path: Path, padding: int
) -> None:
    data = event("mail bob@example.com failed", extra={"notes": "x" * padding})
    response = await client.post(URL, content=envelope(event_item(data)), headers=AUTH)
    assert response.status_code == 200 and response.json() == {"id": data["event_id"]}
    [saved] = stored(store_path)  # committed before the answer, either way
    assert saved["exception"]["values"][0]["value"] == "mail [email] failed"
    assert len(saved["extra"]["notes"]) == padding


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some clients send
        ("br", brotli.compress),
    ],
    ids=["gzip", "deflate-zlib", "deflate-raw", "br"],
)
async def test_compressed_bodies_are_decoded(
    client: httpx.AsyncClient, store_path: Path, encoding: str, compress: Any
) -> None:
    data = event(f"compressed with {encoding}")
    body = compress(envelope(event_item(data)))
    response = await client.post(URL, content=body, headers={**AUTH, "Content-Encoding": encoding})
    assert response.status_code == 200, response.text
    assert [e["event_id"] for e in stored(store_path)] == [data["event_id"]]


@pytest.mark.parametrize("length", [True, False], ids=["with-length", "without-length"])
async def test_items_with_and_without_length_and_every_other_type_skipped_and_counted(
    client: httpx.AsyncClient, collector: Collector, store_path: Path, length: bool
) -> None:
    data = event("in a crowd")
    items = [
        ({"type": "transaction"}, json.dumps({"type": "transaction", "spans": []}).encode()),
        event_item(data),
        ({"type": "session"}, json.dumps({"sid": uuid.uuid4().hex, "status": "ok"}).encode()),
        ({"type": "client_report"}, b'{"discarded_events":[]}'),
        ({"type": "some_future_type"}, b'{"x": 1}'),
    ]
    if length:  # binary with newlines inside only works when the length says where it ends
        items.append(({"type": "attachment", "filename": "a.bin"}, b"\x00\n\xff\nbinary"))
    body = envelope(*items, headers={"event_id": data["event_id"]}, length=length)
    response = await client.post(URL, content=body, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"id": data["event_id"]}
    assert [e["event_id"] for e in stored(store_path)] == [data["event_id"]]
    counts = collector.counts()
    assert counts["sentry_accepted"] == 1
    for skipped in ("transaction", "session", "client_report", "unknown"):
        assert counts[f"sentry_skipped_{skipped}"] == 1
    attachments = rows(store_path, "SELECT name, size FROM attachments")
    assert attachments == ([{"name": "a.bin", "size": 10}] if length else [])


async def test_an_envelope_without_events_is_answered_with_its_header_id(
    client: httpx.AsyncClient, store: Store, store_path: Path
) -> None:
    header_id = uuid.uuid4().hex
    body = envelope(({"type": "transaction"}, b"{}"), headers={"event_id": header_id})
    response = await client.post(URL, content=body, headers=AUTH)
    assert response.json() == {"id": header_id}
    store.flush()
    assert not store_path.exists() or stored(store_path) == []


async def test_an_event_without_an_id_takes_the_envelope_header_id(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    header_id = str(uuid.uuid4())
    data = event()
    del data["event_id"]
    response = await client.post(
        URL, content=envelope(event_item(data), headers={"event_id": header_id}), headers=AUTH
    )
    assert response.json() == {"id": uuid.UUID(header_id).hex}
    assert stored(store_path)[0]["event_id"] == uuid.UUID(header_id).hex


async def test_an_invalid_event_is_counted_and_its_neighbours_are_kept(
    client: httpx.AsyncClient, collector: Collector, store_path: Path
) -> None:
    good = event("good")
    body = envelope(({"type": "event"}, b"[1, 2]"), event_item(good))
    response = await client.post(URL, content=body, headers=AUTH)
    assert response.status_code == 200
    assert [e["event_id"] for e in stored(store_path)] == [good["event_id"]]
    assert collector.counts()["sentry_invalid"] == 1


async def test_a_missing_key_is_401_and_a_wrong_key_is_403_and_nothing_is_stored(
    client: httpx.AsyncClient, store: Store, store_path: Path
) -> None:
    body = envelope(event_item(event()))
    missing = await client.post(URL, content=body)
    wrong = await client.post(
        URL, content=body, headers={"X-Sentry-Auth": "Sentry sentry_key=ffff, sentry_version=7"}
    )
    wrong_dsn = await client.post(
        URL,
        content=envelope(event_item(event()), headers={"dsn": "http://ffff@127.0.0.1:8765/1"}),
    )
    assert missing.status_code == 401 and "missing key" in missing.json()["detail"]
    assert wrong.status_code == 403 and "wrong key" in wrong.json()["detail"]
    assert wrong_dsn.status_code == 403
    store.flush()
    assert not store_path.exists() or stored(store_path) == []


@pytest.mark.parametrize("where", ["query", "dsn", "authorization"])
async def test_the_key_may_come_from_the_query_string_the_envelope_dsn_or_authorization(
    client: httpx.AsyncClient, store_path: Path, where: str
) -> None:
    data = event()
    headers: dict[str, str] = {}
    url, env_headers = URL, {}
    if where == "query":
        url += f"?sentry_key={KEY}&sentry_version=7"
    elif where == "dsn":
        env_headers = {"dsn": f"http://{KEY}@127.0.0.1:8765/1"}
    else:
        headers = {"Authorization": f"Sentry sentry_key={KEY}"}
    body = envelope(event_item(data), headers=env_headers)
    response = await client.post(url, content=body, headers=headers)
    assert response.status_code == 200
    assert stored(store_path)[0]["event_id"] == data["event_id"]


async def test_a_body_over_the_limit_is_413(store: Store) -> None:
    collector = make_collector(store, max_envelope_bytes=10_000, max_event_bytes=5_000)
    async with asgi_client(create_app(collector)) as client:
        too_long = await client.post(URL, content=b"x" * 10_001, headers=AUTH)
        big_event = envelope(event_item(event("y" * 6_000)))
        too_big_event = await client.post(URL, content=big_event, headers=AUTH)
        inflates_too_far = await client.post(
            URL,
            content=gzip.compress(envelope(event_item(event("z" * 20_000)))),
            headers={**AUTH, "Content-Encoding": "gzip"},
        )
    collector.close()
    assert too_long.status_code == 413
    assert too_big_event.status_code == 413 and "event item" in too_big_event.json()["detail"]
    assert inflates_too_far.status_code == 413
    assert "decompressed" in inflates_too_far.json()["detail"]


def _bomb(encoding: str, size: int) -> bytes:
    """`size` bytes of zeros, compressed in chunks so the test itself stays small."""
    chunk = b"\0" * (1 << 20)
    if encoding == "br":
        compressor = brotli.Compressor(quality=1)
        parts = [compressor.process(chunk) for _ in range(size >> 20)]
        return b"".join([*parts, compressor.finish()])
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join([*(deflater.compress(chunk) for _ in range(size >> 20)), deflater.flush()])


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_a_decompression_bomb_is_refused_with_bounded_memory(
    client: httpx.AsyncClient, store_path: Path, encoding: str
) -> None:
    bomb = _bomb(encoding, 1 << 30)  # 1 GiB of zeros
    assert len(bomb) < 2 << 20
    tracemalloc.start()
    try:
        response = await client.post(
            URL, content=bomb, headers={**AUTH, "Content-Encoding": encoding}
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    # The limit is 20 MiB of output: inflating the whole GiB would need fifty times more.
    assert peak < 64 << 20


@pytest.mark.parametrize(
    ("body", "headers", "needle"),
    [
        (b"not json\n", {}, "envelope header"),
        (b'{}\n{"type":"event","length":500}\n{}', {}, "shorter than its length"),
        (b'{}\n{"type":"event","length":-1}\n{}', {}, "non-negative"),
        (b"[]\n", {}, "JSON object"),
        (b"\x1f\x8b garbage", {"Content-Encoding": "gzip"}, "not valid compressed data"),
        (b"{}\n", {"Content-Encoding": "compress"}, "unsupported Content-Encoding"),
    ],
)
async def test_malformed_bodies_are_400_with_a_reason(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str], needle: str
) -> None:
    response = await client.post(URL, content=body, headers={**AUTH, **headers})
    assert response.status_code == 400
    assert needle in response.json()["detail"]


async def test_the_legacy_store_endpoint_takes_a_json_event_or_base64_zlib(
    client: httpx.AsyncClient, store_path: Path
) -> None:
    import base64

    plain, packed = event("plain json"), event("base64 zlib")
    r1 = await client.post(
        "/api/1/store/", json=plain, headers={**AUTH, "Content-Type": "application/json"}
    )
    r2 = await client.post(
        "/api/1/store/",
        content=base64.b64encode(zlib.compress(json.dumps(packed).encode())),
        headers=AUTH,
    )
    assert (r1.status_code, r2.status_code) == (200, 200)
    assert r1.json() == {"id": plain["event_id"]}
    assert {e["event_id"] for e in stored(store_path)} == {plain["event_id"], packed["event_id"]}


async def test_a_browser_on_an_allowed_origin_gets_cors_answers_and_others_are_refused(
    store: Store, store_path: Path
) -> None:
    collector = make_collector(store, allow_origins=("https://app.example",))
    body = envelope(event_item(event()))
    async with asgi_client(create_app(collector)) as client:
        preflight = await client.options(URL, headers={"Origin": "https://app.example"})
        allowed = await client.post(
            f"{URL}?sentry_key={KEY}",
            content=body,
            headers={"Origin": "https://app.example", "Content-Type": "text/plain;charset=UTF-8"},
        )
        refused = await client.post(
            f"{URL}?sentry_key={KEY}", content=body, headers={"Origin": "https://evil.example"}
        )
    collector.close()
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "X-Sentry-Auth" in preflight.headers["access-control-allow-headers"]
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


async def test_past_the_per_key_quota_the_answer_is_429_with_retry_after(store: Store) -> None:
    collector = make_collector(store, rate_per_second=0.01, rate_burst=2)
    async with asgi_client(create_app(collector)) as client:
        answers = [
            await client.post(URL, content=envelope(event_item(event())), headers=AUTH)
            for _ in range(3)
        ]
    collector.close()
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) >= 1


async def test_a_non_numeric_project_id_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/abc/envelope/", content=b"{}\n", headers=AUTH)
    assert response.status_code == 400


async def test_the_ingest_routes_are_documented_with_their_path_parameter(
    client: httpx.AsyncClient,
) -> None:
    # FastAPI documents them from their signatures but does not solve their parameters.
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/api/{project_id}/envelope/", "/api/{project_id}/store/"):
        parameters = paths[path]["post"]["parameters"]
        assert [(p["name"], p["in"]) for p in parameters] == [("project_id", "path")]
    assert "post" in paths["/iw/ingest"]


class RefusingStore(Store):
    def write(self, rows: Any, timeout: float = 10.0) -> bool:
        return False

    async def write_async(self, rows: Any, timeout: float = 10.0) -> bool:
        return False


class BrokenStore(Store):
    def write(self, rows: Any, timeout: float = 10.0) -> bool:
        raise RuntimeError("the disk caught fire")

    async def write_async(self, rows: Any, timeout: float = 10.0) -> bool:
        raise RuntimeError("the disk caught fire")


@pytest.mark.parametrize("store_class", [RefusingStore, BrokenStore])
async def test_the_collector_never_reports_its_own_ingest_failures(
    tmp_path: Path, store_path: Path, stored_events: Events, store_class: type[Store]
) -> None:
    collector_store = store_class(tmp_path / "collector" / "events.db")
    collector = make_collector(collector_store)
    app: FastAPI = create_app(collector)

    @app.get("/control")
    async def control() -> Response:
        return Response(status_code=503)

    inferwatch.init(app, store=store_path, environ={})
    async with asgi_client(app) as client:
        ingest = await client.post(URL, content=envelope(event_item(event())), headers=AUTH)
        await client.get("/control")
    titles = [e.get("message") or e.get("logentry", {}).get("message") for e in stored_events()]
    assert ingest.status_code in (500, 503)
    assert titles == ["GET /control returned 503"]  # the control is reported, the ingest is not
    collector.close()
    collector_store.close()


REPAIRED_EVENT = (
    '{"event_id": "%s", "timestamp": 1795000000, "platform": "python",'
    ' "message": "lone \\ud800 surrogate",'
    ' "exception": {"values": [{"type": "Value\\udfffError", "value": "bad \\ud83d"}]},'
    ' "extra": {"tokens": 1000000000000000000000000000000, "ratio": NaN, "k\\udc00": 1},'
    ' "contexts": {"model": {"output_tokens": -99999999999999999999}}}'
)


@pytest.mark.parametrize("route", ["envelope", "store"])
async def test_lone_surrogates_and_huge_integers_are_repaired_before_the_200_and_stored(
    client: httpx.AsyncClient, store: Store, store_path: Path, route: str
) -> None:
    event_id = uuid.uuid4().hex
    payload = (REPAIRED_EVENT % event_id).encode()
    if route == "envelope":
        response = await client.post(
            URL, content=envelope(({"type": "event"}, payload)), headers=AUTH
        )
    else:
        response = await client.post("/api/1/store/", content=payload, headers=AUTH)
    assert response.status_code == 200 and response.json() == {"id": event_id}
    assert store.flush(5)
    assert store.stats()["dropped"] == {}  # before: answered 200, then dropped by the writer
    [saved] = stored(store_path)
    assert saved["logentry"] == {"formatted": "lone \ufffd surrogate"}  # Relay's place for it
    assert saved["exception"]["values"][0] == {"type": "Value\ufffdError", "value": "bad \ufffd"}
    assert saved["extra"] == {"tokens": 2**63 - 1, "ratio": None, "k\ufffd": 1}
    assert saved["contexts"]["model"]["output_tokens"] == -(2**63)
    meta = saved["_meta"]
    assert meta["logentry"]["formatted"] == {"": {"rem": [["!surrogate", "s"]]}}
    assert meta["extra"]["tokens"] == {"": {"rem": [["!int64", "s"]], "val": "1" + "0" * 30}}
    assert meta["extra"]["ratio"] == {"": {"rem": [["!nonfinite", "s"]], "val": "NaN"}}
    assert meta["contexts"]["model"]["output_tokens"][""]["val"] == "-99999999999999999999"
    [issue] = rows(store_path, "SELECT title FROM issues")
    assert issue["title"] == "Value\ufffdError: bad \ufffd"


async def test_a_surrogate_sent_as_utf8_bytes_is_repaired_too(
    client: httpx.AsyncClient, store: Store, store_path: Path
) -> None:
    data = event("half a pair: \ud800 here", environment="prod\udfff")
    payload = json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
    response = await client.post(URL, content=envelope(({"type": "event"}, payload)), headers=AUTH)
    assert response.status_code == 200
    assert store.flush(5) and store.stats()["dropped"] == {}
    [saved] = stored(store_path)
    assert saved["environment"] == "prod\ufffd"
    assert saved["exception"]["values"][0]["value"] == "half a pair: \ufffd here"


async def test_an_envelope_whose_only_event_cannot_be_stored_is_a_400(
    client: httpx.AsyncClient, store: Store, store_path: Path
) -> None:
    for payload in (b"[1, 2]", b'"an event"'):
        response = await client.post(
            URL, content=envelope(({"type": "event"}, payload)), headers=AUTH
        )
        assert response.status_code == 400 and "cannot be stored" in response.json()["detail"]
    legacy = await client.post("/api/1/store/", content=b"[]", headers=AUTH)
    assert legacy.status_code == 400
    store.flush()
    assert not store_path.exists() or stored(store_path) == []
