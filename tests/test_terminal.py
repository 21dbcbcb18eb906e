"""Text from events printed on a terminal: one line a field, nothing the terminal obeys."""

from __future__ import annotations

import pytest
from inferwatch._terminal import escape, say, table


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("a\tb", "a\\tb"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("\x1b]8;;http://evil.example\x07link", "\\x1b]8;;http://evil.example\\x07link"),
        ("csi \x9b2J nel \x85 del \x7f nul \x00", "csi \\x9b2J nel \\x85 del \\x7f nul \\x00"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("rtl \u202e gnp.exe \u2066x\u2069", "rtl \\u202e gnp.exe \\u2066x\\u2069"),
        ("lone \ud800", "lone \\ud800"),
    ],
)
def test_newlines_and_control_characters_are_written_out(raw: str, shown: str) -> None:
    assert escape(raw) == shown


def test_ordinary_text_and_values_are_unchanged() -> None:
    text = "ValueError: café — naïve 日本語 C:\\path\\file.py 100%"
    assert escape(text) == text
    assert escape(None) == "" and escape(42) == "42"


def test_a_table_keeps_one_line_a_row_and_its_columns_aligned(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [{"id": 1, "title": "one\n2  forged"}, {"id": "2\x1b", "title": "two"}]
    table(rows, [("id", "ID", 5), ("title", "TITLE", 0)])
    say("end\nforged")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["ID     TITLE", "1      one\\n2  forged", "2\\x1b  two", "end\\nforged"]
