"""Reading a Sentry ingest request: its key, its body, its envelope, and what it costs.

The key comes from `X-Sentry-Auth` (or `?sentry_key=`) or, when a Sentry SDK puts it only there,
from the envelope header's `dsn`, read from a bounded prefix of the body: nothing more of the
body is read or inflated before the key is checked. The body is bounded before and after its
`Content-Encoding` is undone, and the parsed envelope pays for its events and bytes.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from fastapi import Request
from sentry_sdk.utils import BadDsn, Dsn
from starlette.concurrency import run_in_threadpool

from .. import _json
from .._envelope import Envelope, EnvelopeError, Item, parse
from ._body import HEADER_BYTES, Body
from ._collector import Collector
from ._decode import DecodedTooLarge, DecodeError, decode
from ._flood import UNCOUNTED_ITEMS, Limited, charge, cost
from ._guards import BodyTooLarge
from ._refused import Refused


def request_key(request: Request) -> str | None:
    """The public key from `X-Sentry-Auth` (or `Authorization: Sentry ...`) or `?sentry_key=`."""
    return _auth(request).get("sentry_key") or request.query_params.get("sentry_key") or None


def request_client(request: Request) -> str | None:
    """The SDK named in `X-Sentry-Auth` (`sentry_client=sentry.python/2.0.0`), if any."""
    return _auth(request).get("sentry_client") or request.query_params.get("sentry_client")


def _auth(request: Request) -> dict[str, str]:
    """The fields of `X-Sentry-Auth` and of `Authorization: Sentry ...` (the first wins)."""
    fields: dict[str, str] = {}
    for name in ("authorization", "x-sentry-auth"):
        value = request.headers.get(name, "")
        if value[:7].lower() == "sentry ":
            for part in value[7:].split(","):
                k, _, v = part.strip().partition("=")
                if v:
                    fields[k] = v
    return fields


async def header_key(body: Body, *, legacy: bool) -> str:
    """The key in the envelope header's `dsn`, read from a bounded prefix of the body."""
    missing = "missing key: use a DSN like http://KEY@host/1 (X-Sentry-Auth)"
    if legacy:  # a store request has no header line: its key comes in the request's headers
        raise Refused(401, missing)
    key = _dsn_key((await _envelope_header(body) or {}).get("dsn"))
    if key is None:
        raise Refused(401, f"{missing}, or the dsn in the envelope's first {HEADER_BYTES} bytes")
    return key


async def tunnel_dsn(body: Body, allowed: tuple[str, ...]) -> str:
    """The envelope header's `dsn`, read from a bounded prefix of the body, when it is one of
    `allowed` (403 otherwise, before the rest of the body is read)."""
    header = await _envelope_header(body)
    if header is None:
        raise Refused(
            400, f"not a Sentry envelope: no header line in its first {HEADER_BYTES} bytes"
        )
    dsn = header.get("dsn")
    if not isinstance(dsn, str) or dsn not in allowed:
        raise Refused(403, "this envelope's dsn is not on the collector's tunnel list")
    return dsn


async def _envelope_header(body: Body) -> dict[str, Any] | None:
    """The envelope's header line from the body's prefix; None when there is none to read there."""
    try:
        return await body.envelope_header()
    except BodyTooLarge as exc:
        raise Refused(413, str(exc.detail)) from exc
    except DecodeError as exc:
        raise Refused(400, str(exc)) from exc


def _dsn_key(dsn: object) -> str | None:
    if not isinstance(dsn, str):
        return None
    try:
        return Dsn(dsn).public_key or None
    except BadDsn:
        return None


def check_key(collector: Collector, key: str) -> None:
    """403 unless `key` is the collector's."""
    if not secrets.compare_digest(key.encode(), collector.config.key.encode()):
        raise Refused(403, "wrong key for this collector (the DSN's key must be the --key)")


async def read_decoded(body: Body) -> bytes:
    """The body, bounded before and after `Content-Encoding` is undone (413 past its limit)."""
    try:
        data = await body.read()
        encoding = body.request.headers.get("content-encoding")
        if not encoding:
            return data
        # Inflating up to 20 MiB takes tens of milliseconds: off the event loop.
        return await run_in_threadpool(decode, data, encoding, body.limit)
    except (BodyTooLarge, DecodedTooLarge) as exc:
        raise Refused(413, str(getattr(exc, "detail", exc))) from exc
    except DecodeError as exc:
        raise Refused(400, str(exc)) from exc


def parsed(collector: Collector, client: str, data: bytes, *, legacy: bool) -> Envelope:
    """The envelope in `data`, its cost in events and bytes taken from `client`'s bucket (an
    unparseable body pays for its bytes)."""
    try:
        if legacy:
            envelope = legacy_envelope(data, collector.config.max_event_bytes)
        else:
            envelope = parse_envelope(data)
    except Refused:
        refuse_if(charge(collector.limiter, client, cost(0, len(data)), ()))
        raise
    refuse_if(
        charge(collector.limiter, client, envelope_cost(envelope, len(data)), envelope.categories)
    )
    return envelope


def envelope_cost(envelope: Envelope, size: int) -> int:
    """The tokens an envelope of `size` bytes costs: one an item (but client reports), and one
    per 64 KiB."""
    return cost(sum(item.type not in UNCOUNTED_ITEMS for item in envelope.items), size)


def refuse_if(limited: Limited | None) -> None:
    """Raise the refusal of a rate limit, if there is one."""
    if limited is not None:
        raise Refused(limited.status, limited.message, limited.headers)


def parse_envelope(data: bytes) -> Envelope:
    """The envelope in `data` (400 when it is not one)."""
    try:
        return parse(data)
    except EnvelopeError as exc:
        raise Refused(400, f"not a Sentry envelope: {exc}") from exc


def legacy_envelope(data: bytes, limit: int) -> Envelope:
    """The store endpoint's body (JSON, or base64 of zlib of JSON from old SDKs) as an envelope."""
    if not data.lstrip().startswith(b"{"):
        try:
            data = decode(base64.b64decode(data, validate=True), "deflate", limit)
        except (binascii.Error, DecodeError) as exc:
            raise Refused(400, "the body is not a JSON event") from exc
        except DecodedTooLarge as exc:
            raise Refused(413, str(exc)) from exc
    try:
        event = _json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise Refused(400, "the body is not a JSON event") from exc
    if not isinstance(event, dict):
        raise Refused(400, "the body must be a JSON object")
    return Envelope({}, [Item({"type": "event"}, data)])
