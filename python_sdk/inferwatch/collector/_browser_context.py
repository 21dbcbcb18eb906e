"""What a browser error says about where it happened, in the Sentry event schema.

The `request` interface is what Sentry's browser SDK sends: the page URL, and the `Referer` and
`User-Agent` headers. The user agent is the batch's own HTTP header (the snippet does not spend
bytes sending it again), from which Sentry's normalizer derives the browser, OS and device
contexts. The `page` context holds what no Sentry interface has a place for: the viewport and
the connection's effective type.
"""

from __future__ import annotations

from typing import Any

from .._redact import redact_url
from . import _browser_schema as schema

MAX_USER_AGENT = 512  # real ones are under 300 characters


def request_interface(event: schema.ErrorEvent, user_agent: str | None) -> dict[str, Any]:
    """`request`: the page URL and the headers the browser sent with it (empty when none)."""
    out: dict[str, Any] = {}
    if event.url:
        out["url"] = redact_url(event.url)
    headers = {}
    if user_agent:
        headers["User-Agent"] = user_agent[:MAX_USER_AGENT]
    if event.referrer:
        headers["Referer"] = redact_url(event.referrer)
    if headers:
        out["headers"] = headers
    return out


def page_context(event: schema.ErrorEvent) -> dict[str, Any]:
    """`contexts.page`: the viewport ("1280x720") and the effective connection type ("4g"),
    those the browser had (empty when neither)."""
    page = {"viewport": event.viewport, "effective_connection_type": event.connection}
    return {k: v for k, v in page.items() if v}
