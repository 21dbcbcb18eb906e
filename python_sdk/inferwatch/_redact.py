"""Value-level redaction and size budgets, applied before anything leaves the process.

sentry-sdk neither scrubs nor trims `contexts`, and model input is where users paste secrets,
so every string inferwatch records passes through `redact_text`, and every mapping key through
the denylist in `is_sensitive_key`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ._types import Mask

FILTERED = "[Filtered]"

_DIGIT_RUN = re.compile(r"\d[\d ().+-]{8,}\d")


# (kind, plain substrings one of which must be in the text before the regex runs, or None for a
# run of digits, regex): most strings skip every regex. Substring tests, not a regex alternation:
# `in` scans 10,000 characters ~15x faster than an alternation of the same needles.
# Every pattern may only start where a token starts (a look-behind for its own characters): a
# match that could start anywhere in a long run of its characters costs quadratic time, and
# these strings come from anyone who can send an event.
_RULES: list[tuple[str, tuple[str, ...] | None, re.Pattern[str]]] = [
    (
        "jwt",
        ("eyJ",),
        re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[\w-]+"),
    ),
    ("bearer", ("earer", "EARER"), re.compile(r"\b[Bb](?i:earer)\s+[\w\-.~+/]{8,}=*")),
    ("credentials", ("asic", "ASIC"), re.compile(r"\b[Bb](?i:asic)\s+[A-Za-z0-9+/]{8,}={0,2}")),
    # user:password@ in a URL (`postgres://admin:pw@db/app`)
    ("credentials", ("://",), re.compile(r"(?<=://)[^/\s:@]{1,128}:[^/\s@]{1,256}(?=@)")),
    (
        "api_key",
        ("k-", "AKIA", "ASIA", "ghp", "gho", "ghs", "ghu", "github_pat", "glpat", "xox", "AIza"),
        re.compile(
            r"(?<![\w-])(?:[sprk]k-(?:[A-Za-z0-9]+-)?[\w-]{16,}|(?:AKIA|ASIA)[0-9A-Z]{16}\b"
            r"|(?:ghp|gho|ghs|ghu|github_pat|glpat|xox[abprs])[-_][\w-]{16,}|AIza[\w-]{35})"
        ),
    ),
    (
        "email",
        ("@",),
        re.compile(
            r"(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"
        ),
    ),
    ("card", None, re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")),
    (
        "phone",
        None,
        re.compile(
            r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])"
            r"\d{3,4}[ .-]\d{3,4}(?![\w-])"
        ),
    ),
]

_SENSITIVE_WORDS = frozenset(
    [
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "secrets",
        "token",
        "auth",
        "authorization",
        "cookie",
        "cookies",
        "credential",
        "credentials",
        "csrf",
        "xsrf",
        "ssn",
        "cvv",
        "cvc",
        "apikey",
        "signature",
    ]
)
_SENSITIVE_JOINED = ("apikey", "api_key", "privatekey", "secretkey", "accesskey", "setcookie")
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])")


def is_sensitive_key(key: str) -> bool:
    """Whether a mapping key names a secret (`password`, `X-Api-Key`, `refresh_token`, ...).

    >>> is_sensitive_key("refresh_token"), is_sensitive_key("max_tokens")
    (True, False)
    """
    words = {w.lower() for w in _WORD_SPLIT.split(key) if w}
    if words & _SENSITIVE_WORDS:
        return True
    joined = key.lower().replace("-", "_")
    return any(part in joined or part in joined.replace("_", "") for part in _SENSITIVE_JOINED)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    return "[card]" if _luhn_ok(re.sub(r"\D", "", match.group())) else match.group()


# `name=value`, `name: value`, `"name": "value"` inside a string: a URL's query, a log line, the
# repr of a dict or of a pydantic error (`input_value={'password': 'hunter2'}`).
_SECRET_WORD = (
    r"(?i:pass|pwd|secret|token|auth|cookie|credential|csrf|xsrf|ssn|cvv|cvc|api.?key|signature"
    r"|private)"
)
# The name must hold a secret word: a name that does not (`https:` of a URL) must not consume the
# text after it, where `?api_key=` may follow.
_NAMED_VALUE = re.compile(
    rf"""(?<![\w.\[\]-])(["']?)([\w.\[\]-]{{0,64}}{_SECRET_WORD}[\w.\[\]-]{{0,64}})\1[ \t]*[:=][ \t]*"""
    r"""(?:"(?P<dq>[^"\n]{1,500})"|'(?P<sq>[^'\n]{1,500})'|(?P<bare>[^\s&#"'<>,;}\][][^\s&#"'<>,;}\]]*))"""
)
# Plain substrings of the lower-cased text, a superset of `_SECRET_WORD` ("key" for api.?key):
# a case-insensitive regex alternation scans a 230-character prompt ~20x slower than this.
_SECRET_HINTS = (
    "pass", "pwd", "secret", "token", "auth", "cookie", "credential", "csrf", "xsrf", "ssn",
    "cvv", "cvc", "key", "signature", "private",
)  # fmt: skip


def _contains_any(text: str, needles: tuple[str, ...]) -> bool:
    for needle in needles:  # noqa: SIM110 - `any()` over a generator is twice as slow on short text
        if needle in text:
            return True
    return False


def _named_value(match: re.Match[str]) -> str:
    group = next(g for g in ("dq", "sq", "bare") if match.group(g) is not None)
    value = match.group(group)
    if not is_sensitive_key(match.group(2)) or value in (FILTERED, "%5BFiltered%5D"):
        return match.group(0)
    start, end = match.start(group) - match.start(), match.end(group) - match.start()
    return match.group(0)[:start] + FILTERED + match.group(0)[end:]


def redact_text(text: str, mask: Mask | None = None) -> str:
    """Replace emails, keys, tokens, card and phone numbers in `text`, and the values of
    `name=value` pairs whose name is sensitive.

    >>> redact_text("mail bob@example.com key sk-abcdefghijklmnopqrstu")
    'mail [email] key [api_key]'
    >>> redact_text("GET /reset?password=hunter2&next=/home")
    'GET /reset?password=[Filtered]&next=/home'
    >>> redact_text("input_value={'password': 'hunter 2'}")
    "input_value={'password': '[Filtered]'}"
    """
    out = text if len(text) < _SHORTEST or text in _CLEAN else _redact_rules(text)
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


def _redact_rules(text: str) -> str:
    out = text
    for kind, needles, regex in _RULES:
        hit = _DIGIT_RUN.search(out) if needles is None else _contains_any(out, needles)
        if hit:
            out = regex.sub(_card if kind == "card" else f"[{kind}]", out)
    if _contains_any(out.lower(), _SECRET_HINTS):
        out = _NAMED_VALUE.sub(_named_value, out)
    if out == text and len(text) <= _CLEAN_MAX_CHARS:
        if len(_CLEAN) >= _CLEAN_MAX_ITEMS:
            _CLEAN.clear()
        _CLEAN.add(text)
    return out


@functools.lru_cache(maxsize=4096)
def _key(key: str) -> tuple[str, bool]:
    """A mapping key as kept (keys are data too: `{"bob@example.com": 3}`) and whether it names
    a secret. Keys repeat from event to event (`filename`, `lineno`), hence the cache; the
    `mask` hook is for values only."""
    return redact_text(key), is_sensitive_key(key)


# Exact types that pass unchanged. `type(v) in` a set, not `isinstance` with a union: the union
# checks cost 0.1-0.2 µs each, and an event has hundreds of values.
_LEAVES = frozenset([int, float, bool, type(None)])


def redact(value: Any, mask: Mask | None = None, *, _depth: int = 0) -> Any:
    """Redact strings at any depth of JSON-like data; values under sensitive keys are filtered."""
    kind = type(value)
    if kind is str:
        return redact_text(value, mask)
    if kind in _LEAVES:
        return value
    if _depth > 20:
        return "[too deep]"
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        out = {}
        for k, v in value.items():
            name, sensitive = _key(k) if isinstance(k, str) else (k, False)
            member = type(v)
            if sensitive and v is not None:
                out[name] = FILTERED
            elif member is str:  # most values: a short string already known clean
                clean = mask is None and (len(v) < _SHORTEST or v in _CLEAN)
                out[name] = v if clean else redact_text(v, mask)
            elif member in _LEAVES:
                out[name] = v
            else:
                out[name] = redact(v, mask, _depth=_depth + 1)
        return out
    if kind is list or isinstance(value, list | tuple):
        return [redact(v, mask, _depth=_depth + 1) for v in value]
    if isinstance(value, str):
        return redact_text(value, mask)
    return value


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
