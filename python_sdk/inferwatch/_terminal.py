"""Text from apps and browsers printed on a terminal: each field on its line, none obeyed.

An error's type, title, culprit or message is written by whoever sent the event. Printed raw, a
newline in it forges a row of `inferwatch issues` or `tail`, and an escape sequence drives the
terminal (colours, cursor moves, a title bar, a hyperlink). `escape` writes every such character
out as Python would (`\\n`, `\\x1b`, `\\u2028`); `say` and `table` print through it.

>>> escape("ValueError\\n#1  resolved  forged row\\x1b[2J")
'ValueError\\\\n#1  resolved  forged row\\\\x1b[2J'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# C0 and C1 controls (newlines, tabs, ESC, CSI U+009B, NEL U+0085), DEL, the Unicode line and
# paragraph separators, the bidirectional overrides and isolates that reorder what a line shows
# ("Trojan Source"), and lone surrogates, which a UTF-8 terminal cannot even be sent.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(value: object) -> str:
    """`value` as one line of inert text (None is empty): unsafe characters written out."""
    text = "" if value is None else str(value)
    return _UNSAFE.sub(_written_out, text)


def _written_out(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def say(line: str = "") -> None:
    """Print one line that holds data from apps and browsers, escaped."""
    print(escape(line))


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, int]]) -> None:
    """Rows as aligned columns: (key, heading, width); the last column takes the rest.

    Each cell is escaped before it is cut to its width, so an escaped character never pushes
    the columns after it out of line.
    """
    say("  ".join(h.ljust(w) for _, h, w in columns).rstrip())
    for row in rows:
        cells = []
        for key, _, width in columns:
            text = escape(row.get(key))
            cells.append(text[:width].ljust(width) if width else text)
        say("  ".join(cells).rstrip())
