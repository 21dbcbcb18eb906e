"""The bodies an alert is posted as: generic JSON, and Slack's `{text}`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .._version import VERSION
from ._rules import Alert


def json_body(alert: Alert, dashboard_url: str | None = None) -> dict[str, Any]:
    """The generic webhook body."""
    issue = dict(alert.issue) if alert.issue else None
    if issue is not None and dashboard_url:
        issue["url"] = f"{dashboard_url.rstrip('/')}/issues/{issue['id']}"
    return {
        "source": "inferwatch",
        "version": VERSION,
        "kind": alert.kind,
        "text": alert.text,
        "issue": issue,
        "details": alert.details,
        "timestamp": datetime.fromtimestamp(alert.timestamp, timezone.utc).isoformat(),
    }


def slack_body(alert: Alert, dashboard_url: str | None = None) -> dict[str, Any]:
    """A Slack-compatible body: `text`, with `&`, `<`, `>` escaped so an exception message
    cannot ping `<!channel>` or forge a link."""
    text = _slack_escape(alert.text)
    if alert.issue is not None and dashboard_url:
        text += f" <{dashboard_url.rstrip('/')}/issues/{int(alert.issue['id'])}|open>"
    return {"text": text}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
