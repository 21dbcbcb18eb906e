"""The model context's card on the issue page: records made by real `model_context` calls (nested
ones as cards of their own), what a record implies said in words, and every string of it shown
as text on the page that `inferwatch serve` renders."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import inferwatch
import pytest
from inferwatch._record import model_record_of
from inferwatch.dashboard._model_view import ModelCard, model_card

from tests.conftest import rows
from tests.dashboard._seed import KEY, XSS
from tests.dashboard.conftest import Running


def failed_record(run: Any) -> dict[str, Any]:
    """The record a failing model call attaches to its exception."""
    with pytest.raises(RuntimeError) as caught:
        run()
    record = model_record_of(caught.value)
    assert record is not None
    return record


def card_of(record: dict[str, Any]) -> ModelCard:
    card = model_card(record)
    assert card is not None
    return card


def test_calls_made_inside_a_call_are_cards_of_their_own() -> None:
    def run() -> None:
        with inferwatch.model_context("pipeline", input="a photo of a cat") as outer:
            with inferwatch.model_context("embedder", version="3", input=b"\x89PNG\r\n\x1a\n"):
                pass
            outer.note("rank", candidates=12)
            raise RuntimeError("ranking failed")

    card = card_of(failed_record(run))
    assert card.name == "pipeline" and card.status == "error"
    assert card.error is not None and card.error["message"] == "ranking failed"
    [inner] = card.calls
    assert (inner.name, inner.version, inner.status) == ("embedder", "3", "ok")
    assert inner.input is not None and inner.input.kind == "image"
    assert [(n.stage, [k for k, _ in n.fields]) for n in card.notes] == [("rank", ["candidates"])]


def test_absent_timings_and_tokens_stay_absent() -> None:
    card = card_of({"name": "m", "status": "ok", "duration_ms": 0.017})
    assert card.duration_ms == 0.017
    assert card.first_chunk_ms is None and card.input_tokens is None and card.output_tokens is None


def test_an_answer_cut_at_the_token_limit_is_said_in_words() -> None:
    record = {
        "name": "review-assistant",
        "provider": "openai",
        "status": "ok",
        "parameters": {"operation": "chat", "max_tokens": 40, "tools": ["search", "fetch"]},
        "output": {
            "type": "mapping",
            "keys": ["text", "finish_reason"],
            "count": 2,
            "preview": {"text": '{"label": "posi', "finish_reason": "length"},
        },
    }
    card = card_of(record)
    assert dict(card.parameters) == {
        "operation": "chat",
        "max_tokens": "40",
        "tools": "search, fetch",
    }
    assert [w.text for w in card.warnings] == [
        "the answer stopped at the token limit (max_tokens 40): finish_reason: length"
    ]


@pytest.mark.parametrize(
    ("status", "remark"),
    [
        ("abandoned", "the caller stopped reading the stream before it ended"),
        ("cancelled", "the client went away"),
        ("filtered", "the provider refused or filtered the answer"),
    ],
)
def test_statuses_other_than_ok_and_error_are_explained(status: str, remark: str) -> None:
    card = card_of({"name": "m", "status": status})
    assert card.status_class == status
    assert any(remark in w.text for w in card.warnings)


def test_an_upload_a_note_says_was_an_image_is_checked_against_what_it_is() -> None:
    def run() -> None:
        with inferwatch.model_context("colour-namer", input=b"just some notes") as call:
            call.note("upload", content_type="image/png; charset=binary", bytes=15)
            raise RuntimeError("unreadable")

    card = card_of(failed_record(run))
    assert card.input is not None and card.input.verdict is not None
    assert card.input.verdict.text == (
        "not an image: its bytes are text/plain, though it was sent as image/png"
    )


def test_a_record_shortened_to_fit_its_budget_says_so() -> None:
    card = card_of({"name": "m", "truncated": {"original_bytes": 52311}})
    assert card.cuts == [
        "The record was over the SDK's size budget (max_context_bytes) (it was 52,311 bytes):"
        " notes, output and input were shortened, in that order, until it fitted."
    ]


def test_a_provider_error_shows_what_the_provider_said() -> None:
    card = card_of(
        {
            "name": "gpt",
            "status": "error",
            "error": {"type": "RateLimitError", "message": "slow down", "status_code": 429},
        }
    )
    assert card.error == {
        "type": "RateLimitError",
        "message": "slow down",
        "details": [("status_code", "429")],
    }


@pytest.mark.parametrize("hostile", [None, "model", [1], {"notes": "x", "calls": {"a": 1}}])
def test_a_record_of_any_shape_is_shown_or_left_out_never_an_error(hostile: Any) -> None:
    card = model_card(hostile)
    assert card is None or isinstance(card.name, str)


def hostile_event() -> dict[str, Any]:
    """A Sentry event whose model context carries markup in every field the card shows."""
    image = {"format": XSS, "width": 1, "height": 1, "mode": XSS, "verified": False, "error": XSS}
    return {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "level": "error",
        "message": "model failed",
        "contexts": {
            "model": {
                "name": "ranker" + XSS,
                "status": XSS,
                "provider": XSS,
                "parameters": {XSS: XSS},
                "input": {
                    "type": "chat",
                    "messages": 1,
                    "kept": 1,
                    "preview": [{"role": XSS, "content": [{"type": "text", "text": XSS}]}],
                },
                "output": {"type": "mapping", "keys": [XSS], "count": 1, "preview": {XSS: XSS}},
                "notes": [
                    {
                        "stage": XSS,
                        "at_ms": 1,
                        XSS: {"type": "bytes", "size": 1, "mime": "image/png", "image": image},
                    }
                ],
                "calls": [{"name": "inner" + XSS, "status": "ok", "error": {"type": XSS}}],
            }
        },
    }


def test_every_string_of_the_model_context_is_shown_as_text(running: Running) -> None:
    event = hostile_event()
    envelope = b"\n".join(
        [
            json.dumps({"event_id": event["event_id"]}).encode(),
            json.dumps({"type": "event"}).encode(),
            json.dumps(event).encode(),
        ]
    )
    sent = httpx.post(f"{running.url}/api/1/envelope/?sentry_key={KEY}", content=envelope + b"\n")
    assert sent.status_code == 200, sent.text
    running.served.collector.store.flush()
    [issue] = rows(running.store, "SELECT id FROM issues")
    page = httpx.get(f"{running.url}/issues/{issue['id']}", headers={"Accept": "text/html"}).text
    model = page[page.index('id="model"') : page.index('id="timeline"')]
    assert "<script>" not in model and "<img" not in model
    assert model.count("&lt;script&gt;window.__pwned=1&lt;/script&gt;") >= 10
    assert 'class="model-card model-call"' in model  # the nested call, as its own card
    assert "not an image: Pillow could not read it" in model
