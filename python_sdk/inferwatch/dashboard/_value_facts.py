"""The facts of a summarised value, in words: sizes, counts, image checks, verdicts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ._format import num
from ._shapes import number

CUT_TEXT = re.compile(r"… \[(\d+) chars\]$")  # how the SDK's `truncate` marks a cut text


@dataclass(frozen=True)
class Verdict:
    """What the value turned out to be, when that is news: `good` False is a problem, None a
    remark."""

    text: str
    good: bool | None = None


def cut_preview(text: str, whole: float | None = None, what: str = "") -> tuple[str, str | None]:
    """A preview without the SDK's cut mark (`… [52311 chars]`), and what was cut, in words.

    >>> cut_preview("abc… [9 chars]")
    ('abc', "preview cut to the first 3 of 9 characters (the SDK's field budget)")
    """
    mark = CUT_TEXT.search(text)
    kept = text[: mark.start()] if mark else text
    whole = whole or (int(mark.group(1)) if mark else None)
    if whole is None:
        return kept, None
    return kept, (
        f"preview cut to the first {num(len(kept))} of {num(whole)} characters {what}"
        "(the SDK's field budget)"
    )


def image_facts(image: dict[str, Any]) -> list[tuple[str, str]]:
    facts = []
    if image.get("format") is not None:
        facts.append(("format", plain(image["format"])))
    width, height = number(image.get("width")), number(image.get("height"))
    if width is not None and height is not None:
        facts.append(("dimensions", f"{num(width)} \u00d7 {num(height)}"))
    if image.get("mode") is not None:
        facts.append(("mode", plain(image["mode"])))
    if "verified" in image:
        verified = image["verified"]
        facts.append(("verified", "—" if verified is None else json.dumps(verified)))
    return facts


def image_verdict(image: dict[str, Any]) -> Verdict | None:
    """Whether the bytes are the image they claim to be (`PIL.Image.verify()` at capture)."""
    verified = image.get("verified")
    if verified is True:
        kind = f"a valid {plain(image.get('format'))} image" if image.get("format") else "valid"
        return Verdict(f"verified: {kind}", True)
    if verified is False:
        why = plain(image.get("error")) or "it does not decode"
        return Verdict(f"not an image: Pillow could not read it ({why})", False)
    if verified is None and isinstance(image.get("note"), str):
        return Verdict(f"not checked: {image['note']}", None)
    return None


def not_an_image(mime: str, declared: str) -> Verdict:
    if declared.startswith("image/"):
        return Verdict(
            f"not an image: its bytes are {mime}, though it was sent as {declared}", False
        )
    return Verdict(f"not an image: its bytes are {mime}", None)


def count(value: float | None, noun: str) -> str:
    if value is None:
        return "—"
    return f"{num(value)} {noun}{'' if value == 1 else 's'}"


def size(value: Any) -> str:
    size = number(value)
    if size is None:
        return "—"
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit} ({num(size)} bytes)"
    return count(size, "byte")


def stat(value: Any) -> str:
    found = number(value)
    if found is None:
        return plain(value) or "—"  # "nan", "inf": how the SDK writes what JSON cannot
    return f"{found:.6g}"


def plain(value: Any) -> str:
    return "" if value is None else str(value)[:500]
