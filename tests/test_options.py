"""`init`'s options: an unknown one names the option probably meant."""

from __future__ import annotations

import inferwatch
import pytest


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("sample_rte", "sample_rate"), ("enviroment", "environment"), ("stor", "store")],
)
def test_an_unknown_option_names_the_one_probably_meant(typo: str, meant: str) -> None:
    with pytest.raises(inferwatch.ConfigError) as info:
        inferwatch.init(environ={}, **{typo: "x"})
    assert str(info.value) == f"inferwatch: unknown option {typo!r}; did you mean {meant!r}?"


def test_an_unknown_option_like_no_other_gets_no_guess() -> None:
    with pytest.raises(inferwatch.ConfigError) as info:
        inferwatch.init(environ={}, colour="blue")
    assert str(info.value) == "inferwatch: unknown option 'colour'"
