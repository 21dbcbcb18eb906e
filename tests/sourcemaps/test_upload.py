"""`POST /iw/sourcemaps` and `inferwatch sourcemaps upload`: who may upload (the token when the
collector has one, else only this machine, never a page), what is taken (maps and scripts under
plain paths, bounded as they inflate), where it is kept (beside the store), and that it is
never served back."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from inferwatch.cli import main
from inferwatch.serve import ServeConfig, Served, build
from inferwatch.sourcemaps._client import bundle, files_to_upload
from inferwatch.sourcemaps._upload import MAX_FILE_BYTES

from tests.conftest import LiveServer, free_port

from .conftest import SCRIPT, Build

KEY = "0123456789abcdef0123456789abcdef"
TOKEN = "s3cret-token"


def served(tmp_path: Path, token: str | None = None) -> Served:
    return build(ServeConfig(store=tmp_path / "store" / "events.db", key=KEY, token=token))


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Served]:
    app = served(tmp_path)
    yield app
    app.close()


def client(app: Served, address: str = "127.0.0.1") -> httpx.Client:
    """The app called in-process, as by a client at `address` (loopback or not)."""
    return httpx.Client(transport=_AsClient(app, address), base_url="http://127.0.0.1:8765")


class _AsClient(httpx.BaseTransport):
    def __init__(self, app: Served, address: str) -> None:
        self.inner = httpx.ASGITransport(app=app.app, client=(address, 50000))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return anyio.run(call)


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def post(
    http: httpx.Client, body: bytes, *, key: str = KEY, release: str | None = None, **headers: str
) -> httpx.Response:
    params = {"release": release} if release else {}
    return http.post(
        "/iw/sourcemaps",
        content=body,
        params=params,
        headers={"Content-Type": "application/zip", "X-Inferwatch-Key": key, **headers},
    )


def kept(app: Served) -> list[str]:
    uploads = app.collector.sourcemaps.uploads
    return sorted(p.relative_to(uploads).as_posix() for p in uploads.rglob("*") if p.is_file())


def test_a_build_s_maps_and_scripts_are_kept_beside_the_store(local: Served, build: Build) -> None:
    (build.dist / "index.html").write_text("<html></html>")
    names = files_to_upload(build.dist)
    assert names == [SCRIPT + ".map", SCRIPT]  # the map, and the file it belongs to; no HTML
    with client(local) as http:
        answer = post(http, bundle(build.dist, names), release="web@2.0")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"files": 2, "maps": 1, "release": "web@2.0", "resolved_events": 0}
    assert kept(local) == [f"r-web%402.0/{SCRIPT}", f"r-web%402.0/{SCRIPT}.map"]
    assert local.collector.sourcemaps.uploads.parent == local.config.store.parent


def test_uploads_are_never_served_back(local: Served, build: Build) -> None:
    with client(local) as http:
        assert post(http, bundle(build.dist, files_to_upload(build.dist))).status_code == 200
        for path in (f"/{SCRIPT}.map", f"/sourcemaps/_/{SCRIPT}.map", f"/iw/{SCRIPT}.map"):
            assert http.get(path).status_code == 404
        assert http.get("/iw/sourcemaps").status_code == 405


@pytest.mark.parametrize(
    ("address", "headers", "why"),
    [
        ("127.0.0.1", {"Origin": "http://127.0.0.1:5173"}, "browsers"),  # a page on this machine
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, "own machine"),  # through a proxy
        ("127.0.0.1", {"Host": "evil.example"}, "own machine"),  # DNS rebinding
        ("192.0.2.7", {}, "own machine"),  # not this machine
    ],
)
def test_without_a_token_only_this_machine_may_upload(
    local: Served, build: Build, address: str, headers: dict[str, str], why: str
) -> None:
    with client(local, address) as http:
        answer = post(http, bundle(build.dist, files_to_upload(build.dist)), **headers)
    assert answer.status_code == 403
    assert why in answer.json()["error"]
    assert kept(local) == []


def test_the_public_key_alone_is_not_enough_when_there_is_a_token(
    tmp_path: Path, build: Build
) -> None:
    app = served(tmp_path, token=TOKEN)
    body = bundle(build.dist, files_to_upload(build.dist))
    try:
        with client(app) as http:
            assert post(http, body).status_code == 401
            assert post(http, body, Authorization="Bearer wrong").status_code == 401
            assert post(http, body, key="wrong", Authorization=f"Bearer {TOKEN}").status_code == 403
            assert kept(app) == []
            assert post(http, body, Authorization=f"Bearer {TOKEN}").status_code == 200
        with client(app, "192.0.2.7") as http:  # from anywhere, with the token
            assert post(http, body, Authorization=f"Bearer {TOKEN}").status_code == 200
            statuses = {
                post(http, body, Authorization="Bearer guess").status_code for _ in range(12)
            }
            assert 429 in statuses  # guessing is slowed down
            assert post(http, body, Authorization=f"Bearer {TOKEN}").status_code == 200
    finally:
        app.close()


@pytest.mark.parametrize(
    "name",
    [
        "../escape.js.map",
        "/etc/cron.d/x.js.map",
        "assets/../../x.js.map",
        ".hidden/x.js.map",
        "assets\\x.js.map",
        "index.html",
        "assets/x.js.map/../../../y.js",
    ],
)
def test_files_outside_the_upload_or_not_maps_are_refused_whole(
    local: Served, build: Build, name: str
) -> None:
    body = zipped({SCRIPT + ".map": build.map.read_bytes(), name: b"{}"})
    with client(local) as http:
        answer = post(http, body)
    assert answer.status_code == 400
    assert kept(local) == []
    assert not (local.config.store.parent.parent / "escape.js.map").exists()


def test_what_a_file_inflates_to_is_bounded_as_it_is_read(local: Served) -> None:
    bomb = zipped({"assets/a.js.map": b"\0" * (MAX_FILE_BYTES + 1)})  # ~100 KB sent
    assert len(bomb) < 1_000_000
    with client(local) as http:
        answer = post(http, bomb)
    assert answer.status_code == 413
    assert kept(local) == []


def test_a_body_that_is_not_a_zip_is_refused(local: Served) -> None:
    with client(local) as http:
        assert post(http, b'{"version": 3}').status_code == 400
        assert post(http, zipped({"assets/a.js": b"x"})).status_code == 400  # no map in it


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[str, Served]]:
    app = build(ServeConfig(store=tmp_path / "events.db", key=KEY, port=free_port()))
    with LiveServer(app.app, app.config.port) as server:
        yield server.url, app
    app.close()


def test_the_upload_command_sends_the_build_and_says_what_was_kept(
    running: tuple[str, Served], build: Build, capsys: pytest.CaptureFixture[str]
) -> None:
    url, app = running
    assert main(["sourcemaps", "upload", str(build.dist), "--url", url, "--key", KEY]) == 0
    assert "Uploaded 2 files (1 maps)" in capsys.readouterr().out
    assert kept(app) == [f"_/{SCRIPT}", f"_/{SCRIPT}.map"]


def test_the_upload_command_says_why_it_could_not(
    running: tuple[str, Served], build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = running
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["sourcemaps", "upload", str(empty), "--url", url, "--key", KEY]) == 2
    assert "no source maps" in capsys.readouterr().err
    assert main(["sourcemaps", "upload", str(build.dist), "--url", url, "--key", "wrong"]) == 2
    assert "refused the upload (403)" in capsys.readouterr().err
    closed = f"http://127.0.0.1:{free_port()}"
    assert main(["sourcemaps", "upload", str(build.dist), "--url", closed, "--key", KEY]) == 2
    assert "cannot reach the collector" in capsys.readouterr().err
