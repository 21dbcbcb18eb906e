"""`Tracing` from the options `init` was given: None when there is nowhere to send spans."""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any

from sentry_sdk.integrations.logging import ignore_logger

from .. import _fork
from .._errors import ConfigError
from .._options import Options
from ._sampling import Sampler
from ._tracing import Tracing

if TYPE_CHECKING:
    from ._otel import OtlpExporter

logger = logging.getLogger("inferwatch")
EXTRA = "pip install 'inferwatch[otel]'"


def tracing_for(options: Options, *, endpoint_given: bool) -> Tracing | None:
    """Spans to Sentry (a DSN and a traces rate or sampler) and/or to OTLP (an endpoint).

    An endpoint given to `init` without the OpenTelemetry SDK installed is a ConfigError; one
    that came from `OTEL_EXPORTER_OTLP_ENDPOINT` (perhaps set for another instrumentation) is a
    warning, and inferwatch runs without it.
    """
    endpoint = options.otlp_endpoint
    otlp = _otlp(options, endpoint, endpoint_given) if endpoint else None
    if not options.sentry_tracing and otlp is None:
        return None
    sampler = Sampler(options.traces_sample_rate, options.traces_sampler)
    tracing = Tracing(
        sentry=options.sentry_tracing,
        otlp=otlp,
        sampler=sampler,
        capture_content=options.capture_message_content,
    )
    if otlp is not None:
        _close_at_exit(tracing)
    return tracing


def _otlp(options: Options, endpoint: str, endpoint_given: bool) -> OtlpExporter | None:
    try:
        from ._otel import OtlpExporter
    except ImportError as exc:
        if endpoint_given:
            raise ConfigError(
                f"inferwatch: option 'otlp_endpoint' needs the OpenTelemetry SDK: {EXTRA}"
            ) from exc
        logger.warning(
            "inferwatch: OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is not"
            " installed (%s); no spans are exported",
            EXTRA,
        )
        return None
    # The SDK's own log lines (an endpoint that is down) must not become error events.
    ignore_logger("opentelemetry*")
    return OtlpExporter(endpoint, options.otlp_headers, _resource(options))


def _resource(options: Options) -> dict[str, Any]:
    """What the spans and metrics are about (`service.name` from `OTEL_SERVICE_NAME`)."""
    out: dict[str, Any] = {}
    for key, value in (
        ("service.name", options.service_name),
        ("service.version", options.release),
        ("deployment.environment.name", options.environment),
        ("host.name", options.server_name),
    ):
        if value:
            out[key] = value
    return out


def _close_at_exit(tracing: Tracing) -> None:
    """Send what waits when the process ends, unless `shutdown` did already."""
    ref = weakref.ref(tracing)

    def close() -> None:
        alive = ref()
        if alive is not None:
            alive.close(2.0)

    _fork.at_exit(close)
