"""Summaries say what a value is."""

from __future__ import annotations

import io

import numpy as np
from inferwatch._summary import Budget, summarize
from PIL import Image
from pydantic import BaseModel


def png(size: tuple[int, int] = (4, 3)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size).save(out, "PNG")
    return out.getvalue()


def test_text_is_described_by_length_lines_and_a_redacted_preview() -> None:
    assert summarize("hello a@b.io\nbye") == {
        "type": "text",
        "length": 16,
        "lines": 2,
        "preview": "hello [email]\nbye",
    }


def test_long_text_is_cut_to_the_field_budget_saying_its_length() -> None:
    preview = summarize("x" * 50_000, Budget(field_chars=100))["preview"]
    assert preview.startswith("x" * 100) and preview.endswith("[50000 chars]")


def test_an_image_is_described_and_verified() -> None:
    summary = summarize(png())
    assert summary["mime"] == "image/png"
    assert summary["image"] == {
        "format": "PNG",
        "width": 4,
        "height": 3,
        "mode": "RGB",
        "verified": True,
    }


def test_a_truncated_image_fails_verification() -> None:
    summary = summarize(png((64, 64))[:60])
    assert summary["image"]["verified"] is False and "error" in summary["image"]


def test_bytes_that_are_not_an_image_say_what_they_are() -> None:
    assert summarize(b"%PDF-1.7 ...")["mime"] == "application/pdf"
    assert summarize(b"\x00\x01\x02\xff" * 10)["mime"] == "application/octet-stream"


def test_arrays_are_described_by_duck_typing() -> None:
    summary = summarize(np.array([[1.0, np.nan], [3.0, -4.0]], dtype=np.float32))
    assert summary == {
        "type": "array",
        "dtype": "float32",
        "shape": [2, 2],
        "nan_count": 1,
        "min": -4.0,
        "max": 3.0,
    }


def test_chat_messages_keep_the_newest_and_count_all() -> None:
    chat = [{"role": "user", "content": f"turn {i}"} for i in range(100)]
    summary = summarize(chat)
    assert summary["type"] == "chat" and summary["messages"] == 100
    assert summary["preview"][-1]["content"] == "turn 99"
    assert summary["kept"] == len(summary["preview"]) < 100


def test_mappings_list_their_keys_and_filter_secrets() -> None:
    summary = summarize({"prompt": "hi", "password": "hunter2"})
    assert summary["keys"] == ["prompt", "password"]
    assert summary["preview"] == {"prompt": "hi", "password": "[Filtered]"}


def test_pydantic_models_are_dumped() -> None:
    class Query(BaseModel):
        text: str
        top_k: int

    assert summarize(Query(text="a@b.io", top_k=3)) == {
        "type": "pydantic",
        "class": "Query",
        "preview": {"text": "[email]", "top_k": 3},
    }


def test_a_value_whose_summary_fails_still_gets_one() -> None:
    class Weird:
        @property
        def shape(self) -> tuple[int]:
            raise RuntimeError("no")

        dtype = "x"

    assert summarize(Weird())["type"] == "Weird"


def test_big_arrays_are_described_without_scanning_them() -> None:
    summary = summarize(np.zeros((1001, 1000), dtype=np.float16))
    assert summary == {"type": "array", "dtype": "float16", "shape": [1001, 1000]}
