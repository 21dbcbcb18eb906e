"""User feedback: what a user typed into an SDK's feedback form, stored and shown on its issue.

Two item types carry it: `user_report`, the older one (`{"event_id", "name", "email",
"comments"}`, sent by `capture_user_feedback` and the crash-report dialog), and `feedback`, an
event whose `contexts.feedback` holds the message, the contact address, the page and the event
it is about (`Sentry.captureFeedback`, the feedback widget).

The message is redacted like every text; the name and the contact address are kept as typed,
since the user gave them to be contacted (see docs/privacy.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

from .. import _json
from .._redact import redact, redact_text, redact_url
from .._types import Event

MAX_MESSAGE = 10_000


def user_report_row(payload: bytes, received: float) -> dict[str, Any]:
    """The row of a `user_report` item; ValueError when it says nothing."""
    report = _json.loads(payload)
    if not isinstance(report, dict):
        raise ValueError("a user report must be a JSON object")
    message = _text(report.get("comments"))
    if not message:
        raise ValueError("a user report must have comments")
    event_id = _id(report.get("event_id"))
    name, email = _text(report.get("name"), 200), _text(report.get("email"), 200)
    digest = hashlib.sha256(f"{event_id}\x1f{name}\x1f{email}\x1f{message}".encode()).hexdigest()
    return {
        "timestamp": received,
        "feedback_id": digest[:32],  # a report sent twice is stored once
        "event_id": event_id,
        "name": name or None,
        "email": email or None,
        "message": redact_text(message),
        "url": None,
        "source": "user_report",
        "data": None,
    }


def feedback_row(event: Event, received: float) -> dict[str, Any]:
    """The row of a `feedback` item, from its normalized event; ValueError when it says nothing."""
    feedback = _mapping(_mapping(event.get("contexts")).get("feedback"))
    message = _text(feedback.get("message"))
    if not message:
        raise ValueError("a feedback item must have contexts.feedback.message")
    url = _text(feedback.get("url"), 2000)
    kept = {k: event[k] for k in ("release", "environment", "tags", "user") if k in event}
    return {
        "timestamp": received,
        "feedback_id": _id(event.get("event_id")) or hashlib.sha256(message.encode()).hexdigest(),
        "event_id": _id(feedback.get("associated_event_id")),
        "name": _text(feedback.get("name"), 200) or None,
        "email": _text(feedback.get("contact_email"), 200) or None,
        "message": redact_text(message),
        "url": redact_url(url) if url else None,
        "source": _text(feedback.get("source"), 64) or "feedback",
        "data": redact(kept) if kept else None,
    }


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = MAX_MESSAGE) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _id(value: Any) -> str | None:
    """An event id as the store keeps them (32 hex digits), or None."""
    text = value.replace("-", "").lower() if isinstance(value, str) else ""
    return text if len(text) == 32 and all(c in "0123456789abcdef" for c in text) else None
