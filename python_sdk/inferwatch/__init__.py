"""inferwatch: error reporting and monitoring for AI web apps.

import inferwatch
inferwatch.init(app)

@inferwatch.watch_model("sentiment")
def predict(text: str) -> str: ...
"""

from __future__ import annotations

from ._asgi import Middleware
from ._errors import ConfigError, InferwatchError, StoreError
from ._init import capture_exception, flush, init, log_usage, shutdown, stats
from ._logging import JsonFormatter, RequestIdFilter, logging_config
from ._metrics_route import add_metrics_route
from ._model import ModelCall
from ._version import VERSION as __version__
from ._watch import model_context, watch_model
from .store._retention import Retention

__all__ = [
    "ConfigError",
    "InferwatchError",
    "JsonFormatter",
    "Middleware",
    "ModelCall",
    "RequestIdFilter",
    "Retention",
    "StoreError",
    "__version__",
    "add_metrics_route",
    "capture_exception",
    "flush",
    "init",
    "log_usage",
    "logging_config",
    "model_context",
    "shutdown",
    "stats",
    "watch_model",
]
