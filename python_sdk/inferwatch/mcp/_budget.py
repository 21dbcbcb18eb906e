"""How much one answer may hold: an agent's context is small, and a store's events are not.

Every tool answer and resource is cut to these budgets (docs/mcp.md states them): strings to a
length that says what was cut, model inputs and contexts to a few thousand characters of JSON,
lists to a page that fits, with the offset of the next page.

>>> clip("abcdef", 3)
'abc… [3 more characters cut]'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_ANSWER_CHARS = 30_000  # one tool answer or resource, whole (about 8,000 tokens)
MAX_TEXT_CHARS = 500  # one title, culprit, message, tag value or line of the timeline
MAX_SOURCE_LINE_CHARS = 160  # one line of source code around a frame
MAX_OFFSET = 100_000  # how deep a list may be paged (an agent that needs more narrows it)
ISSUE_TARGET_CHARS = 24_000  # an issue's JSON, leaving room for its Markdown's formatting


@dataclass(frozen=True)
class Limits:
    """How much of one event an issue report shows. `LIMITS` goes from generous to tight: a
    report is shaped with each in turn until its JSON fits in `ISSUE_TARGET_CHARS`."""

    value_chars: int = 4_000  # each of the model's input, notes, output, error; request, contexts
    exceptions: int = 5  # the raised exception and the causes before it
    frames: int = 30  # frames of one exception, innermost first
    source_frames: int = 10  # the app's frames shown with their source lines (all exceptions)
    source_lines: int = 5  # lines of source on each side of a frame's line
    timeline: int = 60  # timeline rows, those nearest the error
    tags: int = 50


LIMITS = (
    Limits(),
    Limits(value_chars=2_500, source_frames=6, source_lines=3, timeline=40, tags=30),
    Limits(
        value_chars=1_200,
        exceptions=2,
        frames=15,
        source_frames=3,
        source_lines=2,
        timeline=20,
        tags=15,
    ),
    Limits(
        value_chars=400,
        exceptions=1,
        frames=8,
        source_frames=1,
        source_lines=1,
        timeline=10,
        tags=8,
    ),
)


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """`text` cut to `limit` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters cut]"


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text as an agent reads it: not ASCII-escaped, anything odd written as its `str()`."""
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str)


def clip_value(value: Any, limit: int) -> Any:
    """`value` itself when its JSON fits in `limit` characters, else that JSON cut (a string)."""
    text = dumps(value)
    return value if len(text) <= limit else clip(text, limit)


def page(
    name: str, rows: list[dict[str, Any]], *, offset: int, more: bool, **extra: Any
) -> dict[str, Any]:
    """One page of a list: as many `rows` as fit in the answer's budget, and where to go on.

    `next_offset` is the `offset` that reads the next page (None at the end); `cut_to_fit` says
    the page holds fewer rows than asked for because they did not fit.
    """
    room = MAX_ANSWER_CHARS - len(dumps(extra)) - 200
    kept = 0
    for row in rows:
        room -= len(dumps(row)) + 2
        if room < 0 and kept:
            break
        kept += 1
    cut = kept < len(rows)
    next_offset = offset + kept if cut or more else None
    return {
        **extra,
        name: rows[:kept],
        "offset": offset,
        "next_offset": next_offset,
        **({"cut_to_fit": True} if cut else {}),
    }


def finish(text: str) -> str:
    """The text of an answer as it is sent: within the budget, and encodable (a lone surrogate,
    which an old store may hold, would fail the transport's UTF-8)."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    if len(text) <= MAX_ANSWER_CHARS:
        return text
    return text[:MAX_ANSWER_CHARS] + f"\n… [cut at the {MAX_ANSWER_CHARS:,}-character budget]"
