"""Who may see the dashboard, and proof that a form was ours (CSRF).

Bound to loopback, no login is needed, but the `Host` header must name this machine: a page on
another site cannot read the dashboard through DNS rebinding. A request that came through a
reverse proxy (`proxy_pass http://127.0.0.1:8765` makes a loopback dashboard public) carries a
`Forwarded`, `X-Forwarded-*`, `X-Real-IP` or `Via` header: it needs the token even on loopback,
and without one configured it is refused with a message saying to set `--token`. Bound to
anything else, a token is required: `Authorization: Bearer TOKEN`, or the cookie the login form
sets (an HMAC of the token, never the token itself; HttpOnly, SameSite=Strict).

Wrong tokens are slowed down per client address (`FailureLimit`), but a valid credential is
always checked first and always accepted: behind a proxy every visitor has one address, and a
stranger's wrong guesses must not lock the operator out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from fastapi import Request

from ..collector import is_loopback_host

COOKIE = "iw_session"
# Headers reverse proxies add (RFC 7239 `Forwarded`, the de facto `X-Forwarded-*`, nginx's
# `X-Real-IP`, HTTP's `Via`, and the client-address headers of CDNs and load balancers).
_PROXY_HEADERS = frozenset(
    ["forwarded", "x-real-ip", "via", "true-client-ip", "x-client-ip", "cf-connecting-ip"]
)
NEEDS_TOKEN_BEHIND_PROXY = (
    "This dashboard is reached through a reverse proxy, which makes it public: start"
    " inferwatch serve with --token TOKEN (or set INFERWATCH_TOKEN) to use it from there."
)


@dataclass(frozen=True, kw_only=True)
class Access:
    """The dashboard's access rule: `Access(token=None, loopback=True)` for a local viewer.

    >>> Access(token="s3cret", loopback=False).needs_login
    True
    """

    token: str | None
    loopback: bool
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    @property
    def needs_login(self) -> bool:
        return self.token is not None

    def session_value(self) -> str:
        """The cookie value for a logged-in browser: stable across restarts, not the token."""
        assert self.token is not None
        return hmac.new(self.token.encode(), b"inferwatch-session", hashlib.sha256).hexdigest()

    def token_matches(self, candidate: str) -> bool:
        return self.token is not None and hmac.compare_digest(
            candidate.encode(), self.token.encode()
        )

    def allowed(self, request: Request) -> bool:
        """Whether this request may read the dashboard."""
        if not self.host_allowed(request):
            return False
        if self.token is None:
            return not self.proxied(request)
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.token_matches(value.strip()):
            return True
        cookie = request.cookies.get(COOKIE, "")
        return hmac.compare_digest(cookie.encode(), self.session_value().encode())

    def proxied(self, request: Request) -> bool:
        """Whether a loopback dashboard sees this request through a reverse proxy."""
        return self.loopback and any(
            name in _PROXY_HEADERS or name.startswith("x-forwarded-") for name in request.headers
        )

    def host_allowed(self, request: Request) -> bool:
        return not self.loopback or is_loopback_host(_hostname(request.headers.get("host", "")))

    def csrf_token(self, request: Request | None) -> str:
        """The value a form carries and its POST must return; `None` for the login form.

        With a token it is bound to the session cookie the request presents, so the value the
        public login page hands out (the same for everyone) authorizes no status change. On
        loopback there is no session: one value per process, which only pages of this
        dashboard can read (other sites are kept out by the `Host` check and the CSP).
        """
        session = request.cookies.get(COOKIE, "") if request and self.needs_login else ""
        return hmac.new(self.secret, b"csrf:" + session.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, request: Request | None, value: str | None) -> bool:
        expected = self.csrf_token(request)
        return value is not None and hmac.compare_digest(value.encode(), expected.encode())


def _hostname(host: str) -> str:
    """`127.0.0.1:8765` → `127.0.0.1`; `[::1]:8765` → `[::1]`."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.split(":", 1)[0]


class FailureLimit:
    """Slows down guessing the token: `burst` failed attempts per client, then one per `every` s.

    >>> limit = FailureLimit(burst=1, every=60)
    >>> limit.failed("10.0.0.1"); limit.blocked("10.0.0.1")
    True
    """

    def __init__(self, *, burst: int = 10, every: float = 5.0, max_clients: int = 10_000) -> None:
        self.burst, self.every, self.max_clients = burst, every, max_clients
        self._spent: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, client: str, now: float) -> float:
        spent, last = self._spent.get(client, (0.0, now))
        return max(0.0, spent - (now - last) / self.every)

    def blocked(self, client: str) -> bool:
        with self._lock:
            return self._level(client, time.monotonic()) > self.burst - 1

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._spent[client] = (self._level(client, now) + 1, now)
            self._spent.move_to_end(client)
            while len(self._spent) > self.max_clients:
                self._spent.popitem(last=False)
