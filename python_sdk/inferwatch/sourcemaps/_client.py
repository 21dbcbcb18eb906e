"""`inferwatch sourcemaps upload DIR`: a build's maps, and the minified files they belong to,
zipped and sent to a running collector.

Every `.map` file under DIR is sent, and each minified file that has one (by its name plus
`.map`, its `//# sourceMappingURL=` comment, or a shared debug id): the collector reads the
minified file's scopes to name original functions, and its `//# debugId=` comment to match it.
Nothing else in the folder is sent.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .._errors import InferwatchError
from ._folder import MAP_SUFFIX, Folder, Index
from ._upload import MAX_UPLOAD_BYTES, UPLOAD_PATH


class UploadError(InferwatchError):
    """The upload could not be made or the collector refused it (the message says why)."""


@dataclass(frozen=True, kw_only=True)
class Upload:
    """What to upload where.

    >>> Upload(folder=Path("dist"), url="http://127.0.0.1:8765", key="abc").release is None
    True
    """

    folder: Path
    url: str
    key: str
    release: str | None = None
    token: str | None = None
    timeout_s: float = 120.0


def files_to_upload(folder: Path) -> list[str]:
    """The paths (relative to `folder`) of its maps and of the minified files that have one."""
    if not folder.is_dir():
        raise UploadError(f"inferwatch: {folder} is not a folder (give the build's output folder)")
    index = Folder(folder).index()
    maps = sorted(rel for rel in index.files if rel.endswith(MAP_SUFFIX))
    if not maps:
        raise UploadError(
            f"inferwatch: no source maps (.map files) under {folder}: build with source maps"
            " (Vite: build.sourcemap 'hidden'; see docs/sourcemaps.md)"
        )
    scripts = sorted(rel for rel in index.scripts if _has_map(index, rel))
    return maps + scripts


def _has_map(index: Index, rel: str) -> bool:
    script = index.scripts[rel]
    if rel + MAP_SUFFIX in index.files or script.debug_id in index.maps_by_debug_id:
        return True
    url = script.mapping_url or ""
    if not url or "://" in url or url.startswith("data:"):
        return False
    target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), url.split("?")[0]))
    return target in index.files


def bundle(folder: Path, names: list[str]) -> bytes:
    """The files as a zip, under their paths in `folder`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name in names:
            archive.write(folder / name, name)
    return out.getvalue()


def upload(spec: Upload) -> dict[str, Any]:
    """Send the folder's maps to the collector; what it answered (files, maps, resolved events).

    >>> upload(Upload(folder=Path("dist"), url="http://127.0.0.1:8765", key="abc"))  # doctest: +SKIP
    {'files': 2, 'maps': 1, 'release': None, 'resolved_events': 3}
    """
    body = bundle(spec.folder, files_to_upload(spec.folder))
    if len(body) > MAX_UPLOAD_BYTES:
        raise UploadError(
            f"inferwatch: the maps of {spec.folder} zip to {len(body)} bytes, more than a"
            f" collector takes at once ({MAX_UPLOAD_BYTES}); upload its subfolders one by one"
        )
    headers = {"Content-Type": "application/zip", "X-Inferwatch-Key": spec.key}
    if spec.token:
        headers["Authorization"] = f"Bearer {spec.token}"
    params = {"release": spec.release} if spec.release else {}
    url = spec.url.rstrip("/") + UPLOAD_PATH
    try:
        response = httpx.post(
            url, content=body, headers=headers, params=params, timeout=spec.timeout_s
        )
    except httpx.HTTPError as exc:
        raise UploadError(f"inferwatch: cannot reach the collector at {spec.url}: {exc}") from exc
    answer = _json(response)
    if response.status_code != 200:
        reason = answer.get("error") or response.text[:300] or response.reason_phrase
        raise UploadError(
            f"inferwatch: the collector refused the upload ({response.status_code}): {reason}"
        )
    return answer


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
