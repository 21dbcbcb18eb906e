"""Redaction by value and by key, before anything leaves the process."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from inferwatch import _redact
from inferwatch._redact import FILTERED, is_sensitive_key, redact, redact_text, redact_url

from tests._secrets import found, placed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to bob.smith+ai@example.co.uk now", "write to [email] now"),
        ("key sk-proj-abcdefghijklmnopqrstuvwx", "key [api_key]"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "aws [api_key] here"),
        ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh [api_key]"),
        ("Authorization: Bearer abc.def.ghijklmnop", "Authorization: [bearer]"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcDEF_ghi", "jwt [jwt]"),
        ("card 4111 1111 1111 1111 ok", "card [card] ok"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("call +1 (555) 123-4567 or 555-123-4567", "call [phone] or [phone]"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: [credentials]"),
        (
            "db postgres://admin:S3cretPw@db.internal/app",
            "db postgres://[credentials]@db.internal/app",
        ),
        (
            "input_value={'password': 'hunter 2', 'q': 'hi'}",
            "input_value={'password': '[Filtered]', 'q': 'hi'}",
        ),
        ('{"api_key": "abc123def", "model": "m"}', '{"api_key": "[Filtered]", "model": "m"}'),
        ("retrying with password: hunter2 now", "retrying with password: [Filtered]"),
        (
            "GET https://app.example/login?next=/&api_key=k123",
            "GET https://app.example/login?next=/&api_key=[Filtered]",
        ),
    ],
)
def test_secrets_in_text_are_replaced_by_what_they_were(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 1234567890123 shipped",  # fails the Luhn check: not a card
        "at 2026-11-27T02:55:00.123Z in 1.5s",
        "request 123e4567-e89b-12d3-a456-426614174000",
        "version 10.0.1 on port 8765, 42 tokens",
    ],
)
def test_ordinary_numbers_dates_and_ids_are_kept(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "db_pass",
        "Authorization",
        "X-Api-Key",
        "apiKey",
        "refresh_token",
        "client_secret",
        "Set-Cookie",
        "csrf-token",
        "privateKey",
    ],
)
def test_keys_that_name_secrets_are_sensitive(key: str) -> None:
    assert is_sensitive_key(key)


@pytest.mark.parametrize("key", ["max_tokens", "input_tokens", "author", "prompt", "keyboard"])
def test_ordinary_keys_are_not_sensitive(key: str) -> None:
    assert not is_sensitive_key(key)


def test_the_denylist_applies_at_any_depth() -> None:
    data = {"messages": [{"role": "user", "meta": {"api_key": "k", "note": "a@b.io"}}]}
    assert redact(data) == {
        "messages": [{"role": "user", "meta": {"api_key": FILTERED, "note": "[email]"}}]
    }


def test_the_users_mask_runs_after_the_builtin_rules() -> None:
    assert redact_text(
        "customer ACME-991 wrote a@b.io", mask=lambda s: s.replace("ACME-991", "[customer]")
    ) == ("customer [customer] wrote [email]")


def test_a_failing_mask_filters_the_value_instead_of_raising() -> None:
    def broken(text: str) -> str:
        raise RuntimeError("bug in user code")

    assert redact_text("some text", mask=broken) == FILTERED


def test_query_parameters_that_name_secrets_are_filtered_in_urls() -> None:
    assert redact_url("https://app.example/chat?token=abc&q=hi&email=a@b.io") == (
        "https://app.example/chat?token=%5BFiltered%5D&q=hi&email=%5Bemail%5D"
    )


def test_text_seen_before_is_redacted_the_same_way_and_no_secret_is_remembered() -> None:
    clean, secret = "app/models/ranker.py", "mail bob@example.com"
    for _ in range(2):  # the second time, clean text comes from the cache of clean strings
        assert redact_text(clean) == clean
        assert redact_text(secret) == "mail [email]"
        assert redact_text(clean, lambda s: s.upper()) == "APP/MODELS/RANKER.PY"
    assert clean in _redact._CLEAN and secret not in _redact._CLEAN
    for n in range(_redact._CLEAN_MAX_ITEMS + 10):  # bounded: emptied when full
        redact_text(f"module_{n}.py")
    assert len(_redact._CLEAN) <= _redact._CLEAN_MAX_ITEMS


def test_a_long_text_is_scanned_for_every_kind_of_secret() -> None:
    filler = "the movie was really quite good " * 300
    text = (
        f"{filler} bob@example.com {filler} sk-abcdefghijklmnopqrstu {filler} 4111 1111 1111 1111"
    )
    out = redact_text(text)
    assert "[email]" in out and "[api_key]" in out and "[card]" in out
    assert "bob@" not in out and len(out) < len(text)


def test_every_json_like_shape_keeps_its_values_and_the_mask_sees_every_string() -> None:
    class Name(str):
        pass

    data = {
        "short": "ok",
        "n": 3,
        "x": 2.5,
        "flag": True,
        "none": None,
        "tuple": ("a", 1),
        "name": Name("bob@example.com"),
        "nested": {"list": [{"file": "app/m1.py"}, "ab"]},
    }
    assert redact(data) == {**data, "tuple": ["a", 1], "name": "[email]"}
    for _ in range(2):  # the second time, the strings are known clean
        masked = redact(data, mask=str.upper)
        assert masked["short"] == "OK" and masked["nested"] == {
            "list": [{"file": "APP/M1.PY"}, "AB"]
        }
        assert masked["n"] == 3 and masked["tuple"] == ["A", 1] and masked["name"] == "[EMAIL]"


@pytest.mark.parametrize(
    "key",
    [
        *("newpassword", "userpassword", "accesstoken", "refreshtoken", "authtoken", "apitoken"),
        *("clientsecret", "X-CSRFToken", "sessionid", "PHPSESSID", "passphrase", "jwt"),
        *("connect.sid", "two_factor", "otp", "mysql_pwd", "id_token", "pin"),
    ],
)
def test_secret_words_are_found_anywhere_in_a_key_whatever_its_spelling(key: str) -> None:
    assert is_sensitive_key(key)
    assert redact({key: "opaque-value-1"}) == {key: FILTERED}


def test_token_counts_stay_readable_and_token_values_do_not() -> None:
    usage = {"max_tokens": 256, "usage": {"input_tokens": 12, "output_tokens": 3}}
    details = {"prompt_tokens_details": {"cached_tokens": 0}, "tokens": [101, 2023]}
    assert redact({**usage, **details}) == {**usage, **details}
    assert redact({"token": 123456, "tokens": "opaque", "access_tokens": [7]}) == {
        "token": FILTERED,
        "tokens": FILTERED,
        "access_tokens": [FILTERED],
    }


def test_genai_span_data_of_token_counts_and_first_token_time_stays_readable() -> None:
    data = {
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 3,
        "gen_ai.response.time_to_first_token": 0.25,
    }
    assert redact(data) == data
    assert redact({"gen_ai.response.time_to_first_token": "tok-abc"}) == {
        "gen_ai.response.time_to_first_token": FILTERED
    }
    assert is_sensitive_key("gen_ai_token") and is_sensitive_key("time_token_secret")


def test_pair_lists_are_filtered_by_their_keys_at_any_depth() -> None:
    request = {
        "headers": [["X-Api-Key", "k1"], ["Accept", "text/html"]],
        "env": (("REMOTE_ADDR", "10.0.0.1"), ("HTTP_AUTHORIZATION", "Token t1")),
        "nested": {"query_string": [["q", "hi"], ["refreshtoken", "r1"]]},
    }
    assert redact(request) == {
        "headers": [["X-Api-Key", FILTERED], ["Accept", "text/html"]],
        "env": [["REMOTE_ADDR", "10.0.0.1"], ["HTTP_AUTHORIZATION", FILTERED]],
        "nested": {"query_string": [["q", "hi"], ["refreshtoken", FILTERED]]},
    }


def test_a_filtered_value_keeps_the_shape_sentry_expects() -> None:
    assert redact({"cookies": {"sessionid": "s1", "theme": "dark"}, "Cookie": "a=1; b=2"}) == {
        "cookies": {"sessionid": FILTERED, "theme": FILTERED},
        "Cookie": f"a={FILTERED}; b={FILTERED}",
    }
    assert redact({"cookies": {}, "session": [["sid", "x"]], "secret": None}) == {
        "cookies": {},
        "session": [["sid", FILTERED]],
        "secret": None,
    }


@pytest.mark.parametrize(
    "identifier",
    [
        "019b2c3e4111111111111111aa7f3c21",  # a request id whose digits pass the Luhn check
        "req-ab4111111111111111cd",
        "123e4567-e89b-12d3-a456-426614174000",
        "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ],
)
def test_digits_inside_an_identifier_are_no_card(identifier: str) -> None:
    assert redact_text(identifier) == identifier
    assert redact({"tags": {"request_id": identifier}}) == {"tags": {"request_id": identifier}}


def test_card_numbers_are_found_as_integers_and_inside_runs_of_digit_groups() -> None:
    assert redact({"cc": 4111111111111111, "order": 4111111111111112, "n": 7}) == {
        "cc": "[card]",
        "order": 4111111111111112,  # fails the Luhn check
        "n": 7,
    }
    assert redact_text("ids 2 4111 1111 1111 1111 5 and 378282246310005") == (
        "ids 2 [card] 5 and [card]"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
            "Authorization: [Filtered]",
        ),
        ("password = correct horse battery staple", "password = [Filtered]"),
        ("cfg: secret='two words', user='bob'", "cfg: secret='[Filtered]', user='bob'"),
        ("url ?a=1&api_key=k 1&b=2", "url ?a=1&api_key=[Filtered]&b=2"),
        ("redis://:s3cr3t@cache:6379/0", "redis://[credentials]@cache:6379/0"),
        (
            "clone https://ghp_abcdefghij0123456789abcdefghij@github.com/x",
            "clone https://[credentials]@github.com/x",
        ),
        ("max_tokens=256 tokens: 12", "max_tokens=256 tokens: 12"),
    ],
)
def test_the_whole_value_after_a_secret_name_is_filtered(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "secret",
    [
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",  # Stripe
        "rk_live_51H8abcdefghijklmnopqrstu",
        "hf_abcdefghijklmnopqrstuvwxyzABCD",  # Hugging Face
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",  # GitHub
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx",  # Slack
        "xoxp-123456789012-1234567890123-abcdefghijklmnopqrstuvwx",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",  # Google
        "sk-ant-api03-AbCdEf0123456789GhIjKl",  # Anthropic
        "gsk_abcdefghijklmnopqrstuvwxyz0123",  # Groq
    ],
)
def test_provider_key_formats_are_recognised_in_text(secret: str) -> None:
    assert redact_text(f"use {secret} now") == "use [api_key] now"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("écrire à jörg.müller@exämple.de ou", "écrire à [email] ou"),
        ("连系 用户@例子.公司 谢谢", "连系 [email] 谢谢"),
        ("iban DE89370400440532013000 ok", "iban [iban] ok"),
        ("ssn 078-05-1120 on file", "ssn [us-ssn] on file"),
        (
            "key -----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY----- end",
            "key [pemkey] end",
        ),
        ("cut -----BEGIN PRIVATE KEY-----\nMIIEow", "cut [pemkey]"),
    ],
)
def test_unicode_emails_ibans_ssns_and_private_keys_are_recognised(
    text: str, expected: str
) -> None:
    assert redact_text(text) == expected


@settings(max_examples=400, deadline=None)
@given(st.lists(placed(), min_size=1, max_size=6))
def test_no_secret_in_any_shape_survives_redaction(
    planted: list[tuple[Any, tuple[str, ...]]],
) -> None:
    data = [value for value, _ in planted]
    out = json.dumps(redact(data), ensure_ascii=False).encode()
    assert found([n for _, needles in planted for n in needles], out) == []
