"""Envelopes written by `serialize` are read back by `parse`, payloads with newlines included."""

from __future__ import annotations

from inferwatch._envelope import Envelope, Item, parse, serialize


def test_a_serialized_envelope_parses_back_to_the_same_items() -> None:
    envelope = Envelope(
        {"dsn": "https://k@o1.ingest.example.com/1", "note": "café \ud800"},
        [
            Item({"type": "event"}, b'{"message": "two\\nlines"}'),
            Item({"type": "attachment", "length": 999}, b"raw\nbytes\n"),  # length recomputed
        ],
    )
    body = serialize(envelope)
    back = parse(body)
    assert back.headers == {"dsn": "https://k@o1.ingest.example.com/1", "note": "café \ud800"}
    assert [(i.type, i.payload) for i in back.items] == [
        ("event", b'{"message": "two\\nlines"}'),
        ("attachment", b"raw\nbytes\n"),
    ]
    assert back.items[1].headers["length"] == len(b"raw\nbytes\n")
