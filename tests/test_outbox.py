"""The outbox file: oldest first, claims between senders, bounds, and survival across opens."""

from __future__ import annotations

from pathlib import Path

import pytest
from inferwatch._outbox import Outbox

A = "https://o1.ingest.example.com/api/1/envelope/"
B = "https://o1.ingest.example.com/api/2/envelope/"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.db"


def test_envelopes_come_back_oldest_first_and_survive_reopening(path: Path) -> None:
    first = Outbox(path)
    first.put(A, [(b"one", "error"), (b"two", "error,attachment")], now=100.0)
    first.put(A, [(b"three", "transaction")], now=101.0)
    first.close()
    again = Outbox(path)
    entries = again.claim(A, now=200.0, lease=30.0)
    again.close()
    assert [e.body for e in entries] == [b"one", b"two", b"three"]
    assert entries[1].categories == {"error", "attachment"}


def test_a_claimed_envelope_is_not_handed_to_another_sender_until_its_lease_ends(
    path: Path,
) -> None:
    one, other = Outbox(path), Outbox(path)  # two processes sharing the file
    one.put(A, [(b"x", "error")], now=0.0)
    assert [e.body for e in one.claim(A, now=10.0, lease=30.0)] == [b"x"]
    assert other.claim(A, now=20.0, lease=30.0) == []
    assert [e.body for e in other.claim(A, now=41.0, lease=30.0)] == [b"x"]  # sender died
    one.close()
    other.close()


def test_released_envelopes_can_be_claimed_again_and_count_their_attempts(path: Path) -> None:
    outbox = Outbox(path)
    outbox.put(A, [(b"x", "error")], now=0.0)
    [entry] = outbox.claim(A, now=1.0, lease=30.0)
    outbox.release([entry.id], attempted=True)
    [again] = outbox.claim(A, now=2.0, lease=30.0)
    assert again.attempts == 1
    outbox.delete(again.id)
    assert outbox.pending(A) == 0
    outbox.close()


def test_targets_are_kept_apart(path: Path) -> None:
    outbox = Outbox(path)
    outbox.put(A, [(b"for a", "error")], now=0.0)
    outbox.put(B, [(b"for b", "error")], now=0.0)
    assert [e.body for e in outbox.claim(B, now=1.0, lease=30.0)] == [b"for b"]
    assert (outbox.pending(A), outbox.pending(B)) == (1, 1)
    outbox.close()


def test_past_the_count_bound_the_oldest_are_dropped(path: Path) -> None:
    outbox = Outbox(path, max_envelopes=3)
    assert outbox.put(A, [(b"1", ""), (b"2", ""), (b"3", "")], now=0.0) == 0
    assert outbox.put(A, [(b"4", ""), (b"5", "")], now=1.0) == 2
    assert [e.body for e in outbox.claim(A, now=2.0, lease=30.0)] == [b"3", b"4", b"5"]
    outbox.close()


def test_past_the_byte_bound_the_oldest_are_dropped(path: Path) -> None:
    outbox = Outbox(path, max_bytes=250)
    outbox.put(A, [(b"a" * 100, ""), (b"b" * 100, "")], now=0.0)
    assert outbox.put(A, [(b"c" * 100, "")], now=1.0) == 1
    assert [e.body[:1] for e in outbox.claim(A, now=2.0, lease=30.0)] == [b"b", b"c"]
    outbox.close()


def test_the_bound_of_one_target_never_drops_another_targets_envelopes(path: Path) -> None:
    outbox = Outbox(path, max_envelopes=1)
    outbox.put(B, [(b"keep", "")], now=0.0)
    outbox.put(A, [(b"1", ""), (b"2", "")], now=1.0)
    assert outbox.pending(B) == 1
    outbox.close()


def test_next_claimable_says_when_a_sender_may_look_again(path: Path) -> None:
    outbox = Outbox(path)
    assert outbox.next_claimable(A) is None
    outbox.put(A, [(b"x", "")], now=0.0)
    assert outbox.next_claimable(A) == 0.0
    outbox.claim(A, now=5.0, lease=30.0)
    assert outbox.next_claimable(A) == 35.0
    outbox.close()
