"""Attachments served as downloads, never shown: an SDK's file can hold anything (HTML, a
script, a secret), so it is always sent as `application/octet-stream` with
`Content-Disposition: attachment` and `X-Content-Type-Options: nosniff`, behind the dashboard's
access rules, with a CSP that lets nothing run should a browser render it anyway."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

SANDBOX = "default-src 'none'; sandbox"


def attachment_response(found: dict[str, Any]) -> Response:
    """The attachment's bytes as a download under its (redacted) file name."""
    name = str(found["name"]) or "attachment"
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name
    )
    return Response(
        bytes(found["data"]),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": SANDBOX,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )
