"""`POST /iw/sourcemaps`: a build's source maps (and minified files) uploaded to the collector,
kept beside its store, never served back.

The collector's key is public (every page that carries the snippet shows it), so it cannot be
what allows an upload: a map decides what every later crash report says. An upload needs the
key and, when the collector has a dashboard token, that token (`Authorization: Bearer`); without
a token the collector only listens on loopback, and takes uploads only from this machine, not
through a reverse proxy. A request from a browser (one with an `Origin` header) is refused: no
page may upload, whatever it knows.

The body is a zip of the files under their paths in the build folder (`inferwatch sourcemaps
upload` makes it), at most `MAX_UPLOAD_BYTES`; what it inflates to is bounded as it is read,
file by file and in total, and only maps and scripts with plain relative paths are taken. The
files are written to a staging folder first and moved into place when all of them are good.
"""

from __future__ import annotations

import io
import os
import posixpath
import secrets
import shutil
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..collector._collector import Collector
from ..collector._config import is_loopback_host
from ..collector._guards import BodyTooLarge, IngestRoute, read_body, uninstrumented
from ..dashboard._auth import Access, FailureLimit
from ._folder import MAP_SUFFIX, SCRIPT_SUFFIXES
from ._library import release_folder

UPLOAD_PATH = "/iw/sourcemaps"
MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # the zip as sent
MAX_FILE_BYTES = 100 * 1024 * 1024  # one file, inflated
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # all files, inflated
MAX_UPLOAD_FILES = 5000
_CHUNK = 1024 * 1024


class Refusal(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def upload_router(collector: Collector, access: Access) -> APIRouter:
    """The upload route for `collector`, allowed by `access` (the dashboard's rule).

    >>> app.include_router(upload_router(collector, Access(token=None, loopback=True)))  # doctest: +SKIP
    """
    router = APIRouter()
    failures = FailureLimit()

    @uninstrumented
    async def upload(request: Request) -> Response:
        try:
            _allowed(request, collector, access, failures)
            body = await read_body(request, MAX_UPLOAD_BYTES)
            release = request.query_params.get("release") or None
            stored = await run_in_threadpool(
                store_bundle, body, collector.sourcemaps.uploads, release
            )
        except BodyTooLarge:
            return _refused(
                collector, Refusal(413, f"the upload is larger than {MAX_UPLOAD_BYTES} bytes")
            )
        except Refusal as exc:
            return _refused(collector, exc)
        collector.sourcemaps.maps.uploaded()
        resolved = await run_in_threadpool(collector.sourcemaps.backfill)
        collector.count("sourcemap_uploads")
        return JSONResponse({**stored, "release": release, "resolved_events": resolved})

    # An ingest route: a client that hangs up mid-upload is a log line, not a traceback.
    router.add_api_route(
        UPLOAD_PATH,
        upload,
        methods=["POST"],
        include_in_schema=False,
        route_class_override=IngestRoute,
    )
    return router


def _refused(collector: Collector, exc: Refusal) -> JSONResponse:
    collector.count(f"sourcemap_refused_{exc.status}")
    return JSONResponse({"error": exc.message}, exc.status, headers=exc.headers)


def _allowed(
    request: Request, collector: Collector, access: Access, failures: FailureLimit
) -> None:
    """Raise `Refusal` unless this request may upload (see the module's docstring)."""
    if "origin" in request.headers:
        raise Refusal(
            403, "source maps are not taken from browsers: use `inferwatch sourcemaps upload`"
        )
    key = request.query_params.get("key") or request.headers.get("x-inferwatch-key") or ""
    if not secrets.compare_digest(key.encode(), collector.config.key.encode()):
        raise Refusal(403, "wrong or missing key for this collector (--key)")
    if access.token is None:
        client = request.client.host if request.client else ""
        local = access.loopback and is_loopback_host(client) and access.host_allowed(request)
        if not local or access.proxied(request):
            raise Refusal(
                403,
                "this collector has no token, so it takes uploads only from its own machine:"
                " start inferwatch serve with --token TOKEN and upload with --token",
            )
        return
    _check_token(request, access, failures)


def _check_token(request: Request, access: Access, failures: FailureLimit) -> None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and access.token_matches(value.strip()):
        return
    client = request.client.host if request.client else "-"
    if failures.blocked(client):
        raise Refusal(429, "too many wrong tokens; wait a little", {"Retry-After": "5"})
    failures.failed(client)
    raise Refusal(
        401,
        "this collector needs its token to take uploads (--token)",
        {"WWW-Authenticate": "Bearer"},
    )


def store_bundle(body: bytes, uploads: Path, release: str | None) -> dict[str, Any]:
    """Unpack an uploaded zip into the release's folder under `uploads`; what was stored."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile as exc:
        raise Refusal(
            400, "the body is not a zip file (send what `inferwatch sourcemaps upload` makes)"
        ) from exc
    members = _members(archive)
    uploads.mkdir(parents=True, exist_ok=True)
    staging = uploads / f".staging-{uuid.uuid4().hex}"
    try:
        _extract(archive, members, staging)
        target = uploads / release_folder(release)
        for _, name in members:
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    names = [name for _, name in members]
    return {"files": len(names), "maps": sum(n.endswith(MAP_SUFFIX) for n in names)}


def _members(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    """The files to take, with their checked names; `Refusal` for anything unsafe or too big."""
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > MAX_UPLOAD_FILES:
        raise Refusal(413, f"an upload holds at most {MAX_UPLOAD_FILES} files")
    out = [(info, _safe_name(info.filename)) for info in infos]
    if not any(name.endswith(MAP_SUFFIX) for _, name in out):
        raise Refusal(400, "the upload holds no source map (.map file)")
    if sum(info.file_size for info, _ in out) > MAX_TOTAL_BYTES:
        raise Refusal(413, f"the files of an upload inflate to at most {MAX_TOTAL_BYTES} bytes")
    return out


def _safe_name(name: str) -> str:
    """A plain relative path of a map or a script, or `Refusal`.

    >>> _safe_name("assets/index-X.js.map")
    'assets/index-X.js.map'
    """
    clean = posixpath.normpath(name)
    parts = clean.split("/")
    if (
        "\\" in name
        or "\0" in name
        or clean.startswith(("/", "../"))
        or clean in (".", "..")
        or any(p.startswith(".") for p in parts)
        or not clean.endswith((MAP_SUFFIX, *SCRIPT_SUFFIXES))
        or len(clean) > 1024
    ):
        raise Refusal(
            400,
            f"the upload holds a file it may not: {name[:200]!r} (only .map and .js files, relative paths)",
        )
    return clean


def _extract(
    archive: zipfile.ZipFile, members: list[tuple[zipfile.ZipInfo, str]], staging: Path
) -> None:
    """Write the members under `staging`, counting what they really inflate to (a zip's
    declared sizes can lie)."""
    total = 0
    for info, name in members:
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            with archive.open(info) as source, path.open("wb") as out:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    total += len(chunk)
                    if written > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                        raise Refusal(
                            413,
                            f"{name} inflates past the upload's limits ({MAX_FILE_BYTES} bytes a file, {MAX_TOTAL_BYTES} in all)",
                        )
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise Refusal(400, f"{name} cannot be read from the zip: {exc}") from exc
