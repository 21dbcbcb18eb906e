"""Secrets found by what they look like in text, in time linear in the text's length.

Anyone who can send an event chooses the text scanned here, so no rule may backtrack: every
regex starts only where a run of its first characters starts (a look-behind for those
characters), and each quantified run is followed by a character outside it, so the engine
gives a run back at most once and each character is looked at a bounded number of times.
What a regex cannot say in that form (Luhn and IBAN checksums, a top-level domain, PEM blocks,
`name=value` pairs) is checked in Python on the candidate it found. `Work` caps how much text
one event may have scanned, as a backstop.

The rules cover Sentry's server-side defaults (Relay's `@common`: credit cards, IBANs, PEM keys,
URL credentials, US SSNs, password-like keys, bearer tokens) and more: emails (Unicode too),
JWTs, provider API keys, phone numbers.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from ._keys import KeyKind, key_kind

FILTERED = "[Filtered]"


@dataclass
class Work:
    """Characters one event may have scanned; past `limit` the rest of a field is cut.

    >>> work = Work(limit=10); scrub("a" * 25, work).endswith("not scanned]")
    True
    """

    limit: int = 4 * 1024 * 1024
    used: int = 0
    cut: int = 0

    def allow(self, text: str) -> str:
        """`text`, or as much of it as the budget allows, cut where a word ends."""
        left = self.limit - self.used
        if len(text) <= left:
            self.used += len(text)
            return text
        end = max(text.rfind(" ", max(0, left - 256), left), text.rfind("\n", 0, left), 0)
        self.used = self.limit
        self.cut += len(text) - end
        return text[:end] + f"… [{len(text) - end} chars not scanned]"


def _sub(pattern: str, replace: str | Callable[[re.Match[str]], str]) -> Callable[[str], str]:
    regex = re.compile(pattern)
    return lambda text: regex.sub(replace, text)


# Runs of digit groups that stand alone: digits inside a word (a hex request id, a UUID) are not
# a card, even when they pass the Luhn check (one run in ten does).
_GROUPS = re.compile(r"(?<!\w)\d+(?:[ -]\d+)*(?!\w)")
_VALUES = bytes.maketrans(b"0123456789", bytes(range(10)))
_DOUBLED = bytes.maketrans(b"0123456789", bytes(2 * d if d < 5 else 2 * d - 9 for d in range(10)))


def is_card_number(digits: str) -> bool:
    """13-19 digits of a card network's range (2-6) that pass the Luhn check."""
    if not (13 <= len(digits) <= 19 and digits[0] in "23456"):
        return False
    return sum(_luhn_weights(digits)[(len(digits) - 1) & 1]) % 10 == 0


def _luhn_weights(digits: str) -> tuple[bytes, bytes]:
    """What each digit adds to a Luhn sum, for windows whose last digit is at an even position
    (first) and at an odd one (second): the last digit is kept, the one before it doubled, and
    so on leftwards, a doubled digit counting the sum of its digits (7 -> 14 -> 5). The sum of
    a window is then `sum(weights[start:end])`, a C loop. Made by C loops: a run is anyone's."""
    ascii_digits = digits.encode("ascii")
    values, doubled = ascii_digits.translate(_VALUES), ascii_digits.translate(_DOUBLED)
    ends_even, ends_odd = bytearray(values), bytearray(doubled)
    ends_even[1::2], ends_odd[1::2] = doubled[1::2], values[1::2]
    return bytes(ends_even), bytes(ends_odd)


_SEPARATOR = re.compile(r"[ -]")


def _cards(text: str) -> str:
    """Card numbers in runs of digit groups (`4111 1111 1111 1111`, `4111-1111-...`): any
    groups of a run whose digits are a card, so a card with groups before or after it in the
    same run (`2 4111 1111 1111 1111 5`) is found too."""
    spans: list[tuple[int, int]] = []
    for run in _GROUPS.finditer(text):
        if run.end() - run.start() >= 13:
            spans.extend((run.start() + a, run.start() + b) for a, b in _cards_in(run.group()))
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        out.append(text[at:start] + "[card]")
        at = end
    out.append(text[at:])
    return "".join(out)


def _cards_in(run: str) -> list[tuple[int, int]]:
    """(start, end) in `run` (digit groups, one separator between two) of each card in it.
    Every step is a C loop except one short Python loop a group: a run is anyone's text."""
    lengths = list(map(len, _SEPARATOR.split(run)))
    digits = run.replace(" ", "").replace("-", "")
    ends = list(accumulate(lengths))  # digits up to the end of each group
    weights, spans, g, count = _luhn_weights(digits), [], 0, len(lengths)
    while g < count:
        first = ends[g] - lengths[g]
        # A card's first four digits are written together (as Relay's rule has them).
        if lengths[g] >= 4 and digits[first] in "23456":
            low, high = bisect_left(ends, first + 13, g), bisect_right(ends, first + 19, g)
            for h in range(high - 1, low - 1, -1):  # the longest card first
                end = ends[h]
                if sum(weights[(end - 1) & 1][first:end]) % 10 == 0:
                    # A group's text ends after its digits and the separators before it.
                    spans.append((first + g, end + h))
                    g = h
                    break
        g += 1
    return spans


def _email(match: re.Match[str]) -> str:
    """An address whose domain ends in a label of letters; what follows that label is kept."""
    local, _, domain = match.group().partition("@")
    labels = domain.split(".")
    while labels and not (len(labels[-1]) >= 2 and labels[-1].isalpha()):
        labels.pop()
    if len(labels) < 2 or not all(labels) or len(local.strip(".")) == 0:
        return match.group()
    kept = ".".join(labels)
    return "[email]" + domain[len(kept) :]


def _iban(match: re.Match[str]) -> str:
    text = match.group()
    rearranged = text[4:] + text[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return "[iban]" if int(number) % 97 == 1 else text


_PEM_BEGIN, _PEM_END = "-----BEGIN ", "-----END "


def _pem(text: str) -> str:
    """Private key blocks, cut to their end marker or, when it is missing, to the end."""
    out, at = [], 0
    while (start := text.find(_PEM_BEGIN, at)) >= 0:
        header_end = text.find("-----", start + len(_PEM_BEGIN), start + 80)
        if header_end < 0 or "PRIVATE KEY" not in text[start:header_end]:
            out.append(text[at : start + 1])
            at = start + 1
            continue
        end = text.find(_PEM_END, header_end)
        close = text.find("-----", end + len(_PEM_END)) if end >= 0 else -1
        stop = len(text) if close < 0 else close + 5
        out.append(text[at:start] + "[pemkey]")
        at = stop
    out.append(text[at:])
    return "".join(out)


# Provider key formats: OpenAI and Anthropic (`sk-`), Stripe (`sk_live_`, `rk_live_`), Hugging
# Face (`hf_`), GitHub (`ghp_`, `github_pat_`), GitLab (`glpat-`), Slack (`xoxb-`), Google
# (`AIza`), Groq (`gsk_`), Replicate (`r8_`), Perplexity (`pplx-`), xAI (`xai-`), npm (`npm_`),
# SendGrid (`SG.`); and AWS access key ids.
_KEY_PREFIXES = (
    r"[sprk]k-|[sprk]k_(?:live|test)_|whsec_|hf_|gh[pousr]_|github_pat_|glpat-|xox[abposr]-"
    r"|AIza|gsk_|r8_|pplx-|xai-|npm_|SG\."
)

# (plain substrings one of which must be in the text before the rule runs, the rule).
# Substring tests, not a regex alternation: `in` scans 10,000 characters ~15x faster.
_RULES: list[tuple[tuple[str, ...], Callable[[str], str]]] = [
    ((_PEM_BEGIN,), _pem),
    (
        ("eyJ",),
        _sub(r"(?<![\w-])eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]+", "[jwt]"),
    ),
    (("earer", "EARER"), _sub(r"\b[Bb](?i:earer)[ \t]+[\w\-.~+/]{8,}=*", "[bearer]")),
    (("asic", "ASIC"), _sub(r"\b[Bb](?i:asic)[ \t]+[A-Za-z0-9+/]{8,}={0,2}", "[credentials]")),
    # The user and password of a URL, or a token in the user's place (`https://ghp_...@github`).
    (("//",), _sub(r"(?<=//)[^/\s@?#]+(?=@)", "[credentials]")),
    (
        (
            *("k-", "k_", "whsec_", "hf_", "gh", "github_pat_", "glpat-", "xox", "AIza"),
            *("gsk_", "r8_", "pplx-", "xai-", "npm_", "SG.", "AKIA", "ASIA"),
        ),
        _sub(
            rf"(?<![\w-])(?:(?:{_KEY_PREFIXES})[\w.-]{{16,}}|(?:AKIA|ASIA)[0-9A-Z]{{16}}(?![\w-]))",
            "[api_key]",
        ),
    ),
    (("@",), _sub(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)+", _email)),
]
# Run only when the text holds a run of digits long enough to be one of these.
_DIGIT_RULES: list[Callable[[str], str]] = [
    _sub(r"(?<![\w])[A-Z]{2}\d{2}[A-Z0-9]{11,30}(?![\w])", _iban),
    _cards,
    _sub(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])", "[us-ssn]"),
    _sub(
        r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])"
        r"\d{3,4}[ .-]\d{3,4}(?![\w-])",
        "[phone]",
    ),
]
_DIGIT_RUN = re.compile(r"\d\d[\d ().+\-.]{5}\d")


# `name=value`, `name: value`, `"name": "value"` inside a string: a URL's query, a log line, a
# header, the repr of a dict or of a pydantic error (`input_value={'password': 'hunter2'}`).
_NAME = re.compile(r"""(?<![\w.\[\]-])(["']?)([\w.\[\]-]+)\1[ \t]*([:=])[ \t]*""")
_BARE_VALUE = re.compile(r"""[^\n&,;"'<>{}\[\]]*""")
# Plain substrings of the lower-cased text, one of which every sensitive key holds.
_KEY_HINTS = (
    "pass", "pwd", "secret", "token", "auth", "cred", "key", "sess", "csrf", "xsrf", "cookie",
    "jwt", "bearer", "signature", "pin", "ssn", "cvv", "cvc", "otp", "mfa", "sid", "dsn", "factor",
)  # fmt: skip
_MARKER = re.compile(r"\[[\w-]+\]|%5B\w+%5D")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?![\w.])")


def _named_values(text: str) -> str:
    """The whole value after a sensitive name: to the closing quote, to the end of the line for
    a header (`Authorization: Token 9944b0`), else to the next `&`, `,`, `;` or bracket."""
    out, at = [], 0
    for match in _NAME.finditer(text):
        if match.start() < at:
            continue  # inside a value already filtered
        kind = key_kind(match.group(2))
        if kind is KeyKind.PLAIN or (kind is KeyKind.COUNT and _NUMBER.match(text, match.end())):
            continue  # a count of tokens is not a secret (`max_tokens=256`)
        start, end = _value_span(text, match)
        value = text[start:end]
        if not value.strip() or _MARKER.fullmatch(value):
            continue  # nothing, or what a rule above already put there (`[bearer]`)
        out.append(text[at:start] + FILTERED)
        at = end
    if not out:
        return text
    out.append(text[at:])
    return "".join(out)


def _value_span(text: str, match: re.Match[str]) -> tuple[int, int]:
    # Each search below stops where the value ends, and the value is then skipped: a search
    # to the end of a long line for every name on it would cost quadratic time.
    start = match.end()
    quote = text[start : start + 1]
    if quote in ('"', "'") and quote:
        close = text.find(quote, start + 1)
        newline = text.find("\n", start + 1, len(text) if close < 0 else close)
        end = close if close >= 0 and newline < 0 else newline if newline >= 0 else len(text)
        return start + 1, end
    at_line_start = match.start() == 0 or text[match.start() - 1] == "\n"
    if match.group(3) == ":" and at_line_start and not match.group(1):
        newline = text.find("\n", start)  # a header: the whole line
        end = len(text) if newline < 0 else newline
    else:
        bare = _BARE_VALUE.match(text, start)
        end = bare.end() if bare else start
    return start, start + len(text[start:end].rstrip())


def scrub(text: str, work: Work | None = None) -> str:
    """`text` with every secret the rules know replaced by what it was (`[email]`, `[card]`,
    `[Filtered]` for the value of `password=...`), scanning at most what `work` allows.

    >>> scrub("mail bob@example.com key sk-abcdefghijklmnopqrstu")
    'mail [email] key [api_key]'
    """
    out = work.allow(text) if work is not None else text
    for needles, rule in _RULES:
        if _contains_any(out, needles):
            out = rule(out)
    if _DIGIT_RUN.search(out):
        for rule in _DIGIT_RULES:
            out = rule(out)
    if _contains_any(out.lower(), _KEY_HINTS):
        out = _named_values(out)
    return out


def _contains_any(text: str, needles: tuple[str, ...]) -> bool:
    for needle in needles:  # noqa: SIM110 - `any()` over a generator is twice as slow on short text
        if needle in text:
            return True
    return False
