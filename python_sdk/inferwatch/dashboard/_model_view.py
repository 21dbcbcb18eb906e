"""`contexts["model"]` as the issue page shows it: one card a model call, nested calls as cards
of their own.

A card holds what the call received and returned (each summary by its kind, `_value_view`), its
timings and token usage (absent ones stay absent: the page shows "—"), the provider, the request
parameters and what answered, the notes of what was processed, the error, and what was cut from
the record and why. It also says what the record implies but does not spell out: an answer cut
at the token limit (`finish_reason: length`), a stream abandoned, an upload that is not the image
it was sent as.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ._format import num
from ._shapes import items, mapping, number
from ._value_facts import Verdict, plain
from ._value_view import MAX_ENTRIES, ValueView, Walk, json_view, summary_view

MAX_CALLS = 10  # nested calls shown (the SDK keeps the newest 10 too)
MAX_DEPTH = 2  # calls inside calls inside the call (a watched function, a client, a retry)
MAX_NOTES = 100
_STATUS_NOTES = {
    "cancelled": "cancelled: the client went away, or the task running it was cancelled",
    "abandoned": "abandoned: the caller stopped reading the stream before it ended",
    "filtered": "filtered: the provider refused or filtered the answer",
}
_DECLARING = ("content_type", "mime", "mime_type", "media_type")
_CUT_AT_LIMIT = ("length", "max_tokens", "max_output_tokens")
_FILTERED = ("content_filter", "refusal")


@dataclass
class Note:
    """One step of `notes`: when, which stage, and its fields (each a value view)."""

    at_ms: float | None
    stage: str
    fields: list[tuple[str, ValueView]] = field(default_factory=list)


@dataclass
class ModelCard:
    """One model call, ready for the template."""

    name: str
    status: str = ""
    status_class: str = "other"
    version: str = ""
    provider: str = ""
    duration_ms: float | None = None
    first_chunk_ms: float | None = None
    input_tokens: float | None = None
    output_tokens: float | None = None
    parameters: list[tuple[str, str]] = field(default_factory=list)
    response: list[tuple[str, str]] = field(default_factory=list)
    input: ValueView | None = None
    output: ValueView | None = None
    notes: list[Note] = field(default_factory=list)
    error: dict[str, Any] | None = None
    warnings: list[Verdict] = field(default_factory=list)
    cuts: list[str] = field(default_factory=list)
    calls: list[ModelCard] = field(default_factory=list)
    more_calls: int = 0


def model_card(
    record: Any, declared: str = "", depth: int = 0, walk: Walk | None = None
) -> ModelCard | None:
    """The card of one model record, or None when there is none; `declared` is the media type
    the request said its body was (a note's `content_type` takes precedence).

    >>> model_card({"name": "ranker", "status": "ok", "duration_ms": 0.017}).duration_ms
    0.017
    """
    data = mapping(record)
    if not data:
        return None
    walk = walk or Walk()  # one budget of views for the record and its nested calls
    listed = items(data.get("notes"))
    notes = [_note(n, walk) for n in listed[:MAX_NOTES]]
    declared = _declared(items(data.get("notes"))) or declared
    status = plain(data.get("status"))
    usage = mapping(data.get("usage"))
    card = ModelCard(
        name=plain(data.get("name")) or "model",
        status=status,
        status_class=status if status in ("ok", "error", *_STATUS_NOTES) else "other",
        version=plain(data.get("version")),
        provider=plain(data.get("provider")),
        duration_ms=number(data.get("duration_ms")),
        first_chunk_ms=number(data.get("first_chunk_ms")),
        input_tokens=number(usage.get("input_tokens")),
        output_tokens=number(usage.get("output_tokens")),
        parameters=_pairs(data.get("parameters")),
        response=_pairs(data.get("response")),
        input=_value(data.get("input"), declared, walk),
        output=_value(data.get("output"), "", walk),
        notes=notes,
        error=_error(data.get("error")),
    )
    card.warnings = _warnings(card, data)
    card.cuts = _cuts(data.get("truncated"))
    if len(listed) > MAX_NOTES:
        card.cuts.append(f"The first {MAX_NOTES} of {num(len(listed))} notes are shown.")
    calls = items(data.get("calls"))
    if depth < MAX_DEPTH:
        nested = (model_card(c, "", depth + 1, walk) for c in calls[-MAX_CALLS:])
        card.calls = [c for c in nested if c is not None]
    card.more_calls = len(calls) - len(card.calls)
    return card


def _value(value: Any, declared: str, walk: Walk) -> ValueView | None:
    return None if value is None else summary_view(value, declared, walk)


def _note(note: Any, walk: Walk) -> Note:
    fields = note if isinstance(note, dict) else {"stage": note}
    named = [(str(k), v) for k, v in fields.items() if k not in ("stage", "at_ms")]
    return Note(
        at_ms=number(fields.get("at_ms")),
        stage=plain(fields.get("stage")),
        fields=[(k, _note_value(v, walk)) for k, v in named[:MAX_ENTRIES]],
    )


def _note_value(value: Any, walk: Walk) -> ValueView:
    """A note's value: a plain value, or a summary of a long or structured one (`note_value`)."""
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return summary_view(value, "", walk)
    return json_view(value, walk)


def _declared(notes: list[Any]) -> str:
    """The media type a note says the input was sent as (`note("upload", content_type=...)`)."""
    for note in notes:
        for key in _DECLARING:
            value = mapping(note).get(key)
            if isinstance(value, str) and "/" in value:
                return value.split(";", 1)[0].strip().lower()[:100]
    return ""


def _pairs(value: Any) -> list[tuple[str, str]]:
    """Parameters or response fields as (name, value) text, lists joined.

    >>> _pairs({"max_tokens": 40, "tools": ["search", "fetch"], "stop": {"a": 1}})
    [('max_tokens', '40'), ('tools', 'search, fetch'), ('stop', '{…}')]
    """
    out = []
    for key, item in list(mapping(value).items())[:MAX_ENTRIES]:
        if isinstance(item, list):
            text = ", ".join(plain(i) for i in item[:MAX_ENTRIES])
        elif isinstance(item, dict):
            text = "{…}"
        else:
            text = item if isinstance(item, str) else json.dumps(item)
        out.append((str(key), text[:500]))
    return out


def _error(value: Any) -> dict[str, Any] | None:
    error = mapping(value)
    if not error:
        return None
    details = [(str(k), plain(v)) for k, v in error.items() if k not in ("type", "message")]
    return {
        "type": plain(error.get("type")),
        "message": plain(error.get("message")),
        "details": details,
    }


def _warnings(card: ModelCard, data: dict[str, Any]) -> list[Verdict]:
    """What the record implies: the answer cut at the token limit, or filtered; a stream left."""
    out = []
    reason_key, reason = _finish_reason(data.get("output"))
    limit = dict(card.parameters)
    tokens = next((limit[k] for k in ("max_tokens", "max_completion_tokens") if k in limit), None)
    if reason in _CUT_AT_LIMIT:
        at = f" (max_tokens {tokens})" if tokens else ""
        out.append(
            Verdict(f"the answer stopped at the token limit{at}: {reason_key}: {reason}", False)
        )
    elif reason in _FILTERED:
        out.append(Verdict(f"the provider filtered the answer: {reason_key}: {reason}", False))
    if card.status in _STATUS_NOTES:
        out.append(Verdict(_STATUS_NOTES[card.status], None))
    return out


def _finish_reason(output: Any) -> tuple[str, str]:
    preview = mapping(mapping(output).get("preview"))
    for key in ("finish_reason", "stop_reason"):
        if isinstance(preview.get(key), str):
            return key, str(preview[key])
    return "", ""


def _cuts(truncated: Any) -> list[str]:
    if not truncated:
        return []
    size = number(mapping(truncated).get("original_bytes"))
    was = f" (it was {num(size)} bytes)" if size is not None else ""
    return [
        f"The record was over the SDK's size budget (max_context_bytes){was}: notes, output"
        " and input were shortened, in that order, until it fitted."
    ]
