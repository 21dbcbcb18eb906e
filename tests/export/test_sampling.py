"""Which traces are kept, decided at their end: failures always, the rest at the rate, the
sampler or Sentry's upstream decision; and what a trace holds meanwhile is bounded."""

from __future__ import annotations

import random
from typing import Any

import inferwatch
import pytest
from inferwatch.export import _spans
from inferwatch.export._sampling import Sampler
from inferwatch.export._spans import Span, Trace

from tests.export.conftest import Sent, chat, make_app, send
from tests.export.test_sentry import DSN


def trace(failed: bool = False, parent: bool | None = None) -> Trace:
    made = Trace("a" * 32, "b" * 16, parent_sampled=parent)
    made.failed = failed
    return made


def span(n: int) -> Span:
    return Span(f"chat m{n}", "gen_ai.chat", "client", f"{n + 1:016x}", None, 0.0, 1.0)


def test_a_failed_trace_is_kept_at_rate_zero_and_stands_for_itself() -> None:
    assert Sampler(0.0, None).keep(trace(failed=True), dict) == 1.0
    assert Sampler(0.0, lambda context: 0.0).keep(trace(failed=True), dict) == 1.0


def test_the_others_are_kept_at_the_rate_and_say_so() -> None:
    random.seed(7)
    sampler = Sampler(0.25, None)
    kept = [sampler.keep(trace(), dict) for _ in range(4000)]
    assert set(kept) == {None, 0.25}
    assert 0.22 < kept.count(0.25) / 4000 < 0.28
    assert Sampler(None, None).keep(trace(), dict) == 1.0  # OTLP alone: everything, as OTel does


def test_sentry_upstream_decision_is_followed_unless_a_sampler_decides() -> None:
    assert Sampler(0.0, None).keep(trace(parent=True), dict) == 1.0
    assert Sampler(1.0, None).keep(trace(parent=False), dict) is None
    assert Sampler(1.0, lambda context: True).keep(trace(parent=False), dict) == 1.0


@pytest.mark.parametrize("answer", [ValueError("sampler bug"), "yes", 2.0, None])
def test_a_sampler_that_raises_or_answers_nonsense_drops_the_trace_without_raising(
    answer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def sampler(context: dict[str, Any]) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert Sampler(1.0, sampler).keep(trace(), dict) is None
    assert "traces_sampler" in caplog.text


def test_a_trace_holds_at_most_max_spans_and_counts_the_rest() -> None:
    held = trace()
    for n in range(_spans.MAX_SPANS + 5):
        held.add(span(n), failed=n == _spans.MAX_SPANS + 4)
    assert len(held.spans) == _spans.MAX_SPANS
    assert held.dropped == 5
    assert held.failed  # a call past the bound that failed still keeps the trace


def test_a_request_with_more_model_calls_than_the_bound_says_how_many_were_left_out(
    sentry: Sent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_spans, "MAX_SPANS", 1)
    app = make_app(dsn=DSN, store=None, traces_sample_rate=1.0)
    send(app, chat("hello"), ("GET", "/stream?prompt=hi", None))
    monkeypatch.setattr(_spans, "MAX_SPANS", 0)
    send(app, chat("hello"))
    assert inferwatch.flush(5)
    dropped = [
        t["contexts"]["trace"]["data"].get("inferwatch.dropped_spans") for t in sentry.transactions
    ]
    assert dropped == [None, None, 1]
    assert len(sentry.spans) == 2
