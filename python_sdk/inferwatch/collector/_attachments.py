"""Attachment items: files an SDK sends with an event (a log, a screenshot, a minidump).

Each is stored beside its event, as sent, up to `max_attachment_bytes` (0: none). Redaction
cannot read inside a file, so they are only ever served as downloads from the dashboard, behind
its access rules (see `dashboard/_downloads.py`); the file name is redacted like any text.
"""

from __future__ import annotations

import re
from typing import Any

from .._envelope import Item
from .._redact import redact_text

MAX_NAME = 200
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}")


class Skipped(ValueError):
    """The attachment is not stored; the message is the reason, as counted."""


def attachment_row(item: Item, event_id: str | None, received: float, limit: int) -> dict[str, Any]:
    """The row an attachment item is stored as; `Skipped` with the reason when it is not."""
    if limit <= 0:
        raise Skipped("disabled")
    if len(item.payload) > limit:
        raise Skipped("too_large")
    if not event_id:
        raise Skipped("no_event")
    return {
        "timestamp": received,
        "event_id": event_id,
        "name": file_name(item.headers.get("filename")),
        "content_type": _content_type(item.headers.get("content_type")),
        "attachment_type": str(item.headers.get("attachment_type") or "event.attachment")[:64],
        "size": len(item.payload),
        "data": item.payload,
    }


def file_name(value: Any) -> str:
    """A file name fit to show and to offer as a download name: redacted, no path, no control
    characters, at most 200 characters.

    >>> file_name("../../etc/passwd"), file_name(None)
    ('passwd', 'attachment')
    """
    name = str(value or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"')
    return redact_text(name.strip())[:MAX_NAME] or "attachment"


def _content_type(value: Any) -> str | None:
    text = str(value or "").split(";", 1)[0].strip()
    return text if _CONTENT_TYPE.fullmatch(text) else None
