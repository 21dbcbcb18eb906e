"""Redaction cannot be stalled: crafted text costs a small factor of plain text of its size.

The families are the issue's crafted text (`'cvcv...`, which took 2.6 s a MiB against 0.05 s for
plain text) and the worst inputs a search over short repeated units of the rules' characters
found for each rule. Work is CPU time measured against plain text in the same test.
"""

from __future__ import annotations

import time

import pytest
from inferwatch._patterns import Work, scrub

MIB = 1024 * 1024
PLAIN = (
    "Please summarise the attached review in three sentences. The movie opens slowly, but the "
    "second act (about 40 minutes in) is worth the wait; the cast is excellent and the score, "
    "by a composer I had never heard of, carries the quieter scenes. Rated 4 out of 5. "
)
FAMILIES = {
    "the issue's crafted text": "'" + "cv" * 40 + " ",
    "quoted secret words": "'cvcvcv",
    "names without values": "&2auth:]:{",
    "url credentials": "<@0d://",
    "url credentials, short": "'//c@",
    "card-like digit groups": "6555-",
    "digit groups after a short one": "555-2",
    "phone-like groups": "555-(555) ",
    "single digits": "1 ",
    "email local parts": "a.a@",
    "emails without a domain": "a@",
    "jwt heads": "eyJaaaaa.",
    "private key markers": "-----BEGIN ",
    "bearer words": "Bearer ",
    "provider prefixes": "sk-a-",
    "passwords without a closing quote": "password='",
    "headers": "\nAuthorization:",
}


def cpu(text: str) -> float:
    """The least CPU time of a few runs (the least is the one least disturbed)."""
    best = float("inf")
    for _ in range(2):
        start = time.process_time()
        scrub(text, Work(limit=2 * MIB))
        best = min(best, time.process_time() - start)
    return best


def mib_of(unit: str) -> str:
    return (unit * (MIB // len(unit) + 1))[:MIB]


@pytest.fixture(scope="module")
def plain_cost() -> float:
    return min(cpu(mib_of(PLAIN)) for _ in range(2))


@pytest.mark.parametrize("unit", FAMILIES.values(), ids=FAMILIES.keys())
def test_a_mib_of_crafted_text_costs_at_most_twenty_times_plain_text(
    unit: str, plain_cost: float
) -> None:
    assert cpu(mib_of(unit)) <= 20 * plain_cost


def test_past_the_work_budget_the_rest_of_a_field_is_cut_not_scanned_and_the_cut_is_recorded() -> (
    None
):
    work = Work(limit=1000)
    first = scrub("mail bob@example.com " * 100, work)
    assert first.startswith("mail [email] ") and first.endswith("chars not scanned]")
    assert "bob@" not in first and work.cut > 0
    assert scrub("sk-abcdefghijklmnopqrstu", work) == "… [24 chars not scanned]"
