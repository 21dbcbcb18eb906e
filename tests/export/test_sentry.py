"""Requests as Sentry transactions with `gen_ai` spans, sampled when each request ends: a
FastAPI app with a DSN, against a respx-mocked Sentry."""

from __future__ import annotations

from typing import Any

import inferwatch

from tests.export.conftest import MODEL, Sent, attribute, chat, make_app, send

DSN = "https://abc123def456@o1.ingest.example.com/42"


def traced(**init: Any) -> Any:
    return make_app(dsn=DSN, store=None, **init)


def test_a_request_becomes_a_transaction_named_by_its_route_with_a_gen_ai_span(
    sentry: Sent,
) -> None:
    app = traced(traces_sample_rate=1.0)
    [answer] = send(app, chat("hello", room="r42"))
    assert answer.status_code == 200
    assert inferwatch.flush(5)
    [transaction] = sentry.transactions
    assert transaction["transaction"] == "/chat/{room}"
    assert transaction["transaction_info"] == {"source": "route"}
    trace = transaction["contexts"]["trace"]
    assert trace["op"] == "http.server"
    assert trace["trace_id"] == answer.headers["x-request-id"]
    assert trace["data"]["http.response.status_code"] == 200
    [span] = sentry.spans
    assert span["name"] == f"chat {MODEL}"
    assert span["trace_id"] == trace["trace_id"]
    assert span["parent_span_id"] == trace["span_id"]
    assert attribute(span, "sentry.op") == "gen_ai.chat"
    assert attribute(span, "gen_ai.operation.name") == "chat"
    assert attribute(span, "gen_ai.request.model") == MODEL
    assert attribute(span, "gen_ai.system") == "openai"
    assert attribute(span, "gen_ai.provider.name") == "openai"
    assert attribute(span, "gen_ai.usage.input_tokens") == 12
    assert attribute(span, "gen_ai.usage.output_tokens") == 3
    assert attribute(span, "inferwatch.model.status") == "ok"
    assert span.get("status") != "error"


def test_a_streamed_model_call_carries_its_time_to_first_token(sentry: Sent) -> None:
    app = traced(traces_sample_rate=1.0)
    [answer] = send(app, ("GET", "/stream?prompt=hi", None))
    assert answer.text == "Hello"
    assert inferwatch.flush(5)
    [span] = sentry.spans
    assert attribute(span, "gen_ai.response.streaming") is True
    first = attribute(span, "gen_ai.response.time_to_first_token")
    assert isinstance(first, float)
    assert 0 <= first <= span["end_timestamp"] - span["start_timestamp"] + 1e-3


def test_at_rate_zero_the_failing_requests_send_their_transactions_and_the_others_do_not(
    sentry: Sent,
) -> None:
    app = traced(traces_sample_rate=0.0)
    answers = send(app, chat("hello"), chat("crash"), chat("busy"), chat("model-fails"))
    assert [a.status_code for a in answers] == [200, 500, 503, 200]
    assert inferwatch.flush(5)
    kept = {t["contexts"]["trace"]["trace_id"]: t for t in sentry.transactions}
    ids = [a.headers["x-request-id"] for a in answers]
    assert sorted(kept) == sorted(ids[1:])  # the three that failed, not the one that did not
    assert kept[ids[1]]["contexts"]["trace"]["status"] == "internal_error"
    assert kept[ids[2]]["contexts"]["trace"]["data"]["http.response.status_code"] == 503
    [failed_call] = [s for s in sentry.spans if s["trace_id"] == ids[3]]
    assert failed_call["status"] == "error"
    assert attribute(failed_call, "error.type") == "ValueError"


def test_the_error_event_and_the_transaction_share_the_trace_and_the_span(sentry: Sent) -> None:
    app = traced(traces_sample_rate=0.0)
    [answer] = send(app, chat("crash"))
    assert inferwatch.flush(5)
    [event] = sentry.events
    [transaction] = sentry.transactions
    event_trace = event["contexts"]["trace"]
    transaction_trace = transaction["contexts"]["trace"]
    assert event_trace["trace_id"] == transaction_trace["trace_id"]
    assert event_trace["trace_id"] == answer.headers["x-request-id"]
    assert event_trace["span_id"] == transaction_trace["span_id"]
    [(envelope, _)] = sentry.items("event")
    assert envelope.headers["trace"]["trace_id"] == transaction_trace["trace_id"]


def test_a_caller_trace_is_continued(sentry: Sent) -> None:
    app = traced(traces_sample_rate=1.0)
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    headers = {"traceparent": f"00-{caller_trace}-{caller_span}-01"}
    send(app, ("GET", "/stream?prompt=hi", headers))
    assert inferwatch.flush(5)
    [transaction] = sentry.transactions
    assert transaction["contexts"]["trace"]["trace_id"] == caller_trace
    assert transaction["contexts"]["trace"]["parent_span_id"] == caller_span


def test_a_sentry_sdk_upstream_decision_is_followed_for_requests_that_do_not_fail(
    sentry: Sent,
) -> None:
    app = traced(traces_sample_rate=1.0)
    dropped = {"sentry-trace": "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0"}
    send(app, ("GET", "/stream?prompt=hi", dropped))
    assert inferwatch.flush(5)
    assert sentry.transactions == []


def test_prompts_and_answers_reach_sentry_only_when_captured_and_then_redacted(
    sentry: Sent,
) -> None:
    app = traced(traces_sample_rate=1.0)
    send(app, chat("write to bob@example.com"))
    assert inferwatch.flush(5)
    [span] = sentry.spans
    assert attribute(span, "gen_ai.request.messages") is None
    assert "bob@example.com" not in str(sentry.envelopes[-1].serialize())
    sentry.envelopes.clear()
    app = traced(traces_sample_rate=1.0, capture_message_content=True)
    send(app, chat("write to bob@example.com"))
    assert inferwatch.flush(5)
    [span] = sentry.spans
    assert '"write to [email]"' in attribute(span, "gen_ai.request.messages")
    assert attribute(span, "gen_ai.response.text") == '["Hello from the model"]'
    assert b"bob@example.com" not in sentry.envelopes[-1].serialize()


def test_without_a_traces_rate_or_sampler_no_transaction_is_sent(sentry: Sent) -> None:
    app = traced()
    send(app, chat("hello"), chat("crash"))
    assert inferwatch.flush(5)
    assert len(sentry.events) == 1
    assert sentry.transactions == []


def test_traces_sampler_decides_for_the_requests_that_did_not_fail(sentry: Sent) -> None:
    seen: list[dict[str, Any]] = []

    def sampler(context: dict[str, Any]) -> float:
        seen.append(context)
        return 1.0 if context["transaction_context"]["name"] == "/stream" else 0.0

    app = traced(traces_sampler=sampler)
    send(app, chat("hello"), ("GET", "/stream?prompt=hi", None), chat("crash"))
    assert inferwatch.flush(5)
    assert sorted(t["transaction"] for t in sentry.transactions) == ["/chat/{room}", "/stream"]
    assert len(seen) == 2  # a failing request is kept without asking
    assert seen[0]["request"]["status"] == 200
    assert seen[0]["model_calls"] == 1
