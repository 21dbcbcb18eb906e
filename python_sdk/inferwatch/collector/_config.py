"""The collector's settings and its public key."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

from sentry_sdk.utils import BadDsn, Dsn

from .._errors import ConfigError

KEY_FILE = "collector.key"


@dataclass(frozen=True, kw_only=True)
class CollectorConfig:
    """What the ingest routes check: the key, the allowed origins, and the size and rate limits.

    `rate_per_second` and `rate_burst` count events (and 64 KiB of body each) per client, a key
    and an address (0 events a second: no limit; see `_flood`); `max_new_issues_per_minute` caps
    the issues a key opens (0: no cap; see `_new_issues`).

    >>> CollectorConfig(key="abc", allow_origins=("https://app.example",))  # doctest: +ELLIPSIS
    CollectorConfig(...)
    """

    key: str
    allow_origins: tuple[str, ...] = ()
    loopback: bool = True
    max_body_bytes: int = 256 * 1024
    max_event_bytes: int = 1024 * 1024
    max_envelope_bytes: int = 20 * 1024 * 1024
    # Attachments (log files, screenshots, minidumps) are stored beside their event up to this
    # size each; 0 stores none. They are kept as sent: redaction cannot read inside a file.
    max_attachment_bytes: int = 1024 * 1024
    # An event dated further back is stored at the time it arrived, its own time kept in its
    # `errors` (as Relay does at 30 days): retention would otherwise delete it on arrival.
    max_event_age_days: float = 30.0
    # A busy backend sending every event from one host gets a few hundred events a second
    # through, and the largest envelope an SDK may send (1,000 items) passes in one go.
    rate_per_second: float = 300.0
    rate_burst: int = 1000
    # A release that breaks things opens a few dozen issues; a flood of distinct errors, thousands.
    max_new_issues_per_minute: int = 100
    dsn: str | None = None
    tunnel_dsns: tuple[str, ...] = ()
    # Forward tunnel envelopes as the page sent them, unredacted, attachments included: only
    # for a Sentry project that must see exactly what the browser SDK sent.
    tunnel_verbatim: bool = False
    # Build output folders whose source maps resolve browser stacks (`serve --sourcemaps`).
    sourcemap_dirs: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if not self.key or not self.key.isascii() or not self.key.replace("-", "").isalnum():
            raise ConfigError(
                f"inferwatch: the collector key must be letters and digits, got {self.key!r}"
            )
        for origin in self.allow_origins:
            if not origin.startswith(("http://", "https://")) or origin.rstrip("/") != origin:
                raise ConfigError(
                    f"inferwatch: --allow-origin must look like https://app.example.com, got {origin!r}"
                )
        for dsn in (self.dsn, *self.tunnel_dsns):
            if dsn is not None:
                _check_dsn(dsn)
        _check_limits(self)


def _check_limits(config: CollectorConfig) -> None:
    for name, flag, least in (
        ("max_attachment_bytes", "--max-attachment-bytes", 0),
        ("max_event_age_days", "--max-age-days", 1 / 86400),
        ("rate_per_second", "--rate-limit", 0),
        ("rate_burst", "--rate-burst", 1),
        ("max_new_issues_per_minute", "--max-new-issues-per-minute", 0),
    ):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= least:
            raise ConfigError(
                f"inferwatch: {flag} must be a number of at least {least}, got {value!r}"
            )


def _check_dsn(dsn: str) -> None:
    try:
        Dsn(dsn)
    except BadDsn as exc:
        raise ConfigError(f"inferwatch: {dsn!r} is not a valid Sentry DSN") from exc


def load_or_create_key(store_path: Path) -> str:
    """The key kept beside the store, made on first use."""
    path = store_path.parent / KEY_FILE
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def is_loopback_host(host: str) -> bool:
    """Whether `host` (an address or `localhost`) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
