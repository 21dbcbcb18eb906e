"""Prometheus metrics: HTTP requests, model calls (OpenTelemetry GenAI names) and the browser,
with inferwatch's own health (`_metrics_health.py`), served at `/metrics` (`_metrics_route.py`).

inferwatch's instruments live in their own registry, so an app that already registers metrics in
prometheus_client's default registry (prometheus-fastapi-instrumentator, its own counters) never
meets a duplicate-registration error; `/metrics` serves both.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from . import _fork, _metrics_health

# Model endpoints take seconds to minutes: the default buckets stop at 10 s.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300)
# The OpenTelemetry GenAI conventions' explicit bucket boundaries.
GENAI_SECONDS_BUCKETS = tuple(0.01 * 2**i for i in range(14))  # 0.01 ... 81.92
GENAI_TOKEN_BUCKETS = tuple(4**i for i in range(14))  # 1, 4, 16 ... 67108864
UNMATCHED = "<unmatched>"
OTHER = "other"
SKIPPED_ROUTES = frozenset({"/metrics", "/health", "/healthz", "/livez", "/readyz", "/ping"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")


class BoundedLabel:
    """Label values from outside the code, limited to `limit` distinct safe values.

    A value that does not look like a name, or arrives after `limit` others, becomes `"other"`,
    so a page sending random model names cannot grow the series without end.

    >>> BoundedLabel(1)("gpt"), BoundedLabel(1)("<script>")
    ('gpt', 'other')
    """

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: object) -> str:
        text = str(value) if value is not None else ""
        if text in self._seen:
            return text
        if not _SAFE_LABEL.match(text):
            return OTHER
        with self._lock:
            if len(self._seen) >= self.limit:
                return OTHER
            self._seen.add(text)
        return text


class Instruments:
    """Every instrument inferwatch feeds, registered once in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.http_requests = Counter(
            "http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration, until the response is sent.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.genai_duration = Histogram(
            "gen_ai_client_operation_duration_seconds",
            "Duration of model calls recorded by watch_model / model_context.",
            ["operation", "model", "error_type"],
            buckets=GENAI_SECONDS_BUCKETS,
            registry=registry,
        )
        self.genai_tokens = Histogram(
            "gen_ai_client_token_usage",
            "Tokens used by model calls, by token type (input, output).",
            ["token_type", "model"],
            buckets=GENAI_TOKEN_BUCKETS,
            registry=registry,
        )
        self.genai_first_chunk = Histogram(
            "gen_ai_client_operation_time_to_first_chunk_seconds",
            "Time to the first chunk of streaming model calls.",
            ["operation", "model"],
            buckets=GENAI_SECONDS_BUCKETS,
            registry=registry,
        )
        self.browser_wait = Histogram(
            "inferwatch_browser_generation_duration_seconds",
            "How long users waited for a generation, as the page measured it.",
            ["model", "status"],
            buckets=GENAI_SECONDS_BUCKETS,
            registry=registry,
        )
        self.browser_first_token = Histogram(
            "inferwatch_browser_generation_time_to_first_token_seconds",
            "How long users waited for the first token of a generation.",
            ["model"],
            buckets=GENAI_SECONDS_BUCKETS,
            registry=registry,
        )
        self.browser_errors = Counter(
            "inferwatch_browser_errors",
            "Browser errors by error type.",
            ["type"],
            registry=registry,
        )
        self.browser_page_views = Counter(
            "inferwatch_browser_page_views",
            "Page views reported by the snippet.",
            registry=registry,
        )
        self.browser_invalid = Counter(
            "inferwatch_browser_events_invalid",
            "Snippet events dropped because they failed validation.",
            registry=registry,
        )
        self.browser_refused = Counter(
            "inferwatch_browser_refused",
            "Snippet batches refused, by reason (origin, missing_key, wrong_key, rate_limited,"
            " too_large, bad_request, unavailable).",
            ["reason"],
            registry=registry,
        )
        self.browser_models = BoundedLabel()
        self.browser_error_types = BoundedLabel()
        self._http: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def http_children(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        """The counter and histogram children of one label set, cached: the hot path."""
        key = (method, route, status)
        children = self._http.get(key)
        if children is None:
            children = (
                self.http_requests.labels(method, route, str(status)),
                self.http_duration.labels(method, route),
            )
            self._http[key] = children
        return children


REGISTRY_OWN = CollectorRegistry(auto_describe=True)
"""inferwatch's own registry (kept apart from prometheus_client's default `REGISTRY`)."""
_instruments: Instruments | None = None
_lock = threading.Lock()
enabled = False
"""Whether the SDK feeds its instruments: set by `enable()` (`init(metrics=True)`, `serve`)."""


def instruments() -> Instruments:
    """The process-wide instruments, created on first use (so `init` twice registers once)."""
    global _instruments
    if _metrics_health.restart_mirror:  # the first observation of a worker forked after `enable`
        _metrics_health.start_mirror()
    if _instruments is None:
        with _lock:
            if _instruments is None:
                _instruments = Instruments(REGISTRY_OWN)
    return _instruments


def enable(on: bool = True) -> None:
    """Start (or stop) feeding the instruments."""
    global enabled
    if on:
        instruments()
        _metrics_health.start_mirror()
    enabled = on


# -- feeding ---------------------------------------------------------------------------


def observe_request(
    method: str, route: str | None, status: int, seconds: float, endpoint: object = None
) -> None:
    """One finished HTTP request (called by the middleware when metrics are on)."""
    label = route or UNMATCHED
    if label in SKIPPED_ROUTES or getattr(endpoint, "__inferwatch_ingest__", False):
        return
    counter, histogram = instruments().http_children(
        method if method in _METHODS else OTHER, label, status
    )
    counter.inc()
    histogram.observe(seconds)


def observe_model_call(
    model: str,
    *,
    streaming: bool,
    seconds: float,
    error_type: str | None,
    first_chunk_seconds: float | None,
    usage: dict[str, int],
) -> None:
    """One finished model call, with the OpenTelemetry GenAI metric names."""
    inst = instruments()
    operation = "stream" if streaming else "predict"
    inst.genai_duration.labels(operation, model, error_type or "").observe(seconds)
    for token_type in ("input", "output"):
        count = usage.get(f"{token_type}_tokens")
        if count is not None:
            inst.genai_tokens.labels(token_type, model).observe(count)
    if streaming and first_chunk_seconds is not None:
        inst.genai_first_chunk.labels(operation, model).observe(first_chunk_seconds)


def observe_browser(rows: Iterable[tuple[str, dict[str, Any]]], invalid: int) -> None:
    """What one snippet batch said: generations, errors, page views, invalid events."""
    inst = instruments()
    for kind, data in rows:
        if kind == "generation":
            _observe_browser_generation(inst, data)
        elif kind == "event":
            # Sentry's normalizer leaves `null` where an exception was invalid
            listed = (data.get("exception") or {}).get("values") or []
            values = [v for v in listed if isinstance(v, dict)] or [{}]
            inst.browser_errors.labels(inst.browser_error_types(values[-1].get("type"))).inc()
        elif kind == "activity" and data.get("type") == "pageview":
            inst.browser_page_views.inc()
    if invalid:
        inst.browser_invalid.inc(invalid)


def observe_refusal(reason: str) -> None:
    """One snippet batch refused; `reason` is one of a few fixed labels (see `_refusals`)."""
    instruments().browser_refused.labels(reason).inc()


def _observe_browser_generation(inst: Instruments, data: dict[str, Any]) -> None:
    model = inst.browser_models(data.get("model"))
    if data.get("duration_ms") is not None:
        inst.browser_wait.labels(model, str(data.get("status"))).observe(data["duration_ms"] / 1000)
    if data.get("first_chunk_ms") is not None:
        inst.browser_first_token.labels(model).observe(data["first_chunk_ms"] / 1000)


def _after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # another thread of the parent may have held it at the fork


_fork.register(after_in_child=_after_fork)
