"""Structured logs: a JSON formatter, and a filter that puts the request id, trace id and model
name on every record logged inside a request.

    import logging, inferwatch
    handler = logging.StreamHandler()
    handler.setFormatter(inferwatch.JsonFormatter())
    handler.addFilter(inferwatch.RequestIdFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

from ._context import current_model, current_request

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Adds `request_id`, `trace_id` and `model` to records logged inside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = current_request.get()
        if request is not None:
            if getattr(record, "request_id", None) is None:
                record.request_id = request.request_id
            if request.trace_id and getattr(record, "trace_id", None) is None:
                record.trace_id = request.trace_id
        model = current_model.get()
        if model is not None and getattr(record, "model", None) is None:
            record.model = model
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
