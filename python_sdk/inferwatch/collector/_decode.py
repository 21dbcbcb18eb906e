"""`Content-Encoding` decoding with the decompressed size bounded while inflating.

A gzip bomb is a few kilobytes that inflate to gigabytes. Each decoder here asks for at most
`limit + 1` bytes of output in total, so memory stays below the limit whatever the input says,
and the answer (413) comes as soon as the limit is passed.

>>> decode(gzip.compress(b"{}"), "gzip", limit=1024)  # doctest: +SKIP
b'{}'
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import brotli

CHUNK = 64 * 1024
MAX_LAYERS = 2  # "gzip, br" is legal HTTP; deeper stacks are not something an SDK sends


class DecodeError(ValueError):
    """The body is not valid for its `Content-Encoding` (the collector answers 400)."""


class DecodedTooLarge(ValueError):
    """The body inflates past the limit (the collector answers 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The decompressed body is larger than the limit of {limit} bytes.")
        self.limit = limit


def decode(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """`body` decoded as its `Content-Encoding` header says, at most `limit` bytes long."""
    for coding in _codings(content_encoding):
        body = _DECODERS[coding](body, limit)
    if len(body) > limit:
        raise DecodedTooLarge(limit)
    return body


def decode_prefix(head: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The first `limit` bytes (or fewer) of what `head`, the start of a body, decodes to.

    Inflating stops at `limit` bytes of output, and a stream cut short is no error: this reads
    an envelope's header line before the sender is known, at the cost of `limit` bytes, however
    large the body would inflate to.

    >>> decode_prefix(gzip.compress(b"{}\n" + bytes(10**9))[:4096], "gzip", 16)  # doctest: +SKIP
    b'{}\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
    """
    for coding in _codings(content_encoding):
        head = _PREFIX_DECODERS[coding](head, limit)
    return head[:limit]


def _codings(content_encoding: str | None) -> list[str]:
    """The codings to undo, in the order to undo them (the last one listed was applied last)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if len(codings) > MAX_LAYERS:
        raise DecodeError(f"at most {MAX_LAYERS} content encodings are accepted")
    for coding in codings:
        if coding not in _DECODERS:
            raise DecodeError(f"unsupported Content-Encoding {coding!r} (use gzip, deflate or br)")
    return codings[::-1]


def _zlib(body: bytes, limit: int, wbits: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out: list[bytes] = []
    size = 0
    data = body
    while True:
        try:
            chunk = inflater.decompress(data, min(CHUNK, limit + 1 - size))
        except zlib.error as exc:
            raise DecodeError(f"the body is not valid compressed data: {exc}") from exc
        size += len(chunk)
        out.append(chunk)
        if size > limit:
            raise DecodedTooLarge(limit)
        data = inflater.unconsumed_tail
        if not data and (inflater.eof or not chunk):
            break
    if not inflater.eof:
        raise DecodeError("the compressed body is truncated")
    return b"".join(out)


def _gzip(body: bytes, limit: int) -> bytes:
    return _zlib(body, limit, 16 + zlib.MAX_WBITS)


def _deflate(body: bytes, limit: int) -> bytes:
    return _zlib(body, limit, _deflate_wbits(body))


def _deflate_wbits(body: bytes) -> int:
    # HTTP "deflate" means a zlib stream, but some clients send raw deflate: accept both.
    if body[:1] and (body[0] & 0x0F) == 8 and int.from_bytes(body[:2], "big") % 31 == 0:
        return zlib.MAX_WBITS
    return -zlib.MAX_WBITS


def _brotli(body: bytes, limit: int) -> bytes:
    inflater = brotli.Decompressor()
    out: list[bytes] = []
    size = 0
    data = body
    try:
        while True:
            chunk = inflater.process(data, output_buffer_limit=min(CHUNK, limit + 1 - size))
            data = b""  # the rest of the input stays buffered inside the decompressor
            size += len(chunk)
            out.append(chunk)
            if size > limit:
                raise DecodedTooLarge(limit)
            if inflater.is_finished() or (not chunk and inflater.can_accept_more_data()):
                break
    except brotli.error as exc:
        raise DecodeError(f"the body is not valid brotli data: {exc}") from exc
    if not inflater.is_finished():
        raise DecodeError("the compressed body is truncated")
    return b"".join(out)


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _brotli,
}


def _zlib_prefix(head: bytes, limit: int, wbits: int) -> bytes:
    try:
        return zlib.decompressobj(wbits).decompress(head, limit)
    except zlib.error as exc:
        raise DecodeError(f"the body is not valid compressed data: {exc}") from exc


def _brotli_prefix(head: bytes, limit: int) -> bytes:
    try:
        return bytes(brotli.Decompressor().process(head, output_buffer_limit=limit))
    except brotli.error as exc:
        raise DecodeError(f"the body is not valid brotli data: {exc}") from exc


_PREFIX_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": lambda head, limit: _zlib_prefix(head, limit, 16 + zlib.MAX_WBITS),
    "x-gzip": lambda head, limit: _zlib_prefix(head, limit, 16 + zlib.MAX_WBITS),
    "deflate": lambda head, limit: _zlib_prefix(head, limit, _deflate_wbits(head)),
    "br": _brotli_prefix,
}
