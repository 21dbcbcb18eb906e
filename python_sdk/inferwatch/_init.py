"""`init`, `flush`, `shutdown`, `capture_exception`, `log_usage`: the SDK's entry points."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, cast

import sentry_sdk
from sentry_sdk.integrations.logging import ignore_logger
from sentry_sdk.integrations.modules import ModulesIntegration

from . import _metrics, _runtime, integrations
from ._asgi import Middleware
from ._context import request_id
from ._forward import Forwarder
from ._metrics_route import add_metrics_route
from ._options import DEFAULT, Options
from ._outbox import OUTBOX_FILE
from ._processors import pipeline, transaction_pipeline
from ._redact import redact_text
from ._summary import summarize
from ._transport import LocalTransport
from ._types import Environ
from .alerts import AlertConfig, Alerter
from .export import _tracing
from .export._setup import tracing_for
from .store import Store
from .store._pruner import Pruner

logger = logging.getLogger("inferwatch")
_announced: set[Path] = set()


def init(
    app: Any = None, *, store: Any = DEFAULT, environ: Environ | None = None, **options: Any
) -> None:
    """Configure inferwatch once, at start-up; with `app`, also add `Middleware` to it.

    No DSN: events go to the local store and nothing goes over the network. The store is
    `INFERWATCH_STORE`, else `events.db` in the nearest `.inferwatch/` folder (this folder or a
    parent), else `.inferwatch/events.db` here; its absolute path is logged at INFO, once. With a DSN (argument or `SENTRY_DSN`) they also go to Sentry;
    `store=None` sends them to Sentry only. Calling `init` again replaces the configuration.

    >>> inferwatch.init(app, environment="prod")  # doctest: +SKIP
    """
    opts = Options.build(environ=environ, store=store, **options)
    shutdown()
    _announce(opts.store)
    tracing = tracing_for(opts, endpoint_given=options.get("otlp_endpoint") is not None)
    local = Store(opts.store, queue_size=opts.queue_size) if opts.store is not None else None
    forwarder = Forwarder(opts.dsn, outbox=outbox_path(opts)) if opts.dsn else None
    pruner = Pruner(opts.store, opts.retention) if opts.store and opts.retention else None
    alerter = _alerter_for(opts, local)
    _runtime.install(_runtime.Runtime(opts, local, forwarder, pruner, tracing, alerter))
    sentry_sdk.init(
        dsn=opts.dsn or "",
        transport=LocalTransport(local, forwarder),
        before_send=cast(Any, pipeline(opts)),
        environment=opts.environment,
        release=opts.release,
        server_name=opts.server_name,
        sample_rate=opts.sample_rate,
        include_local_variables=opts.include_local_variables,
        # sentry-sdk's Starlette/FastAPI integration doubles the cost of a trivial request and
        # reads bodies eagerly; our Middleware replaces it.
        auto_enabling_integrations=False,
        max_breadcrumbs=50,
        in_app_exclude=["inferwatch"],
        # Source lines come from our own cached step (`add_source_context`), and the list of
        # installed packages is not sent: together most of the cost of a capture.
        include_source_context=False,
        disabled_integrations=[ModulesIntegration()],
        debug=opts.debug,
        # Requests become transactions only through inferwatch's own decision (export/), made
        # when each ends; sentry-sdk samples with these only the transactions the app starts.
        traces_sample_rate=opts.traces_sample_rate if opts.sentry_tracing else None,
        traces_sampler=opts.traces_sampler if opts.sentry_tracing else None,
        before_send_transaction=cast(Any, transaction_pipeline(opts)),
    )
    _tracing.install(tracing)
    # inferwatch's own log lines must not become events (a failing store would feed itself).
    ignore_logger("inferwatch")
    ignore_logger("inferwatch.request")
    if app is not None and opts.middleware:
        add_middleware(app)
    _start_metrics(app, opts)
    integrations.install(_integrations(opts))


def _announce(store: Path | None) -> None:
    """Say once which file this process stores into: the one `inferwatch serve` must read."""
    if store is not None and store not in _announced:
        _announced.add(store)
        logger.info("inferwatch: storing events in %s", store)


def _start_metrics(app: Any, opts: Options) -> None:
    """Metrics on, and `/metrics` on `app`."""
    _metrics.enable(opts.metrics)
    if opts.metrics and app is not None and not add_metrics_route(app, opts.metrics_path):
        logger.warning(
            "inferwatch: %s is already routed on this app; set metrics_path to serve "
            "inferwatch's metrics elsewhere",
            opts.metrics_path,
        )


def _alerter_for(opts: Options, local: Store | None) -> Alerter | None:
    """An alerter on the store when webhooks are set."""
    config = AlertConfig(
        webhooks=opts.alert_webhooks,
        slack_webhooks=opts.slack_webhooks,
        quiet_minutes=opts.alert_quiet_minutes,
        max_per_hour=opts.alert_max_per_hour,
        spike_factor=opts.alert_spike_factor,
    )
    if not config.enabled:
        return None
    if local is None:
        logger.warning("inferwatch: alert webhooks need the local store; store=None sends none")
        return None
    alerter = Alerter(config)
    alerter.attach(local)
    return alerter


def _integrations(opts: Options) -> list[integrations.Integration]:
    if opts.integrations is not None:
        return list(opts.integrations)
    return integrations.default_integrations() if opts.default_integrations else []


def outbox_path(opts: Options) -> Path | None:
    """Envelopes for Sentry wait beside the store; `store=None` writes no file, so in memory."""
    return opts.store.parent / OUTBOX_FILE if opts.store is not None else None


def add_middleware(app: Any) -> None:
    """Put `Middleware` around a Starlette/FastAPI app, once: outside Starlette's own error
    middleware, so that the 500 it answers for an unhandled exception carries X-Request-ID too
    (`app.add_middleware` would put it inside, where that answer never passes)."""
    build = getattr(app, "build_middleware_stack", None)
    if build is None:
        logger.warning(
            "inferwatch: %r is not a Starlette or FastAPI app; wrap it yourself:"
            " app = inferwatch.Middleware(app)",
            app,
        )
        return
    if getattr(build, "inferwatch_wrapped", False) or any(
        getattr(m, "cls", None) is Middleware for m in app.user_middleware
    ):
        return  # `init` called again, or the middleware added by hand

    def build_with_inferwatch() -> Any:
        return Middleware(build())

    build_with_inferwatch.inferwatch_wrapped = True  # type: ignore[attr-defined]
    app.build_middleware_stack = build_with_inferwatch
    if app.middleware_stack is not None:  # already serving: wrap the stack it serves with
        app.middleware_stack = Middleware(app.middleware_stack)


def flush(timeout: float = 5.0) -> bool:
    """Wait until every captured event is stored (and handed to Sentry), and kept spans are
    sent to the OTLP endpoint, or `timeout` passes.

    Returns True when what was captured since the last `flush` reached the store (a malformed
    row is dropped on its own and counted, and does not change that). False when the timeout
    passed, or when the store refused rows since the last `flush` (the file cannot be created
    or opened, is read-only or full, or stayed locked): those rows are dropped, a warning is
    logged once, and `inferwatch.stats()` counts them and names the reason in `last_error`.

    >>> if not inferwatch.flush(5):                  # doctest: +SKIP
    ...     print(inferwatch.stats()["last_error"])  # {'reason': 'unwritable', ...}
    """
    sentry_sdk.flush(timeout=timeout)
    runtime = _runtime.current()
    if runtime is not None and runtime.tracing is not None:
        runtime.tracing.flush(timeout)
    if runtime is None or runtime.store is None:
        return True
    drained = runtime.store.flush(timeout)
    return runtime.store.take_refusals() == 0 and drained


def stats() -> dict[str, Any] | None:
    """What the local store did since `init`, or None without one (before `init`, or with
    `store=None`): its absolute path, rows accepted, stored and dropped by reason, the queue
    depth, and `last_error` (the reason, message and time rows were last dropped, or None).

    >>> if not inferwatch.flush():                   # doctest: +SKIP
    ...     print(inferwatch.stats()["last_error"])  # {'reason': 'unwritable', ...}
    """
    runtime = _runtime.current()
    if runtime is None or runtime.store is None:
        return None
    return runtime.store.stats()


def shutdown(timeout: float = 5.0) -> None:
    """Drain the queues and stop inferwatch's threads (also done at interpreter exit)."""
    _tracing.install(None)
    previous = _runtime.install(None)
    if previous is not None:
        client = sentry_sdk.get_client()
        client.close(timeout=timeout)  # flushes through our transport, which drains the store
        sentry_sdk.get_global_scope().set_client(None)
        previous.close(timeout)
    integrations.install([])  # patched clients call straight through until the next `init`


def capture_exception(error: BaseException | None = None) -> str | None:
    """Capture `error` (or the one being handled) with the request and model context.

    >>> try: predict(x)
    ... except ValueError as exc: inferwatch.capture_exception(exc)  # doctest: +SKIP
    """
    return sentry_sdk.capture_exception(error)


def log_usage(endpoint: str, user_input: Any) -> None:
    """Store a usage record (redacted, summarised) for later analytics; never raises.

    >>> inferwatch.log_usage("/predict", {"text": text})  # doctest: +SKIP
    """
    runtime = _runtime.current()
    if runtime is None or runtime.store is None:
        return
    try:
        name = endpoint if isinstance(endpoint, str) else f"<{type(endpoint).__name__}>"
        runtime.store.add(
            "usage",
            {
                "timestamp": time.time(),
                "endpoint": redact_text(str.__str__(name)[:200], runtime.options.mask),
                "request_id": request_id(),
                "data": summarize(user_input, runtime.budget),
            },
        )
    except Exception:  # recording usage must never break the request that logs it
        logger.debug("inferwatch: could not record usage", exc_info=True)
