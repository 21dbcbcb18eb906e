"""`Refused`: how an ingest step says which error status to answer with."""

from __future__ import annotations


class Refused(Exception):
    """An ingest request answered with an error status; the message is for the SDK's log."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}
