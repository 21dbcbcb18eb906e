"""What is known about the current request and model call, carried in context variables.

The middleware sets the request once; everything that needs it (event processors, log filters,
generation records) reads it at the moment it is needed, so the success path does no extra work.
"""

from __future__ import annotations

import random
import re
import time
from contextvars import ContextVar
from typing import Any

from starlette.routing import Mount

from ._redact import filtered, is_sensitive_key, redact_query, redact_text
from ._route_label import matched_route
from ._types import Mask

_IDS = frozenset({b"x-request-id", b"traceparent", b"sentry-trace"})
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_SENTRY_TRACE = re.compile(r"^([0-9a-f]{32})-([0-9a-f]{16})(?:-([01]))?$")
# UUIDv7's version (7) and variant (0b10) bits, over random bits of the same places
_UUID7_CLEAR = ~(0xF << 76 | 0b11 << 62)
_UUID7_SET = 0x7 << 76 | 0b10 << 62


class RequestInfo:
    """One HTTP request as the middleware saw it; request data is built only when needed."""

    __slots__ = ("model_calls", "request_id", "scope", "trace", "trace_id")

    def __init__(self, request_id: str, trace_id: str, scope: dict[str, Any]) -> None:
        self.request_id = request_id
        self.trace_id = trace_id
        self.scope = scope
        # The request's last finished model calls (`ModelCall`s, outermost only), so that a
        # failure after a model answered still shows what the model received and returned.
        self.model_calls: list[Any] = []
        self.trace: Any = None  # its spans until the sampling decision, when spans are exported

    @classmethod
    def from_scope(cls, scope: dict[str, Any]) -> RequestInfo:
        # Most requests carry none of the three headers: look, and decode only what is there.
        given: dict[bytes, bytes] | None = None
        for name, value in scope["headers"]:
            if name in _IDS:  # ASGI header names are lower-case bytes
                given = given or {}
                given[name] = value
        if given is None:
            trace_id = new_id()
            return cls(trace_id, trace_id, scope)
        # Each request gets its own trace: sentry-sdk's would be one per process here, since no
        # integration of its starts a transaction for the request.
        trace_id = _trace_id(given) or new_id()
        request_id = given.get(b"x-request-id", b"").decode("latin-1")
        return cls(request_id if _SAFE_ID.match(request_id) else trace_id, trace_id, scope)

    @property
    def method(self) -> str:
        return str(self.scope.get("method", ""))

    @property
    def route(self) -> str | None:
        """The route template (`/items/{item_id}`), once routing has happened."""
        route = matched_route(self.scope)
        template = _included_path(self.scope) or getattr(route, "path", None)
        if not isinstance(template, str):
            return None
        root_path = self.scope.get("root_path")
        if not root_path:
            return template
        prefix = str(root_path)[len(str(self.scope.get("app_root_path", ""))) :]
        if not prefix:
            return template
        # Inside a Mount, `root_path` holds the matched path (`/users/42`), not the template.
        own = getattr(route, "param_convertors", {}) if not isinstance(route, Mount) else {}
        prefix = _template(prefix, self.scope.get("path_params") or {}, own)
        # A Mount that answered itself (static files, a plain ASGI app) is already the prefix.
        return prefix if isinstance(route, Mount) else prefix + template

    def as_sentry_request(self, mask: Mask | None = None) -> dict[str, Any]:
        """Method, URL, filtered headers and query string, in Sentry's `request` shape."""
        scope = self.scope
        headers = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            headers[name] = (
                filtered(value, name=name) if is_sensitive_key(name) else redact_text(value, mask)
            )
        host = headers.get("host") or "localhost"
        path = str(scope.get("root_path", "")) + str(scope.get("path", ""))
        return {
            "method": self.method,
            "url": redact_text(f"{scope.get('scheme', 'http')}://{host}{path}", mask),
            "query_string": redact_query(scope.get("query_string", b"").decode("latin-1"), mask),
            "headers": headers,
        }


def _included_path(scope: dict[str, Any]) -> str | None:
    """The template with its `include_router(prefix=...)`: FastAPI 0.16x keeps an included
    router's own route in `scope["route"]` and the prefixed one in its effective context."""
    fastapi = scope.get("fastapi")
    effective = fastapi.get("effective_route_context") if isinstance(fastapi, dict) else None
    path = getattr(effective, "path", None)
    return path if isinstance(path, str) else None


def _template(prefix: str, params: dict[str, Any], own: Any) -> str:
    """`/users/42/v1` back to `/users/{user_id}/v1`, using the mounts' path parameters."""
    names = {str(v): k for k, v in params.items() if k not in own}
    if not names:
        return prefix
    return "/".join("{" + names[s] + "}" if s in names else s for s in prefix.split("/"))


def new_id() -> str:
    """A 32-hex-digit id laid out as a UUIDv7: the time in milliseconds, then 74 random bits.

    Ids made one after another sort together, so the store's index of request ids takes each
    new one on its last pages; random ones landed on a different page each and made the writer
    rewrite a page of that index for every request row. Not a secret, so the random part need
    not cost an `os.urandom` call a request.
    """
    value = time.time_ns() // 1_000_000 << 80 | random.getrandbits(80)
    return f"{value & _UUID7_CLEAR | _UUID7_SET:032x}"


class Caller:
    """What the caller said of the trace: its span (this request's parent), Sentry's sampling
    decision (`sentry-trace` ...-1 or -0) and the `traceparent` sampled flag."""

    __slots__ = ("sampled", "sentry_sampled", "span_id")

    def __init__(
        self, span_id: str | None, sentry_sampled: bool | None, sampled: bool | None
    ) -> None:
        self.span_id, self.sentry_sampled, self.sampled = span_id, sentry_sampled, sampled


def caller(request: RequestInfo) -> Caller:
    """The caller's part of the request's trace, from the headers that carry its trace id."""
    headers = {n: v for n, v in request.scope["headers"] if n in _IDS}
    found: dict[bytes, re.Match[str]] = {}
    for name, pattern in ((b"traceparent", _TRACEPARENT), (b"sentry-trace", _SENTRY_TRACE)):
        match = pattern.match(headers.get(name, b"").decode("latin-1").strip())
        if match and match.group(1) == request.trace_id:
            found[name] = match
    if not found:
        return Caller(None, None, None)
    span_id = next(iter(found.values())).group(2)
    sentry = found.get(b"sentry-trace")
    decided = sentry.group(3) if sentry else None
    sentry_sampled = None if decided is None else decided == "1"
    w3c = found.get(b"traceparent")
    flag = bool(int(w3c.group(3), 16) & 1) if w3c else sentry_sampled
    return Caller(span_id, sentry_sampled, flag)


def _trace_id(headers: dict[bytes, bytes]) -> str | None:
    for name, pattern in ((b"traceparent", _TRACEPARENT), (b"sentry-trace", _SENTRY_TRACE)):
        match = pattern.match(headers.get(name, b"").decode("latin-1").strip())
        if match:
            return match.group(1)
    return None


current_request: ContextVar[RequestInfo | None] = ContextVar("inferwatch_request", default=None)
current_call: ContextVar[Any] = ContextVar("inferwatch_model_call", default=None)
"""The `ModelCall` being recorded, if any: a model call made inside it nests under it."""


def request_id() -> str | None:
    """The id of the request being served, if any."""
    request = current_request.get()
    return request.request_id if request else None
