"""The budgets every answer is cut to."""

from __future__ import annotations

from inferwatch.mcp._budget import MAX_ANSWER_CHARS, clip, clip_value, finish, page


def test_a_cut_says_how_much_was_cut() -> None:
    assert clip("x" * 10, 4) == "xxxx… [6 more characters cut]"
    assert clip("short", 10) == "short"
    assert clip_value({"a": 1}, 100) == {"a": 1}
    assert clip_value({"a": "b" * 100}, 20) == '{"a": "bbbbbbbbbbbbb… [89 more characters cut]'


def test_an_answer_is_encodable_and_within_the_budget() -> None:
    assert finish("a\ud800b") == "a?b"  # a lone surrogate an old store may hold
    long = finish("y" * (MAX_ANSWER_CHARS + 10))
    assert long.startswith("y" * MAX_ANSWER_CHARS) and long.endswith("character budget]")


def test_a_page_says_where_the_next_one_starts() -> None:
    rows = [{"n": i} for i in range(3)]
    assert page("rows", rows, offset=6, more=True)["next_offset"] == 9
    assert page("rows", rows, offset=6, more=False)["next_offset"] is None
    big = [{"text": "z" * 10_000} for _ in range(5)]
    cut = page("rows", big, offset=0, more=False)
    assert len(cut["rows"]) == 2 and cut["next_offset"] == 2 and cut["cut_to_fit"]
