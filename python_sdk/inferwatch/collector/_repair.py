"""Values JSON can carry and the store cannot hold, repaired at ingest before the 200.

JSON allows a lone surrogate (`"\\ud800"`), integers of any size and, as Python reads it, `NaN`
and `Infinity`. SQLite refuses the first two in a column (the writer then drops the row, after
the sender was told it was stored), a page cannot encode a lone surrogate, and strict JSON
readers refuse the last two. So, as Sentry's Relay does when it normalizes an event, each such
value is replaced and the replacement recorded:

- a lone surrogate becomes U+FFFD (`!surrogate`);
- an integer outside SQLite's 64 bits is clamped to the nearest end (`!int64`), its digits kept;
- `NaN` and the infinities become `null` (`!nonfinite`), their spelling kept.

An event records them in `_meta`, the tree Relay uses for its own remarks, at the path of the
value: `{"_meta": {"extra": {"n": {"": {"rem": [["!int64", "s"]], "val": "1000…"}}}}}`.

>>> batch = {"message": "caf\\udce9", "tokens": 10**30}
>>> repairs = repair(batch)
>>> batch["message"], batch["tokens"] == INT64_MAX, [r.rule for r in repairs.recorded]
('caf\\ufffd', True, ['!surrogate', '!int64'])
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_RECORDED = 25  # repairs recorded one by one; past that, counted (`_meta` stays small)
_MAX_VAL_DIGITS = 64  # an original number longer than this is not kept in `val`

REASONS = {
    "!surrogate": "a lone surrogate was replaced with U+FFFD",
    "!int64": "an integer outside 64 bits was clamped",
    "!nonfinite": "NaN or an infinity was replaced with null",
}

# What, in the raw bytes, can become a value to repair: a surrogate escape (`\ud800`-`\udfff`),
# a surrogate encoded as UTF-8 (Python's `json` reads those with `surrogatepass`), `NaN` and
# `Infinity`, a run of 19 digits (2**63 has 19) and a number with a 3-digit exponent (`1e400` is
# inf). Most bodies have none, and the walk over their values is skipped. Each check is a
# substring search or a regex with a literal first character (a regex of alternatives with no
# common first character took 200 µs for a 4.5 KB event; these take a few).
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_UTF8_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")
# Numbers, found in a translation of the body: digits become 0, `e`/`E` e, what can come before
# a value (`:`, `,`, `[`) a colon, whitespace a space, `+-.` themselves, anything else x. A hex
# id in a string (`"4e123"`) then reads `x0e000` and is not taken for a number.


def _number_classes() -> bytes:
    table = bytearray(b"x" * 256)
    for chars, kind in ((b"0123456789", b"0"), (b"eE", b"e"), (b":,[", b":"), (b" \t\r\n", b" ")):
        for char in chars:
            table[char] = kind[0]
    for char in b"+-.":
        table[char] = char
    return bytes(table)


_NUMBERS = _number_classes()
_LONG_DIGITS = b"0" * 19
_ZERO = ord("0")
# A mantissa then an exponent of 3 digits or more, after what comes before a value. Searched
# only around each `e000`: one search over the whole body tried every colon, and took 50 µs.
_BIG_EXPONENT = re.compile(rb"[: ]-?0+(?:\.0*)?e\+?000")
_MANTISSA = 40  # longer ones hold a run of 19 digits, found above
_SURROGATE = re.compile("[\ud800-\udfff]")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Repair:
    """One value replaced: where, by which rule, and what it was (when that can be kept)."""

    path: Path
    rule: str
    original: str | None = None


@dataclass
class Repairs:
    """The repairs of one value: the first `MAX_RECORDED` in full, the rest counted."""

    recorded: list[Repair] = field(default_factory=list)
    unrecorded: int = 0

    def __bool__(self) -> bool:
        return bool(self.recorded) or self.unrecorded > 0

    def __len__(self) -> int:
        return len(self.recorded) + self.unrecorded

    def add(self, repair: Repair) -> None:
        if len(self.recorded) < MAX_RECORDED:
            self.recorded.append(repair)
        else:
            self.unrecorded += 1


def may_need_repair(raw: bytes) -> bool:
    """False when nothing parsed from `raw` can need a repair (most bodies): skip the walk."""
    if b"\\u" in raw and _ESCAPED_SURROGATE.search(raw):
        return True
    if b"\xed" in raw and _UTF8_SURROGATE.search(raw):
        return True
    if b"NaN" in raw or b"Infinity" in raw:
        return True
    numbers = raw.translate(_NUMBERS)
    return _long_integer(numbers) or _big_exponent(numbers)


def _long_integer(numbers: bytes) -> bool:
    """A run of 19 digits or more that starts a value (after `:`, `,`, `[` or a space, perhaps
    with a `-`): an integer. A run inside a string (`"0000…05"`, an id) follows a letter or a
    quote, and is not one."""
    at = numbers.find(_LONG_DIGITS)
    while at >= 0:
        start = at
        while start and numbers[start - 1] == _ZERO:
            start -= 1
        if numbers[start - 1 : start] == b"-":
            start -= 1
        if numbers[start - 1 : start] in (b":", b" "):
            return True
        end = at + len(_LONG_DIGITS)
        while end < len(numbers) and numbers[end] == _ZERO:
            end += 1
        at = numbers.find(_LONG_DIGITS, end)
    return False


def _big_exponent(numbers: bytes) -> bool:
    for marker in (b"e000", b"e+000"):
        at = numbers.find(marker)
        while at >= 0:
            if _BIG_EXPONENT.search(numbers, max(0, at - _MANTISSA), at + len(marker)):
                return True
            at = numbers.find(marker, at + 1)
    return False


def repair(value: dict[str, Any] | list[Any], *, clamp_ints: bool = True) -> Repairs:
    """Repair, in place, every value at any depth of parsed JSON `value`; dict keys too.

    `clamp_ints=False` leaves integers to a schema that bounds each number field itself (a
    clamped token count would be a wrong number, not a repaired one). Iterative, so any depth
    the JSON reader accepted is walked without recursion.
    """
    repairs = Repairs()
    stack: list[tuple[dict[str, Any] | list[Any], Path]] = [(value, ())]
    while stack:
        container, path = stack.pop()
        if isinstance(container, dict):
            _repair_keys(container, path, repairs)
            entries: Any = list(container.items())
        else:
            entries = enumerate(container)
        for key, item in entries:
            if isinstance(item, dict | list):
                stack.append((item, (*path, key)))
                continue
            fixed = None if type(item) is int and not clamp_ints else _fixed(item)
            if fixed is not None:
                container[key], rule, original = fixed
                repairs.add(Repair((*path, key), rule, original))
    return repairs


def _repair_keys(mapping: dict[str, Any], path: Path, repairs: Repairs) -> None:
    """Keys with lone surrogates replaced, in their order (a dict cannot rename in place)."""
    if all(key.isascii() or not _SURROGATE.search(key) for key in mapping):
        return
    items = list(mapping.items())
    mapping.clear()
    for key, item in items:
        if not key.isascii() and _SURROGATE.search(key):
            key = _SURROGATE.sub("\ufffd", key)
            repairs.add(Repair((*path, key), "!surrogate"))
        mapping[key] = item


def _fixed(value: Any) -> tuple[Any, str, str | None] | None:
    """(replacement, rule, original kept) for a scalar that needs a repair, else None."""
    kind = type(value)
    if kind is str:
        if value.isascii() or not _SURROGATE.search(value):
            return None
        return _SURROGATE.sub("\ufffd", value), "!surrogate", None
    if kind is int:
        if INT64_MIN <= value <= INT64_MAX:
            return None
        digits = str(value) if value.bit_length() < 4 * _MAX_VAL_DIGITS else None
        kept = digits if digits is not None and len(digits) <= _MAX_VAL_DIGITS else None
        return (INT64_MAX if value > 0 else INT64_MIN), "!int64", kept
    if kind is float and not math.isfinite(value):
        return (
            None,
            "!nonfinite",
            "NaN" if math.isnan(value) else repr(value).replace("inf", "Infinity"),
        )
    return None


def add_meta(event: dict[str, Any], repairs: Repairs) -> None:
    """Record `repairs` in `event["_meta"]` as Relay records its own remarks: a substitution
    remark (`"s"`) at each repaired path, and the original in `val` when it was kept."""
    meta = event.get("_meta")
    if not isinstance(meta, dict):
        meta = event["_meta"] = {}
    for done in repairs.recorded:
        if done.path[:1] == ("_meta",):
            continue  # the sender's own remarks: repaired, not remarked upon
        own = _own_meta(meta, done.path)
        own["rem"] = [*_list(own.get("rem")), [done.rule, "s"]]
        if done.original is not None:
            own["val"] = done.original
    if repairs.unrecorded:
        own = _own_meta(meta, ())
        reason = f"{repairs.unrecorded} more values were repaired"
        own["err"] = [*_list(own.get("err")), ["invalid_data", {"reason": reason}]]


def processing_errors(repairs: Repairs) -> list[dict[str, Any]]:
    """`repairs` as entries of an event's `errors` (for data whose paths are not the event's,
    such as a browser batch's): the path named, the reason said, no value repeated."""
    out: list[dict[str, Any]] = [
        {"type": "invalid_data", "name": ".".join(map(str, r.path)), "reason": REASONS[r.rule]}
        for r in repairs.recorded
    ]
    if repairs.unrecorded:
        reason = f"{repairs.unrecorded} more values were repaired"
        out.append({"type": "invalid_data", "reason": reason})
    return out


def _own_meta(meta: dict[str, Any], path: Path) -> dict[str, Any]:
    node = meta
    for part in path:
        child = node.get(str(part))
        if not isinstance(child, dict):
            child = node[str(part)] = {}
        node = child
    own = node.get("")
    if not isinstance(own, dict):
        own = node[""] = {}
    return own


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
