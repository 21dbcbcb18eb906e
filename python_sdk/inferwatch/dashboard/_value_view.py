"""One summarised value of the model context (`_summary.py`'s kinds), shaped for the issue page.

Each kind gets its own compact view: what it is (`title`), its facts as (name, value) pairs, a
verdict when the value is not what it claims (an upload that is not an image, NaNs in an
array), what was cut and why, and its content: a text preview, chat messages, or the entries
of a mapping, a pydantic model or a function's arguments, each shown by what it is in turn.

Every field comes from stored JSON that anyone holding the collector key can write, so each is
read with its type checked; the template escapes every string it is given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .._snapshot import Snapshot
from ._format import num
from ._shapes import items, mapping, number
from ._value_facts import (
    Verdict,
    count,
    cut_preview,
    image_facts,
    image_verdict,
    not_an_image,
    plain,
    size,
    stat,
)

MAX_DEPTH = 4  # summaries inside summaries shown as views; deeper ones as JSON
MAX_ENTRIES = 50  # entries of one mapping or sequence shown as views
MAX_MESSAGES = 50  # chat messages shown, the newest (the SDK keeps 20)
MAX_VIEWS = 2000  # views built for one model record, nested calls included
_LOOK_NODES = 500  # values looked at to find a summary inside a container
_JSON_CHARS = 10_000  # of one string of a value shown as JSON
_JSON_NODES = 200  # containers of a value shown as JSON
_INLINE = 80  # characters of a value shown on its line
_SCALARS = {"NoneType": "None", "bool": "bool", "int": "int", "float": "float"}
_IMAGE_FIELDS = ("format", "width", "height", "mode")


@dataclass
class Message:
    """One chat message: its role, its text, and any other part (images, tool calls)."""

    role: str
    text: str = ""
    parts: list[ValueView] = field(default_factory=list)
    other: str = ""  # the message's other fields as JSON (`name`, `tool_calls`)


@dataclass
class ValueView:
    """A value as the page shows it. `kind` picks the layout; `title` says what it is."""

    kind: str
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    verdict: Verdict | None = None
    cuts: list[str] = field(default_factory=list)
    preview: str | None = None
    messages: list[Message] = field(default_factory=list)
    entries: list[tuple[str, ValueView]] = field(default_factory=list)
    inline: bool = False  # a short plain value, shown on its line rather than in a block


class Walk:
    """How deep a view is, and how many views may still be built for one model record: a
    stored event can hold a preview of any size and depth, and the page must stay small.

    >>> walk = Walk(views=1); walk.spend(), walk.deeper().spend()
    (True, False)
    """

    __slots__ = ("depth", "left")

    def __init__(self, views: int = MAX_VIEWS, depth: int = 0, left: list[int] | None = None):
        self.depth = depth
        self.left = left if left is not None else [views]  # shared by every deeper walk

    def deeper(self) -> Walk:
        return Walk(depth=self.depth + 1, left=self.left)

    def spend(self) -> bool:
        self.left[0] -= 1
        return self.left[0] >= 0


def summary_view(summary: Any, declared: str = "", walk: Walk | None = None) -> ValueView:
    """The view of one summary (`{"type": "text", ...}`); `declared` is the media type the
    request or a note claimed for it (`image/png`), to tell an upload that is not one.

    >>> summary_view({"type": "text", "length": 9, "lines": 1, "preview": "I love it"}).facts
    [('length', '9 characters'), ('lines', '1')]
    """
    walk = walk or Walk()
    if not walk.spend():
        return _too_much()
    data = mapping(summary)
    kind = str(data.get("type") or "")
    if not data or not kind:
        return json_view(summary, walk)
    if isinstance(data.get("error"), str) and str(data["error"]).startswith("summary failed"):
        return ValueView("object", kind, verdict=Verdict(str(data["error"]), None))
    builder = _BUILDERS.get(kind)
    if builder is not None:
        return builder(data, declared, walk)
    if kind in _SCALARS:
        return _scalar(data)
    return _object(data, walk)


# -- the kinds ----------------------------------------------------------------------------


def _text(data: dict[str, Any], declared: str, walk: Walk) -> ValueView:
    preview = data.get("preview")
    text = preview if isinstance(preview, str) else _json(preview)
    length = number(data.get("length"))
    facts = [("length", count(length, "character"))]
    if number(data.get("lines")) is not None:
        facts.append(("lines", num(data.get("lines"))))
    shown, cut = cut_preview(text)
    view = ValueView("text", "text", facts, preview=shown, cuts=[cut] if cut else [])
    if data.get("chunks") is not None:
        view.facts.append(("chunks", num(data.get("chunks"))))
    return view


def _bytes(data: dict[str, Any], declared: str, walk: Walk) -> ValueView:
    mime = plain(data.get("mime"))
    facts = [("size", size(data.get("size")))]
    if mime:
        facts.append(("mime", mime))
    view = ValueView("bytes", "bytes", facts)
    image = data.get("image")
    if isinstance(image, dict):
        view.kind, view.title = "image", "image bytes"
        view.facts += image_facts(image)
        view.verdict = image_verdict(image)
    elif mime and not mime.startswith("image/"):
        view.verdict = not_an_image(mime, declared)
    if data.get("chunks") is not None:
        view.facts.append(("chunks", num(data.get("chunks"))))
    return view


def _image(data: dict[str, Any], declared: str, walk: Walk) -> ValueView:
    """A decoded image (a PIL object), or an image part of a chat message (bytes or a URL)."""
    if "size" in data or "mime" in data:
        view = _bytes(data, declared, walk)
        view.kind, view.title = "image", "image"
    else:
        view = ValueView("image", "image", image_facts(data))
    if isinstance(data.get("url"), str):
        view.facts.append(("url", str(data["url"])))
    if isinstance(data.get("note"), str):
        view.verdict = Verdict(str(data["note"]), None)
    return view


def _array(data: dict[str, Any], declared: str, walk: Walk) -> ValueView:
    dtype = plain(data.get("dtype"))
    facts = [("dtype", dtype)] if dtype else []
    shape = [d for d in items(data.get("shape")) if isinstance(d, int)]
    facts.append(("shape", "(" + ", ".join(map(str, shape)) + ")" if shape else "unknown"))
    for name in ("min", "max"):
        if name in data:
            facts.append((name, stat(data[name])))
    title = "array" if not data.get("class") else f"array · {plain(data['class'])}"
    view = ValueView("array", title, facts)
    nans = number(data.get("nan_count"))
    if nans is not None:
        facts.append(("NaN", num(nans)))
        if nans:
            view.verdict = Verdict(f"{count(nans, 'NaN value')} in the array", False)
    elif dtype:
        view.cuts.append(
            "min, max and NaN count not computed: more than a million elements,"
            " or not a numpy array or CPU tensor"
        )
    return view


def _chat(data: dict[str, Any], declared: str, walk: Walk) -> ValueView:
    listed = items(data.get("preview"))
    messages = [_message(m, walk) for m in listed[-MAX_MESSAGES:]]
    total, kept = number(data.get("messages")), number(data.get("kept"))
    roles: dict[str, int] = {}
    for message in messages:
        roles[message.role] = roles.get(message.role, 0) + 1
    facts = [("messages", num(total if total is not None else len(messages)))]
    if kept is not None and kept != total:
        facts.append(("kept", num(kept)))
    facts.append(("roles", ", ".join(f"{role} {n}" for role, n in roles.items())))
    view = ValueView("chat", "chat messages", facts, messages=messages)
    if len(listed) > MAX_MESSAGES:
        view.cuts.append(f"the newest {MAX_MESSAGES} of the {num(len(listed))} kept shown here")
    if total is not None and kept is not None and kept < total:
        view.cuts.append(
            f"the newest {num(kept)} of {num(total)} messages kept: the oldest were dropped"
            " to fit the budget"
        )
    return view


def _mapping(data: dict[str, Any], declared: str, walk: Walk) -> ValueView:
    title = "pydantic · " + plain(data.get("class")) if data.get("type") == "pydantic" else ""
    keys = [str(k) for k in items(data.get("keys"))]
    count = number(data.get("count"))
    view = ValueView(str(data["type"]), title or "mapping")
    preview = data.get("preview")
    if isinstance(preview, dict):
        shown = [k for k in preview if k != "…"]
        view.facts.append(("keys", num(count if count is not None else len(shown))))
        view.entries = _entries(preview, walk)
        if "…" in preview:
            view.cuts.append(f"{plain(preview['…'])} keys not kept (the SDK keeps 100)")
    else:
        if keys:
            view.facts.append(("keys", ", ".join(keys)))
        _cut_json(view, preview, data)
    if count is not None and keys and count > len(keys) and not isinstance(preview, dict):
        view.cuts.append(f"the first {num(len(keys))} of {num(count)} keys listed")
    return view


def _sequence(data: dict[str, Any], declared: str, walk: Walk) -> ValueView:
    length = number(data.get("length"))
    view = ValueView("sequence", "sequence", [("items", num(length))])
    preview = data.get("preview")
    if isinstance(preview, list):
        kept = [v for v in preview if not (isinstance(v, str) and v.startswith("… "))]
        view.entries = _entries(dict(enumerate(kept)), walk)
        if length is not None and length > len(kept):
            view.cuts.append(f"the first {num(len(kept))} of {num(length)} items kept")
    else:
        _cut_json(view, preview, data)
    return view


def _arguments(data: dict[str, Any], declared: str, walk: Walk) -> ValueView:
    arguments = mapping(data.get("arguments"))
    view = ValueView("arguments", "arguments", [("arguments", num(len(arguments)))])
    view.entries = [
        (str(name), summary_view(arg, declared, walk.deeper()))
        for name, arg in list(arguments.items())[:MAX_ENTRIES]
    ]
    return view


def _filtered(data: dict[str, Any], declared: str, walk: Walk) -> ValueView:
    return ValueView(
        "filtered", "filtered", verdict=Verdict("not recorded: its name looks like a secret")
    )


_BUILDERS = {
    "text": _text,
    "bytes": _bytes,
    "image": _image,
    "array": _array,
    "chat": _chat,
    "mapping": _mapping,
    "pydantic": _mapping,
    "sequence": _sequence,
    "arguments": _arguments,
    "filtered": _filtered,
}


def _scalar(data: dict[str, Any]) -> ValueView:
    value = data.get("value")
    shown = value if isinstance(value, str) else _json(value)
    return ValueView("scalar", _SCALARS[str(data["type"])], preview=shown)


def _object(data: dict[str, Any], walk: Walk) -> ValueView:
    """An object of any other type: its class, and its fields as the SDK could read them."""
    view = ValueView("object", plain(data.get("type")) or "object")
    preview = data.get("preview")
    if isinstance(preview, dict):
        view.entries = _entries(preview, walk)
    else:
        _cut_json(view, preview, data)
    return view


# -- values inside previews --------------------------------------------------------------


def json_view(value: Any, walk: Walk | None = None) -> ValueView:
    """A plain JSON value of a preview: nested summaries (bytes, images, arrays) by what they
    are, containers holding one as entries, anything else as text or JSON.

    >>> json_view("").preview, json_view(0.5).inline
    ('"" (empty)', True)
    """
    walk = walk or Walk()
    if is_summary(value):
        return summary_view(value, "", walk.deeper())
    if value == "":
        return ValueView("value", "", preview='"" (empty)', inline=True)
    expand = walk.depth < MAX_DEPTH and isinstance(value, dict | list) and _holds_summary(value)
    if expand and walk.spend():
        pairs = value if isinstance(value, dict) else dict(enumerate(value))
        kind = "mapping" if isinstance(value, dict) else "sequence"
        return ValueView(kind, "", entries=_entries(pairs, walk))
    text = value if isinstance(value, str) else _json(value)
    return ValueView("value", "", preview=text, inline=len(text) <= _INLINE and "\n" not in text)


def is_summary(value: Any) -> bool:
    """A summary the SDK left inside a preview: bytes, an image or an array (a snapshot
    describes them so; any other dict with a `type` is the app's own data)."""
    if not isinstance(value, dict):
        return False
    kind = value.get("type")
    if kind == "bytes":
        return "size" in value and "mime" in value
    if kind == "array":
        return "shape" in value
    if kind == "image":
        return any(k in value for k in (*_IMAGE_FIELDS, "size", "url", "note"))
    return False


def _holds_summary(value: Any) -> bool:
    """Whether a summary is inside `value`, looking at no more than `_LOOK_NODES` of it."""
    pending, looked = [value], 0
    while pending and looked < _LOOK_NODES:
        node = pending.pop()
        looked += 1
        if is_summary(node):
            return True
        if isinstance(node, dict):
            pending += list(node.values())[:MAX_ENTRIES]
        elif isinstance(node, list):
            pending += node[:MAX_ENTRIES]
    return False


def _entries(pairs: dict[Any, Any], walk: Walk) -> list[tuple[str, ValueView]]:
    shown = [(k, v) for k, v in list(pairs.items())[: MAX_ENTRIES + 1] if k != "…"]
    return [(str(k), json_view(v, walk.deeper())) for k, v in shown[:MAX_ENTRIES]]


def _message(message: Any, walk: Walk) -> Message:
    data = mapping(message)
    if not data:
        return Message("?", _json(message))
    content = data.get("content")
    out = Message(plain(data.get("role")) or "?")
    if isinstance(content, str):
        out.text = content
    elif isinstance(content, list):
        texts = [
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        ]
        out.text = "\n".join(texts)
        out.parts = [
            json_view(p, walk.deeper())
            for p in content
            if not (isinstance(p, dict) and isinstance(p.get("text"), str))
        ]
    elif content is not None:
        out.text = _json(content)
    other = {k: v for k, v in data.items() if k not in ("role", "content")}
    if other:
        out.other = _json(other)
    return out


def _cut_json(view: ValueView, preview: Any, data: dict[str, Any]) -> None:
    """A preview the SDK had to cut to JSON text: shown as it is, saying how long it was."""
    if preview is not None:
        text = preview if isinstance(preview, str) else _json(preview)
        view.preview, cut = cut_preview(text, number(data.get("truncated_from")), "of JSON ")
        view.cuts += [cut] if cut else []


def _json(value: Any) -> str:
    """`value` as indented JSON, at most `_JSON_NODES` containers of it: a stored preview may
    be megabytes, or nest deeper than the encoder goes."""
    taken = Snapshot(nodes=_JSON_NODES, items=MAX_ENTRIES, chars=_JSON_CHARS).take(value)
    return json.dumps(taken, ensure_ascii=False, indent=1)


def _too_much() -> ValueView:
    return ValueView(
        "value", "", preview="… more than the page shows: see `inferwatch show ID --json`"
    )
