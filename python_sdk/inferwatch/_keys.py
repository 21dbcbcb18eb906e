"""Which mapping keys (and header, cookie and query parameter names) name a secret.

A key is folded (case and separators dropped: `X-CSRFToken` → `xcsrftoken`) and searched for the
words of Sentry's data scrubbing defaults (Relay's `@password` rule: `password`, `secret`,
`passwd`, `api_key`, `auth`, `credentials`, `mysql_pwd`, `private_key`, `token`, `otp`,
`two_factor`) and of sentry-python's denylist (`session`, `csrf`, `cookie`, `jwt`, ...), anywhere
in the key: `newpassword`, `accesstoken` and `PHPSESSID` are secrets. Short words that are parts
of ordinary ones (`pass` in `compass`, `pin` in `pinned`) count only as whole words.

Two deliberate departures from Relay, both to keep what is safe readable:
- Keys about token *counts* (`max_tokens`, `input_tokens`, `prompt_tokens_details`, every word of
  them a count word) are `COUNT` keys: their numbers are kept, their strings filtered.
- `author` (and `authors`, `authored`, `authorship`) names a person, not an authorization.
"""

from __future__ import annotations

import functools
import re
from enum import IntEnum


class KeyKind(IntEnum):
    PLAIN = 0
    SECRET = 1
    COUNT = 2  # a count of tokens: numbers kept, strings filtered


# Found anywhere in the folded key.
_ANYWHERE = (
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "auth",
    "credential",
    "apikey",
    "privatekey",
    "accesskey",
    "signingkey",
    "encryptionkey",
    "session",
    "sessid",
    "csrf",
    "xsrf",
    "cookie",
    "jwt",
    "bearer",
    "signature",
    "mysqlpwd",
    "twofactor",
)
# Whole words only (after splitting on separators and camelCase).
_WORDS = frozenset(["pass", "pwd", "pin", "ssn", "cvv", "cvv2", "cvc", "otp", "mfa", "sid", "dsn"])
# Words a key about token counts is made of, at least one of them a counting word (`tokens`,
# `max`, `count`...): any other word makes a `token` key a secret, and so does `token` alone.
_COUNTING = frozenset({
    "tokens", "tokenizer", "max", "min", "num", "number", "count", "counts", "total", "limit",
    "limits", "remaining", "budget", "length", "len", "usage", "used", "estimated", "time",
})  # fmt: skip
# `gen`, `ai`, `time`, `to`, `first`: the GenAI conventions' `gen_ai.usage.input_tokens` and
# `gen_ai.response.time_to_first_token` (span data sent to Sentry) are counts and seconds too.
_COUNT_WORDS = _COUNTING | {
    "token", "input", "output", "prompt", "completion", "cached", "cache", "reasoning", "audio",
    "text", "image", "new", "details", "per", "minute", "second", "request", "response",
    "context", "window", "generated", "llm", "model", "gen", "ai", "to", "first",
}  # fmt: skip
_AUTHOR_WORDS = frozenset(["author", "authors", "authored", "authoring", "authorship"])
_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def key_kind(key: str) -> KeyKind:
    """What a key says about its value.

    >>> key_kind("X-Api-Key"), key_kind("max_tokens"), key_kind("model")
    (<KeyKind.SECRET: 1>, <KeyKind.COUNT: 2>, <KeyKind.PLAIN: 0>)
    """
    # Keys repeat from event to event; a long one (anyone can send one) is not kept in memory.
    return _cached_kind(key) if len(key) <= 100 else _kind(key)


@functools.lru_cache(maxsize=8192)
def _cached_kind(key: str) -> KeyKind:
    return _kind(key)


def _kind(key: str) -> KeyKind:
    words = [w.lower() for w in _SPLIT.split(key) if w]
    folded = "".join(w for w in words if w not in _AUTHOR_WORDS)
    if any(w in _WORDS for w in words):
        return KeyKind.SECRET
    hits = [needle for needle in _ANYWHERE if needle in folded]
    if not hits:
        return KeyKind.PLAIN
    if hits == ["token"] and all(w in _COUNT_WORDS for w in words) and _COUNTING & set(words):
        return KeyKind.COUNT
    return KeyKind.SECRET


def is_sensitive_key(key: str) -> bool:
    """Whether a key names a secret (`password`, `X-Api-Key`, `accesstoken`, `PHPSESSID`, ...).

    >>> is_sensitive_key("refresh_token"), is_sensitive_key("max_tokens")
    (True, False)
    """
    return key_kind(key) is KeyKind.SECRET
