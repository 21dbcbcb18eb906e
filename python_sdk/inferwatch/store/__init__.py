"""The local SQLite store: the writer, grouping into issues, and the queries that read it."""

from __future__ import annotations

from ._grouping import fingerprint, normalize_message
from ._insert import IssueChange
from ._queries import (
    get_issue,
    latest_event,
    list_generations,
    list_issues,
    list_usage,
    open_readonly,
)
from ._store import Store
from ._writer import Row

__all__ = [
    "IssueChange",
    "Row",
    "Store",
    "fingerprint",
    "get_issue",
    "latest_event",
    "list_generations",
    "list_issues",
    "list_usage",
    "normalize_message",
    "open_readonly",
]
