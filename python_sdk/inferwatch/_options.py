"""Typed options for `inferwatch.init`; the environment is read here and nowhere else."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ._errors import ConfigError
from ._store_location import FILE, FOLDER, absolute, default_store
from ._types import BeforeSend, Environ, Mask, TracesSampler
from .store._retention import Retention

DEFAULT_STORE = Path(FOLDER) / FILE
"""The store's place relative to the project folder; `default_store` finds that folder."""


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()
"""Marks an option left to its default (for `store`, where `None` means "no store")."""


@dataclass(frozen=True, kw_only=True)
class Options:
    """Everything `init` accepts, checked once.

    >>> Options(sample_rate=0.5).sample_rate
    0.5
    """

    dsn: str | None = None
    store: Path | None = DEFAULT_STORE
    environment: str | None = None
    release: str | None = None
    server_name: str | None = None  # the host events name; None: this machine's name
    sample_rate: float = 1.0
    generations_sample_rate: float = 1.0
    include_local_variables: bool = False
    max_field_chars: int = 10_000
    max_context_bytes: int = 20_000
    queue_size: int = 10_000
    mask: Mask | None = None
    before_send: BeforeSend | None = None
    middleware: bool = True
    log_model_calls: bool = True
    debug: bool = False
    metrics: bool = False
    metrics_path: str = "/metrics"
    alert_webhooks: tuple[str, ...] = ()
    slack_webhooks: tuple[str, ...] = ()
    alert_quiet_minutes: float = 60.0
    alert_max_per_hour: int = 20
    alert_spike_factor: float = 3.0
    retention: Retention | None = field(default_factory=Retention)
    integrations: tuple[Any, ...] | None = None  # None: those of installed client libraries
    default_integrations: bool = True
    # Spans (export/): to Sentry with a DSN and a rate or sampler, to OpenTelemetry with an
    # endpoint. None: no Sentry transactions; OTLP alone keeps every request (OTel's default).
    traces_sample_rate: float | None = None
    traces_sampler: TracesSampler | None = None
    otlp_endpoint: str | None = None
    otlp_headers: dict[str, str] = field(default_factory=dict)
    capture_message_content: bool = False
    service_name: str | None = None

    def __post_init__(self) -> None:
        for name in ("sample_rate", "generations_sample_rate"):
            _check_rate(name, getattr(self, name))
        for name in ("max_field_chars", "max_context_bytes", "queue_size"):
            _check_positive_int(name, getattr(self, name))
        for name in ("mask", "before_send"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise ConfigError(f"inferwatch: option {name!r} must be callable, got {value!r}")
        for name in ("dsn", "environment", "release", "server_name", "service_name"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"inferwatch: option {name!r} must be a string, got {value!r}")
        if self.dsn:
            _check_dsn(self.dsn)
        if self.retention is not None and not isinstance(self.retention, Retention):
            raise ConfigError(
                f"inferwatch: option 'retention' must be a Retention(...) or None, "
                f"got {self.retention!r}"
            )
        self._check_monitoring()
        self._check_integrations()
        self._check_tracing()

    def _check_tracing(self) -> None:
        if self.traces_sample_rate is not None:
            _check_rate("traces_sample_rate", self.traces_sample_rate)
        if self.traces_sampler is not None and not callable(self.traces_sampler):
            raise ConfigError(
                f"inferwatch: option 'traces_sampler' must be callable, got {self.traces_sampler!r}"
            )
        if self.otlp_endpoint is not None:
            parts = urlsplit(self.otlp_endpoint) if isinstance(self.otlp_endpoint, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(
                    "inferwatch: option 'otlp_endpoint' must be an http(s) URL such as"
                    f" 'http://collector:4318', got {safe_url(self.otlp_endpoint)!r}"
                )
        headers = self.otlp_headers
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise ConfigError(
                "inferwatch: option 'otlp_headers' must map header names to string values"
            )
        object.__setattr__(self, "otlp_headers", dict(headers))
        if not isinstance(self.capture_message_content, bool):
            raise ConfigError(
                "inferwatch: option 'capture_message_content' must be True or False,"
                f" got {self.capture_message_content!r}"
            )

    @property
    def sentry_tracing(self) -> bool:
        """Whether requests become Sentry transactions: a DSN, and a rate or a sampler."""
        return bool(self.dsn) and (
            self.traces_sample_rate is not None or self.traces_sampler is not None
        )

    def _check_integrations(self) -> None:
        if self.integrations is None:
            return
        if isinstance(self.integrations, str) or not isinstance(self.integrations, Iterable):
            raise ConfigError(
                f"inferwatch: option 'integrations' must be a list such as "
                f"[OpenAIIntegration()], got {self.integrations!r}"
            )
        chosen = tuple(self.integrations)
        for integration in chosen:
            if not callable(getattr(integration, "setup", None)) or not isinstance(
                getattr(integration, "name", None), str
            ):
                raise ConfigError(
                    f"inferwatch: {integration!r} in option 'integrations' is not an integration"
                    " (one of inferwatch.integrations, such as OpenAIIntegration())"
                )
        object.__setattr__(self, "integrations", chosen)

    def _check_monitoring(self) -> None:
        for name in ("alert_webhooks", "slack_webhooks"):
            object.__setattr__(self, name, check_urls(name, getattr(self, name)))
        check_number("alert_quiet_minutes", self.alert_quiet_minutes, minimum=0)
        check_number("alert_max_per_hour", self.alert_max_per_hour, minimum=1, integer=True)
        check_number("alert_spike_factor", self.alert_spike_factor, minimum=0)
        if not isinstance(self.metrics_path, str) or not self.metrics_path.startswith("/"):
            raise ConfigError(
                f"inferwatch: option 'metrics_path' must be a path such as '/metrics', "
                f"got {self.metrics_path!r}"
            )

    @classmethod
    def build(
        cls, *, environ: Environ | None = None, store: Any = DEFAULT, **kwargs: Any
    ) -> Options:
        """Options from keyword arguments, filling DSN and store from the environment."""
        env = os.environ if environ is None else environ
        _check_known(kwargs, [f.name for f in fields(cls)])
        if kwargs.get("dsn") is None:
            kwargs["dsn"] = env.get("SENTRY_DSN") or None
        for name, var in (("environment", "SENTRY_ENVIRONMENT"), ("release", "SENTRY_RELEASE")):
            if kwargs.get(name) is None:
                kwargs[name] = env.get(var) or None
        _otel_from_environment(kwargs, env)
        return cls(store=_store_path(store, env), **kwargs)


def _check_known(given: Mapping[str, Any], known: list[str]) -> None:
    """Refuse an option `init` does not take, naming the one that was probably meant."""
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return
    message = f"inferwatch: unknown option {unknown[0]!r}"
    close = difflib.get_close_matches(unknown[0], known, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    raise ConfigError(message)


def _otel_from_environment(kwargs: dict[str, Any], env: Environ) -> None:
    """The standard OpenTelemetry variables, for what `init` was not given: the OTLP endpoint
    (a base URL; `/v1/traces` and `/v1/metrics` are added), its headers, the service name and
    whether GenAI message content is captured."""
    if kwargs.get("otlp_endpoint") is None:
        kwargs["otlp_endpoint"] = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
    if kwargs.get("otlp_headers") is None:
        kwargs["otlp_headers"] = otlp_headers(env.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
    if kwargs.get("service_name") is None:
        kwargs["service_name"] = env.get("OTEL_SERVICE_NAME") or None
    if kwargs.get("capture_message_content") is None:
        flag = env.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "")
        kwargs["capture_message_content"] = flag.strip().lower() in CAPTURE_CONTENT_VALUES


# `true` (the GenAI instrumentations' switch), and the newer modes that put content on spans.
CAPTURE_CONTENT_VALUES = frozenset({"true", "1", "yes", "span_only", "span_and_event"})


def otlp_headers(text: str) -> dict[str, str]:
    """`OTEL_EXPORTER_OTLP_HEADERS` (`api-key=abc,x-tenant=t%201`) as a dict; a pair without
    `=` is skipped, as the OpenTelemetry SDK skips it.

    >>> otlp_headers("api-key=abc, x-tenant=t%201")
    {'api-key': 'abc', 'x-tenant': 't 1'}
    """
    out = {}
    for pair in text.split(","):
        name, sep, value = pair.partition("=")
        if sep and name.strip():
            out[unquote(name.strip()).lower()] = unquote(value.strip())
    return out


def _store_path(store: Any, env: Environ) -> Path | None:
    if store is None:
        return None
    if store is DEFAULT:
        return default_store(env)
    if isinstance(store, str | os.PathLike):
        return absolute(store)
    raise ConfigError(f"inferwatch: option 'store' must be a path or None, got {store!r}")


def _check_rate(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(
            f"inferwatch: option {name!r} must be a number between 0 and 1, got {value!r}"
        )


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"inferwatch: option {name!r} must be a positive integer, got {value!r}")


def _check_dsn(dsn: str) -> None:
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        Dsn(dsn)
    except BadDsn as exc:
        raise ConfigError(f"inferwatch: option 'dsn' is not a valid Sentry DSN: {dsn!r}") from exc


def check_urls(option: str, value: object) -> tuple[str, ...]:
    """Webhook URLs as a tuple; each must be an http(s) URL with a host."""
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, list | tuple):
        raise ConfigError(f"inferwatch: option {option!r} must be a list of URLs, got {value!r}")
    for url in value:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"inferwatch: option {option!r} must hold http(s) URLs, got {safe_url(url)!r}"
            )
    return tuple(value)


def check_number(option: str, value: object, *, minimum: float, integer: bool = False) -> None:
    """`value` is a number (an int when `integer`) no smaller than `minimum`."""
    kinds = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kinds) or not value >= minimum:
        what = "an integer" if integer else "a number"
        raise ConfigError(
            f"inferwatch: option {option!r} must be {what} >= {minimum}, got {value!r}"
        )


def safe_url(url: object) -> str:
    """A URL as messages and logs show it: scheme and host only (a webhook URL carries its
    secret in the path)."""
    if not isinstance(url, str):
        return repr(url)
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…" if parts.hostname else "<not a URL>"
