"""What the dashboard reads from a request: the issue filters, page numbers, a local `next`
path and the small forms it posts (status changes, the login)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from fastapi import HTTPException, Request
from starlette.requests import ClientDisconnect

from .._disconnects import HANG_UPS
from ..store._admin import STATUSES

MAX_FORM_BYTES = 4096
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9._~/?=&%+:,-]*")


def issue_filters(request: Request) -> dict[str, str | None]:
    params = request.query_params
    status = params.get("status", "unresolved")
    return {
        "status": status if status in STATUSES else None,  # "all" (or anything else): no filter
        "platform": params.get("platform") or None,
        "environment": params.get("environment") or None,
        "release": params.get("release") or None,
        "search": (params.get("q") or "").strip()[:200] or None,
    }


def int_param(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 100_000 else default


def local_path(path: str) -> str:
    """Only a path on this site, so a crafted `next` cannot send the browser elsewhere.

    Browsers drop tabs and newlines from URLs and read `\\` as `/`, so `/\t/evil.example` would
    be `//evil.example`: anything but plain path characters falls back to `/`.

    >>> local_path("/issues/3?event=ab"), local_path("//evil.example"), local_path("/\t/x")
    ('/issues/3?event=ab', '/', '/')
    """
    return path if _LOCAL_PATH.fullmatch(path) else "/"


async def read_form(request: Request) -> dict[str, str]:
    """A small urlencoded form (the dashboard's forms hold a few short fields)."""
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise HTTPException(413, "The form is too large.")
    except ClientDisconnect:  # the login form takes anyone's request: no traceback for it
        route = request.scope.get("route")
        HANG_UPS.note(f"POST {getattr(route, 'path', request.url.path)}")
        raise HTTPException(400, "The request body was cut short.") from None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}
