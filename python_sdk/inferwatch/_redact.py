"""Value-level redaction and size budgets, applied before anything leaves the process.

sentry-sdk neither scrubs nor trims `contexts`, and model input is where users paste secrets,
so every string inferwatch records passes through `redact_text` (the rules of `_patterns`), and
every mapping key, header, cookie and `[key, value]` pair through the key rules of `_keys`.
Values under a secret key are filtered in place, keeping the shape Sentry's schema expects: a
mapping stays a mapping with its values filtered, a pair list a pair list.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ._keys import KeyKind, is_sensitive_key, key_kind
from ._patterns import FILTERED, Work, is_card_number, scrub
from ._types import Mask

__all__ = [
    "FILTERED",
    "Work",
    "filtered",
    "is_sensitive_key",
    "redact",
    "redact_query",
    "redact_text",
    "redact_url",
    "truncate",
]


def redact_text(text: str, mask: Mask | None = None, work: Work | None = None) -> str:
    """Replace emails, keys, tokens, card and phone numbers in `text`, and the values of
    `name=value` pairs whose name is sensitive.

    >>> redact_text("mail bob@example.com key sk-abcdefghijklmnopqrstu")
    'mail [email] key [api_key]'
    >>> redact_text("GET /reset?password=hunter2&next=/home")
    'GET /reset?password=[Filtered]&next=/home'
    >>> redact_text("input_value={'password': 'hunter 2'}")
    "input_value={'password': '[Filtered]'}"
    """
    out = text if len(text) < _SHORTEST or text in _CLEAN else _scrub(text, work)
    if mask is not None:
        try:
            out = str(mask(out))
        except Exception:
            out = FILTERED
    return out


# Short strings that no rule changed. File and function names, levels and messages repeat from
# event to event; a set lookup is ~20x cheaper than the tests. It holds only text with nothing to
# redact in it, so it keeps no secret in memory; it is emptied when full.
_CLEAN: set[str] = set()
_CLEAN_MAX_ITEMS, _CLEAN_MAX_CHARS = 4096, 200
_SHORTEST = 6  # characters of the shortest text a rule changes: an email like a@b.io


def _scrub(text: str, work: Work | None) -> str:
    out = scrub(text, work)
    if out == text and len(text) <= _CLEAN_MAX_CHARS:
        if len(_CLEAN) >= _CLEAN_MAX_ITEMS:
            _CLEAN.clear()
        _CLEAN.add(text)
    return out


@functools.lru_cache(maxsize=4096)
def _key(key: str) -> tuple[str, KeyKind]:
    """A mapping key as kept (keys are data too: `{"bob@example.com": 3}`) and what it names.
    Keys repeat from event to event (`filename`, `lineno`), hence the cache; the `mask` hook is
    for values only."""
    return redact_text(key), key_kind(key)


def _key_of(key: Any, work: Work) -> tuple[Any, KeyKind]:
    if type(key) is not str:
        return key, _PLAIN
    if len(key) > 100:  # anyone can send a long key: not kept in the cache
        return redact_text(key, None, work), key_kind(key)
    return _key(key)


# A module constant: reading `KeyKind.PLAIN` goes through the enum class (~0.1 µs), and a walk
# compares every key of an event with it.
_PLAIN = KeyKind.PLAIN


# Exact types that pass unchanged. `type(v) in` a set, not `isinstance` with a union: the union
# checks cost 0.1-0.2 µs each, and an event has hundreds of values.
_LEAVES = frozenset([float, bool, type(None)])
_PAIR_TYPES = (list, tuple)  # what a `[key, value]` pair may be
_CARD_MIN = 10**12  # the smallest integer with 13 digits, the shortest card number


def redact(value: Any, mask: Mask | None = None, work: Work | None = None) -> Any:
    """Redact strings at any depth of JSON-like data; values under secret keys (in mappings
    and in `[key, value]` pair lists) are filtered; integers that are card numbers too.

    One `work` is shared by every part of one event: past its budget, text is cut, not scanned.
    """
    return _walk(value, mask, Work() if work is None else work, 0)


def _walk(value: Any, mask: Mask | None, work: Work, depth: int) -> Any:
    kind = type(value)
    if kind is str:
        return redact_text(value, mask, work)
    if kind is int:
        return _int(value)
    if kind in _LEAVES:
        return value
    if depth > 20:
        return "[too deep]"
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        return _mapping(value, mask, work, depth)
    if kind is list or isinstance(value, list | tuple):
        if value and type(value[0]) in _PAIR_TYPES and _is_pairs(value):
            return [_pair(p, mask, work, depth) for p in value]
        if mask is None:  # most items: short strings already known clean (source lines)
            return [
                v
                if type(v) is str and (len(v) < _SHORTEST or v in _CLEAN)
                else _walk(v, mask, work, depth + 1)
                for v in value
            ]
        return [_walk(v, mask, work, depth + 1) for v in value]
    if isinstance(value, str):
        return redact_text(value, mask, work)
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(int(value))
    return value


def _int(value: int) -> int | str:
    if -_CARD_MIN < value < _CARD_MIN or not is_card_number(str(abs(value))):
        return value
    return "[card]"


def _mapping(value: Mapping[Any, Any], mask: Mask | None, work: Work, depth: int) -> Any:
    out = {}
    for k, v in value.items():
        # `_key_of`'s common case inline: a call less for each key of an event
        name, kind = _key(k) if type(k) is str and len(k) <= 100 else _key_of(k, work)
        member = type(v)
        if kind is not _PLAIN:
            out[name] = filtered(v, kind, name)
        elif member is str:  # most values: a short string already known clean
            clean = mask is None and (len(v) < _SHORTEST or v in _CLEAN)
            out[name] = v if clean else redact_text(v, mask, work)
        elif member in _LEAVES or (member is int and -_CARD_MIN < v < _CARD_MIN):
            out[name] = v
        else:
            out[name] = _walk(v, mask, work, depth + 1)
    return out


def _is_pairs(value: list[Any] | tuple[Any, ...]) -> bool:
    """`[["X-Api-Key", "..."], ...]`: how Sentry's protocol may carry headers, cookies, the
    query string and the environment."""
    return bool(value) and all(
        type(p) in _PAIR_TYPES and len(p) == 2 and type(p[0]) is str for p in value
    )


def _pair(pair: Any, mask: Mask | None, work: Work, depth: int) -> list[Any]:
    name, kind = _key_of(pair[0], work)
    if kind is not _PLAIN:
        return [name, filtered(pair[1], kind, name)]
    return [name, _walk(pair[1], mask, work, depth + 1)]


def filtered(value: Any, kind: KeyKind = KeyKind.SECRET, name: str = "") -> Any:
    """`value` as kept under a secret key: same shape, nothing of its content but its keys.

    >>> filtered({"sessionid": "abc", "theme": "dark"})
    {'sessionid': '[Filtered]', 'theme': '[Filtered]'}
    >>> filtered("a=1; b=2", name="Cookie")
    'a=[Filtered]; b=[Filtered]'
    """
    return _filtered(value, kind, "cookie" in name.lower(), 0)


def _filtered(value: Any, kind: KeyKind, cookie: bool, depth: int) -> Any:
    if value is None or type(value) is bool:
        return value
    if kind is KeyKind.COUNT and type(value) in (int, float):
        return _int(value) if type(value) is int else value
    if depth > 20:
        return FILTERED
    if isinstance(value, Mapping):
        return {_short_key(k): _filtered(v, kind, cookie, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if _is_pairs(value):
            return [[_short_key(k), _filtered(v, kind, cookie, depth + 1)] for k, v in value]
        return [_filtered(v, kind, cookie, depth + 1) for v in value]
    if cookie and isinstance(value, str) and "=" in value:
        names = (part.split("=", 1)[0].strip() for part in value.split(";"))
        return "; ".join(f"{redact_text(n)}={FILTERED}" for n in names if n)
    return FILTERED


def _short_key(key: Any) -> Any:
    return redact_text(key[:200]) if isinstance(key, str) else key


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text)} chars]"


def redact_query(query: str, mask: Mask | None = None) -> str:
    """A query string with the values of sensitive parameters filtered and the rest redacted.

    >>> redact_query("token=abc&q=hi")
    'token=%5BFiltered%5D&q=hi'
    """
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [(k, FILTERED if is_sensitive_key(k) else redact_text(v, mask)) for k, v in pairs]
    )


def redact_url(url: str, mask: Mask | None = None) -> str:
    """A URL whose query string went through `redact_query` and the rest through `redact_text`."""
    parts = urlsplit(url)
    if not parts.query:
        return redact_text(url, mask)
    return redact_text(urlunsplit(parts._replace(query=redact_query(parts.query, mask))), mask)
