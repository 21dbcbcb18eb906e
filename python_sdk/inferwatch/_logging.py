"""Structured logs: a JSON formatter, and a filter that puts the request id, trace id and model
name on every record logged inside a request.

    import logging, inferwatch
    handler = logging.StreamHandler()
    handler.setFormatter(inferwatch.JsonFormatter())
    handler.addFilter(inferwatch.RequestIdFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])

For uvicorn, `logging_config()` is a whole `logging.dictConfig` that does the same and writes one
JSON line per request (logger `inferwatch.request`: method, route, status, duration, request id)
in place of uvicorn's access log:

    uvicorn.run(app, log_config=inferwatch.logging_config())
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ._context import current_call, current_request

if TYPE_CHECKING:
    from ._context import RequestInfo

request_logger = logging.getLogger("inferwatch.request")
"""One INFO line per request, written by `Middleware` when this logger is enabled for INFO."""

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged,
# but for uvicorn's `color_message` (the message again, with ANSI colours for a console).
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
}


class RequestIdFilter(logging.Filter):
    """Adds `request_id`, `trace_id` and `model` to records logged inside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = current_request.get()
        if request is not None:
            if getattr(record, "request_id", None) is None:
                record.request_id = request.request_id
            if request.trace_id and getattr(record, "trace_id", None) is None:
                record.trace_id = request.trace_id
        call = current_call.get()
        if call is not None and getattr(record, "model", None) is None:
            record.model = call.name
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the fields given in `extra=`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and value is not None:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def log_request(request: RequestInfo, route: str | None, status: int, duration_ms: float) -> None:
    """The request's line: `GET /items/{item_id} 200 12.3ms`, with the fields as `extra`."""
    label = route or "<unmatched>"
    request_logger.info(
        "%s %s %d %.1fms",
        request.method,
        label,
        status,
        duration_ms,
        extra={
            "method": request.method,
            "route": label,
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "request_id": request.request_id,
            "trace_id": request.trace_id,
        },
    )


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.dictConfig` for uvicorn: JSON lines with request ids, one line per request.

    uvicorn's own access log is turned off: the `inferwatch.request` line replaces it and adds
    the route template and the duration. Pass it as `uvicorn.run(..., log_config=...)`, or save
    it with `json.dump` and start `uvicorn app:app --log-config logging.json`.

    >>> logging_config()["formatters"]["json"]["()"]
    'inferwatch.JsonFormatter'
    """
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "inferwatch.JsonFormatter"}},
        "filters": {"request_id": {"()": "inferwatch.RequestIdFilter"}},
        "handlers": {"json": handler},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            "inferwatch.request": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }
