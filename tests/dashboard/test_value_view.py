"""Each kind of summary the SDK makes has its own view on the issue page: the values are made
by the SDK's own `summarize` from real objects (bytes, Pillow images, numpy arrays, pydantic
models, chat messages), then shaped by `summary_view`."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from inferwatch._summary import Arguments, Budget, summarize
from inferwatch.dashboard._value_view import (
    MAX_DEPTH,
    MAX_ENTRIES,
    MAX_MESSAGES,
    MAX_VIEWS,
    ValueView,
    is_summary,
    json_view,
    summary_view,
)
from PIL import Image
from pydantic import BaseModel


def png(mode: str = "RGBA") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (32, 24), (200, 30, 30, 128) if mode == "RGBA" else 0).save(buf, "PNG")
    return buf.getvalue()


def facts(view: ValueView) -> dict[str, str]:
    return dict(view.facts)


def walk(view: ValueView) -> Iterator[ValueView]:
    yield view
    for _, child in view.entries:
        yield from walk(child)
    for message in view.messages:
        for part in message.parts:
            yield from walk(part)


def test_text_shows_its_length_lines_and_redacted_preview() -> None:
    view = summary_view(summarize("mail bob@example.com\nsecond line"))
    assert view.kind == "text"
    assert facts(view) == {"length": "32 characters", "lines": "2"}
    assert view.preview == "mail [email]\nsecond line"
    assert view.cuts == []


def test_a_long_text_says_how_much_of_it_was_kept() -> None:
    view = summary_view(summarize("x" * 500, Budget(field_chars=100)))
    assert view.preview == "x" * 100  # the cut mark is said in words, not shown as text
    assert view.cuts == ["preview cut to the first 100 of 500 characters (the SDK's field budget)"]


def test_image_bytes_show_format_dimensions_mode_and_that_they_verify() -> None:
    view = summary_view(summarize(png("RGBA")))
    assert view.kind == "image"
    shown = facts(view)
    assert shown["mime"] == "image/png" and shown["format"] == "PNG"
    assert shown["dimensions"] == "32 \u00d7 24" and shown["mode"] == "RGBA"
    assert shown["verified"] == "true"
    assert view.verdict is not None and view.verdict.good is True


def test_bytes_that_are_not_the_image_they_were_sent_as_say_so() -> None:
    view = summary_view(summarize(b"just some notes"), declared="image/png")
    assert facts(view) == {"size": "15 bytes", "mime": "text/plain"}
    assert view.verdict is not None and view.verdict.good is False
    assert view.verdict.text == (
        "not an image: its bytes are text/plain, though it was sent as image/png"
    )


def test_bytes_with_no_claim_to_be_an_image_are_only_remarked_on() -> None:
    view = summary_view(summarize(b"%PDF-1.7 rest of the file"))
    assert view.verdict is not None and view.verdict.good is None
    assert "application/pdf" in view.verdict.text


def test_an_image_header_on_a_broken_file_is_not_an_image() -> None:
    view = summary_view(summarize(png()[:40]))  # the PNG signature, then nothing readable
    assert facts(view)["verified"] == "false"
    assert view.verdict is not None and view.verdict.good is False
    assert view.verdict.text.startswith("not an image: Pillow could not read it (")


def test_a_decoded_image_shows_its_format_dimensions_and_mode() -> None:
    with Image.open(io.BytesIO(png("L"))) as img:
        view = summary_view(summarize(img))
    assert view.kind == "image"
    assert facts(view) == {"format": "PNG", "dimensions": "32 \u00d7 24", "mode": "L"}


def test_an_array_shows_dtype_shape_min_max_and_its_nans() -> None:
    array = np.array([[0.5, np.nan, 2.0], [np.nan, -1.25, 3.0]], dtype=np.float32)
    view = summary_view(summarize(array))
    assert facts(view) == {
        "dtype": "float32",
        "shape": "(2, 3)",
        "min": "-1.25",
        "max": "3",
        "NaN": "2",
    }
    assert view.verdict is not None and view.verdict.text == "2 NaN values in the array"
    assert view.verdict.good is False


def test_an_array_too_big_for_statistics_says_why_they_are_missing() -> None:
    view = summary_view({"type": "array", "dtype": "float16", "shape": [4096, 4096]})
    assert facts(view) == {"dtype": "float16", "shape": "(4096, 4096)"}
    assert view.verdict is None
    assert view.cuts and view.cuts[0].startswith("min, max and NaN count not computed")


def test_chat_messages_show_roles_counts_and_the_newest_kept() -> None:
    chat = [{"role": "system", "content": "Be brief."}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}"}
        for i in range(30)
    ]
    view = summary_view(summarize(chat))  # the SDK keeps the newest 20
    assert view.kind == "chat"
    assert facts(view) == {"messages": "31", "kept": "20", "roles": "user 10, assistant 10"}
    assert [m.text for m in view.messages][-1] == "message 29"
    assert view.cuts == [
        "the newest 20 of 31 messages kept: the oldest were dropped to fit the budget"
    ]


def test_a_chat_message_with_an_image_part_shows_the_image_by_what_it_is() -> None:
    part = {"type": "image", **{k: v for k, v in summarize(png()).items() if k != "type"}}
    chat = [{"role": "user", "content": [{"type": "text", "text": "what colour?"}, part]}]
    [message] = summary_view(summarize(chat)).messages
    assert message.text == "what colour?"
    [image] = message.parts
    assert image.kind == "image" and facts(image)["mode"] == "RGBA"


def test_a_mapping_shows_its_keys_and_its_nested_summaries_by_kind() -> None:
    value = {"prompt": "a red square", "image": png(), "scores": np.zeros(3), "n": 2}
    view = summary_view(summarize(value))
    assert view.kind == "mapping" and facts(view) == {"keys": "4"}
    entries = dict(view.entries)
    assert entries["prompt"].preview == "a red square" and entries["prompt"].inline
    assert entries["image"].kind == "image" and facts(entries["image"])["mode"] == "RGBA"
    assert entries["scores"].kind == "array" and facts(entries["scores"])["shape"] == "(3)"
    assert entries["n"].preview == "2"


def test_an_empty_string_in_an_output_reads_as_empty() -> None:
    view = summary_view(summarize({"label": "", "score": 0.0}))
    assert dict(view.entries)["label"].preview == '"" (empty)'


def test_a_mapping_past_the_budget_says_how_many_keys_were_not_kept() -> None:
    view = summary_view(summarize({f"k{i}": i for i in range(130)}))
    assert facts(view)["keys"] == "130"
    assert len(view.entries) == 50  # shown; the rest are in the preview the SDK kept
    assert view.cuts == ["30 more keys not kept (the SDK keeps 100)"]


def test_a_preview_cut_to_json_text_says_how_long_it_was() -> None:
    value = {"a": "y" * 90, "b": "z" * 90}
    view = summary_view(summarize(value, Budget(field_chars=100)))
    assert view.preview is not None and view.preview.startswith('{"a": "yyy')
    assert view.cuts == [
        f"preview cut to the first 100 of {len(json.dumps(value))} characters of JSON"
        " (the SDK's field budget)"
    ]


class Review(BaseModel):
    text: str
    stars: int
    photo: bytes


def test_a_pydantic_model_shows_its_class_and_fields_with_nested_summaries() -> None:
    view = summary_view(summarize(Review(text="great", stars=5, photo=png())))
    assert view.kind == "pydantic" and view.title == "pydantic · Review"
    entries = dict(view.entries)
    assert entries["text"].preview == "great" and entries["stars"].preview == "5"
    assert entries["photo"].kind == "image"


def test_a_sequence_shows_its_length_and_the_items_kept() -> None:
    view = summary_view(summarize(list(range(45))))
    assert view.kind == "sequence" and facts(view) == {"items": "45"}
    assert [v.preview for _, v in view.entries][:3] == ["0", "1", "2"]
    assert view.cuts == ["the first 20 of 45 items kept"]


def test_arguments_show_each_by_what_it_is_and_secrets_as_filtered() -> None:
    args = Arguments(prompt="hello", image=png(), api_key="sk-abcdefghijklmnopqrstu")
    view = summary_view(summarize(args))
    entries = dict(view.entries)
    assert entries["prompt"].kind == "text"
    assert entries["image"].kind == "image"
    assert entries["api_key"].kind == "filtered"
    assert "sk-" not in repr(view)


@pytest.mark.parametrize(("value", "title", "shown"), [(None, "None", "null"), (3, "int", "3")])
def test_a_scalar_shows_its_type_and_value(value: Any, title: str, shown: str) -> None:
    view = summary_view(summarize(value))
    assert (view.kind, view.title, view.preview) == ("scalar", title, shown)


def test_another_object_shows_its_class_and_the_fields_read() -> None:
    class Settings:
        def __init__(self) -> None:
            self.temperature = 0.2

    view = summary_view(summarize(Settings()))
    assert view.title == "Settings" and dict(view.entries)["temperature"].preview == "0.2"


def test_a_summary_that_failed_says_so() -> None:
    view = summary_view({"type": "Weird", "error": "summary failed: RuntimeError"})
    assert view.verdict is not None and view.verdict.text == "summary failed: RuntimeError"


@pytest.mark.parametrize(
    "hostile",
    [
        "text",
        [1, 2],
        {"type": "text", "length": "long", "lines": [], "preview": {"a": 1}},
        {"type": "bytes", "size": "big", "mime": 3, "image": "yes"},
        {"type": "array", "shape": "(2,)", "min": {"x": 1}, "nan_count": "many"},
        {"type": "chat", "messages": "3", "preview": [None, 3, {"role": ["x"], "content": 5}]},
        {"type": "mapping", "keys": "abc", "count": None, "preview": [1]},
        {"type": "arguments", "arguments": [1, 2]},
        {"type": "image", "width": "w", "note": 5},
        {"type": {"nested": True}},
    ],
)
def test_any_json_in_place_of_a_summary_is_shown_not_refused(hostile: Any) -> None:
    for view in walk(summary_view(hostile)):
        assert isinstance(view.title, str)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in view.facts)


def test_only_the_sdks_own_shapes_count_as_nested_summaries() -> None:
    assert is_summary({"type": "bytes", "size": 3, "mime": "text/plain"})
    assert is_summary({"type": "array", "shape": [2]})
    assert not is_summary({"type": "text", "text": "a chat content part"})
    assert json_view({"type": "text", "text": "hi"}).kind == "value"


def test_a_stored_preview_of_any_size_builds_a_bounded_page() -> None:
    leaf = {"type": "bytes", "size": 1, "mime": "text/plain"}
    wide: Any = [leaf] * 50
    for _ in range(3):
        wide = {f"k{i}": wide for i in range(50)}  # 50 ** 4 summaries, if all were shown
    views = list(walk(summary_view({"type": "mapping", "preview": wide})))
    assert len(views) <= MAX_VIEWS + MAX_DEPTH * MAX_ENTRIES  # the last containers open
    assert any(v.preview and "more than the page shows" in v.preview for v in views)


def test_a_stored_chat_of_thousands_of_messages_shows_the_newest() -> None:
    chat = [{"role": "user", "content": f"m{i}"} for i in range(5000)]
    view = summary_view({"type": "chat", "messages": 5000, "kept": 5000, "preview": chat})
    assert [m.text for m in view.messages][-1] == "m4999"
    assert len(view.messages) == MAX_MESSAGES
    assert view.cuts == [f"the newest {MAX_MESSAGES} of the 5,000 kept shown here"]
