"""A bounded, JSON-ready copy of any value, made without trusting it.

Model inputs are whatever the app passes: cyclic dicts, a list that contains itself three
times, a million keys, objects whose `shape` is an endless iterator or whose `repr` blocks. A
snapshot visits each object once (a second visit is `[cycle]` or `[seen above]`), stops at a
node budget and at a number of items a container, cuts long strings, and reads objects only in
ways that cannot run for long: the items of built-in containers, the fields of dataclasses and
pydantic models, an object's own `__dict__`, a bounded number of items of any other collection.
It never calls `repr` or `__len__` of a type it does not know, never trusts a duck-typed array's
`shape`, and never consumes an iterator (that would change what the app sees).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import fractions
import pathlib
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from itertools import islice
from typing import Any

from ._media import describe_array, describe_bytes, image_info, is_array, is_pil_image, number
from ._redact import truncate

# Types whose `str` is cheap, bounded and says what the value is.
_BY_STR = (
    datetime.date,
    datetime.time,
    datetime.timedelta,
    decimal.Decimal,
    fractions.Fraction,
    uuid.UUID,
    pathlib.PurePath,
    complex,
    range,
)
_SEQUENCES: tuple[Any, ...] = (list, tuple, set, frozenset)
CYCLE, SEEN = "[cycle]", "[seen above]"


class Snapshot:
    """One bounded walk: `nodes` containers and objects at most, `items` a container,
    `chars` a string, `depth` levels.

    >>> d = {"a": 1}; d["self"] = d
    >>> Snapshot().take(d)
    {'a': 1, 'self': '[cycle]'}
    """

    def __init__(
        self, *, nodes: int = 500, items: int = 100, chars: int = 10_000, depth: int = 20
    ) -> None:
        self.nodes, self.items, self.chars, self.depth = nodes, items, chars, depth
        self.cut = 0  # containers and objects left out because the node budget was spent
        self._visited: set[int] = set()
        self._path: set[int] = set()

    def take(self, value: Any, depth: int = 0) -> Any:
        """`value` as JSON can carry it, within the budgets."""
        kind = type(value)
        if value is None or kind is bool or kind is int:
            return value
        if kind is str:
            return truncate(value, self.chars)
        if kind is float:
            return number(value)
        if isinstance(value, enum.Enum):
            return f"{type(value).__name__}.{value.name}"
        if isinstance(value, str | int | float):  # subclasses: their own methods may be anything
            return self.take(_plain(value), depth)
        if self.nodes <= 0:
            self.cut += 1
            return "[…]"
        if isinstance(value, bytes | bytearray | memoryview):
            self.nodes -= 1
            return describe_bytes(value)
        if depth >= self.depth:
            return "[too deep]"
        key = id(value)
        if key in self._visited:
            return CYCLE if key in self._path else SEEN
        self.nodes -= 1
        self._visited.add(key)
        self._path.add(key)
        try:
            return self._container(value, depth)
        finally:
            self._path.discard(key)

    def _container(self, value: Any, depth: int) -> Any:
        # The built-in types' own methods, not the instance's: a subclass may override them.
        if isinstance(value, dict):
            return self.mapping(dict.items(value), dict.__len__(value), depth)
        for cls in _SEQUENCES:
            if isinstance(value, cls):
                return self.sequence(cls.__iter__(value), cls.__len__(value), depth)
        return self._object(value, depth)

    def mapping(self, items: Iterable[Any], count: int | None, depth: int) -> dict[str, Any]:
        """The first pairs of `items` (key, value); `count` None when unknown."""
        pairs = list(islice(items, self.items + 1))
        out = {self.key(k): self.take(v, depth + 1) for k, v in pairs[: self.items]}
        if len(pairs) > self.items:
            out["…"] = f"{count - self.items} more" if count is not None else "more"
        return out

    def sequence(self, values: Iterable[Any], count: int | None, depth: int) -> list[Any]:
        pulled = list(islice(values, self.items + 1))
        out = [self.take(v, depth + 1) for v in pulled[: self.items]]
        if len(pulled) > self.items:
            out.append(f"… {count - self.items} more" if count is not None else "… more")
        return out

    def key(self, key: Any) -> str:
        if type(key) is str:
            return key[:200]
        taken = self.take(key, self.depth - 1)
        return taken[:200] if isinstance(taken, str) else type(key).__name__

    def _object(self, value: Any, depth: int) -> Any:
        if isinstance(value, _BY_STR):
            return truncate(str(value), self.chars)
        if isinstance(value, BaseException):
            return {"type": type(value).__name__, "args": self.take(value.args, depth + 1)}
        if is_array(value):
            return describe_array(value)
        if is_pil_image(value):
            return {"type": "image", **image_info(value)}
        fields = object_fields(value)
        if fields is not None:
            return self.mapping(((n, _attribute(value, n)) for n in fields), len(fields), depth)
        if isinstance(value, Iterator):
            return f"<{type(value).__name__}: not read>"  # reading it would consume it
        if isinstance(value, Mapping):
            return self.mapping(value.items(), None, depth)
        if isinstance(value, Sequence | Set):
            return self.sequence(value, None, depth)
        own = _own_dict(value)
        if own:
            return self.mapping(dict.items(own), len(own), depth)
        return f"<{type(value).__name__}>"


def object_fields(value: Any) -> list[str] | None:
    """The field names of a dataclass instance or a pydantic model, or None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [f.name for f in dataclasses.fields(value)]
    model_fields = getattr(type(value), "model_fields", None)
    if isinstance(model_fields, dict) and hasattr(value, "__pydantic_fields_set__"):
        return [str(name) for name in model_fields]
    return None


def _plain(value: str | int | float) -> str | int | float:
    """A subclass's value as the built-in type holds it, whatever the subclass overrides."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    return float.__float__(value)


def _attribute(value: Any, name: str) -> Any:
    try:
        return object.__getattribute__(value, name)
    except Exception:
        return "[unreadable]"


def _own_dict(value: Any) -> dict[str, Any] | None:
    try:
        own = object.__getattribute__(value, "__dict__")
    except Exception:
        return None
    return own if type(own) is dict else None
