"""The dashboard's routes: server-rendered pages that work without JavaScript.

Every page reads the store through a read-only connection; the only writes are the status
changes (resolve, ignore, reopen), which are POSTs carrying the CSRF token.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from .._errors import StoreError
from .._ids import parse_id
from ..store import _queries as q
from ..store._admin import STATUSES, set_status
from ..store._extras import attachment
from . import _pages
from ._auth import COOKIE, NEEDS_TOKEN_BEHIND_PROXY, Access, FailureLimit
from ._downloads import attachment_response
from ._format import FILTERS
from ._requests import int_param, issue_filters, local_path, read_form

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
    " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
STATIC = {"app.css": "text/css", "live.js": "text/javascript", "icon.svg": "image/svg+xml"}


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("inferwatch.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def dashboard_router(store_path: Path, access: Access, *, snippet: str | None = None) -> APIRouter:
    """The dashboard's pages for the store at `store_path`, behind `access`.

    `snippet`, the tag to paste into a page, is shown while nothing has been captured yet.

    >>> app.include_router(dashboard_router(path, Access(token=None, loopback=True)))  # doctest: +SKIP
    """
    env = _environment()

    failures = FailureLimit()

    def wrong_token(request: Request) -> None:
        """Count a wrong token from this client; 429 once it has guessed too often."""
        client = request.client.host if request.client else "-"
        if failures.blocked(client):
            raise HTTPException(429, "Too many wrong tokens; wait a little.", {"Retry-After": "5"})
        failures.failed(client)

    def guard(request: Request) -> None:
        # A valid credential is checked first and always accepted: only wrong guesses are
        # slowed down, so nobody sharing the operator's address (a proxy) can lock them out.
        if access.allowed(request):
            return
        if not access.host_allowed(request):
            raise HTTPException(403, "This dashboard only answers to localhost.")
        if not access.needs_login and access.proxied(request):
            raise HTTPException(403, NEEDS_TOKEN_BEHIND_PROXY)
        if "authorization" in request.headers:
            wrong_token(request)
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            target = "/login?" + urlencode({"next": local_path(str(request.url.path))})
            raise HTTPException(303, "Log in first.", headers={"Location": target})
        raise HTTPException(401, "A token is needed.", headers={"WWW-Authenticate": "Bearer"})

    def page(
        request: Request, name: str, status: int = 200, *, logged_out: bool = False, **context: Any
    ) -> HTMLResponse:
        html = env.get_template(name).render(
            request=request,
            csrf=access.csrf_token(None if logged_out else request),
            login=access.needs_login,
            snippet=snippet,
            **context,
        )
        return HTMLResponse(html, status, headers=HEADERS)

    @contextmanager
    def reading() -> Iterator[sqlite3.Connection]:
        try:
            conn = q.open_readonly(store_path)
        except StoreError:
            raise HTTPException(503, f"No store at {store_path} yet.") from None
        try:
            yield conn
        finally:
            conn.close()

    router = APIRouter(include_in_schema=False)
    protected = APIRouter(dependencies=[Depends(guard)], include_in_schema=False)

    @protected.get("/", response_class=HTMLResponse)
    def issues(request: Request) -> Response:
        if not store_path.exists():
            return page(request, "empty.html", nav="issues", store=str(store_path))
        filters = issue_filters(request)
        page_no = int_param(request.query_params.get("page"), 1)
        with reading() as conn:
            data = _pages.issues(conn, filters, page_no)
        shown = {k: v for k, v in request.query_params.items() if k != "page"}
        return page(
            request,
            "issues.html",
            nav="issues",
            filters=filters,
            raw_status=request.query_params.get("status", "unresolved"),
            page_no=page_no,
            query=lambda **kw: urlencode({**shown, **kw}),
            **data,
        )

    @protected.get("/issues/{issue_id}", response_class=HTMLResponse)
    def issue(request: Request, issue_id: str, event: str | None = None) -> Response:
        number = parse_id(issue_id)  # any text: an id no row can have is "not found" too
        if number is None:
            return page(request, "missing.html", 404, nav="issues", what=f"issue {issue_id[:40]}")
        with reading() as conn:
            data = _pages.issue(conn, number, event)
        if isinstance(data, str):
            return page(request, "missing.html", 404, nav="issues", what=data)
        return page(request, "issue.html", nav="issues", **data)

    @protected.post("/issues/{issue_id}/status")
    async def change_status(request: Request, issue_id: str) -> Response:
        form = await read_form(request)
        if not access.csrf_ok(request, form.get("csrf")):
            raise HTTPException(403, "The form has expired: reload the page and try again.")
        number = parse_id(issue_id)
        if number is None:
            raise HTTPException(404, f"No issue {issue_id[:40]}.")
        status = form.get("status", "")
        if status not in STATUSES:
            raise HTTPException(400, f"status must be one of {', '.join(STATUSES)}")
        # A write waits for the store's lock (up to its busy timeout): off the event loop, so
        # ingest in this process keeps answering meanwhile.
        try:
            found = await run_in_threadpool(set_status, store_path, number, status)
        except sqlite3.Error as exc:
            raise HTTPException(
                503, f"The store is busy or unavailable ({exc}); try again in a moment."
            ) from None
        if not found:
            raise HTTPException(404, f"No issue {issue_id}.")
        back = local_path(form.get("next") or f"/issues/{number}")
        return RedirectResponse(back, 303, headers=HEADERS)

    @protected.get("/generations", response_class=HTMLResponse)
    def generations(request: Request, range: str | None = None) -> Response:
        with reading() as conn:
            data = _pages.generations(conn, range)
        return page(request, "generations.html", nav="generations", **data)

    @protected.get("/usage", response_class=HTMLResponse)
    def usage(request: Request, range: str | None = None) -> Response:
        with reading() as conn:
            data = _pages.usage(conn, range)
        return page(request, "usage.html", nav="usage", **data)

    @protected.get("/feedback", response_class=HTMLResponse)
    def feedback(request: Request) -> Response:
        page_no = int_param(request.query_params.get("page"), 1)
        with reading() as conn:
            data = _pages.feedback(conn, page_no)
        return page(request, "feedback.html", nav="feedback", page_no=page_no, **data)

    @protected.get("/attachments/{attachment_id}")
    def download(attachment_id: str) -> Response:
        number = parse_id(attachment_id)
        with reading() as conn:
            found = attachment(conn, number) if number is not None else None
        if found is None:
            raise HTTPException(404, f"No attachment {attachment_id[:40]}.")
        return attachment_response(found)

    @protected.get("/api/version")
    def version(issue: str | None = None) -> Response:
        """Changes when something new is stored (or, with `issue`, when that issue changes)."""
        number = None if issue is None else parse_id(issue)
        if issue is not None and number is None:
            raise HTTPException(404, f"No issue {issue[:40]}.")
        if not store_path.exists():
            return JSONResponse({"version": ""}, headers=HEADERS)
        with reading() as conn:
            if number is None:
                return JSONResponse({"version": q.store_version(conn)}, headers=HEADERS)
            found = q.get_issue(conn, number)
        value = f"{found['count']}-{found['status']}" if found else ""
        return JSONResponse({"version": value}, headers=HEADERS)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:
        if not access.needs_login:
            return RedirectResponse("/", 303)
        return page(
            request, "login.html", nav="", next=local_path(next), failed=False, logged_out=True
        )

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await read_form(request)
        if not access.needs_login or not access.host_allowed(request):
            raise HTTPException(404)
        if not access.csrf_ok(None, form.get("csrf")) or not access.token_matches(
            form.get("token", "")
        ):
            wrong_token(request)
            return page(
                request,
                "login.html",
                401,
                nav="",
                next=local_path(form.get("next", "/")),
                failed=True,
                logged_out=True,
            )
        response = RedirectResponse(local_path(form.get("next", "/")), 303, headers=HEADERS)
        response.set_cookie(
            COOKIE,
            access.session_value(),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            max_age=30 * 86400,
        )
        return response

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC:
            raise HTTPException(404)
        body = (resources.files("inferwatch.dashboard") / "static" / name).read_bytes()
        return Response(
            body,
            media_type=STATIC[name],
            headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    router.include_router(protected)
    return router
