"""The route a request is counted under: `/metrics` and static files by name, paths that match
no route by their shape, and never more than a bounded number of shapes."""

from __future__ import annotations

import logging
from pathlib import Path

import inferwatch
import pytest
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from inferwatch._route_label import UNMATCHED, _Patterns, path_pattern, patterns
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import asgi_client, rows


def make_app(store_path: Path, static: Path) -> FastAPI:
    app = FastAPI()
    inferwatch.init(app, store=store_path, environ={}, metrics=True)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    (static / "assets").mkdir(parents=True)
    (static / "assets" / "index-3f2a9c.js").write_text("console.log(1)")
    (static / "logo.svg").write_text("<svg/>")
    app.mount("/", StaticFiles(directory=static), name="page")  # as a built React page is
    return app


async def recorded(store_path: Path, static: Path, *paths: str) -> list[tuple[str, int]]:
    async with asgi_client(make_app(store_path, static)) as client:
        for path in paths:
            await client.get(path)
    assert inferwatch.flush(5)
    return [(r["route"], r["status"]) for r in rows(store_path, "SELECT * FROM requests")]


async def test_the_metrics_route_is_recorded_by_its_path(store_path: Path, tmp_path: Path) -> None:
    assert await recorded(store_path, tmp_path / "dist", "/metrics") == [("/metrics", 200)]


async def test_static_files_are_recorded_as_one_route_named_for_them(
    store_path: Path, tmp_path: Path
) -> None:
    found = await recorded(store_path, tmp_path / "dist", "/assets/index-3f2a9c.js", "/logo.svg")
    assert found == [("/{path} (static files)", 200)] * 2


async def test_paths_that_match_nothing_are_grouped_by_their_shape(
    store_path: Path, tmp_path: Path
) -> None:
    found = await recorded(
        store_path, tmp_path / "dist", "/orders/81723", "/orders/99", "/wp-login.php"
    )
    assert found == [
        ("/orders/{int} (no route)", 404),
        ("/orders/{int} (no route)", 404),
        ("/wp-login.php (no route)", 404),
    ]


async def test_route_templates_are_kept_as_they_are(store_path: Path, tmp_path: Path) -> None:
    assert await recorded(store_path, tmp_path / "dist", "/items/7") == [("/items/{item_id}", 200)]


async def test_the_request_log_line_carries_the_same_label(
    store_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="inferwatch.request"):
        await recorded(store_path, tmp_path / "dist", "/orders/5")
    [line] = [r for r in caplog.records if r.name == "inferwatch.request"]
    assert line.getMessage().startswith("GET /orders/{int} (no route) 404")


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("/users/42/avatar", "/users/{int}/avatar"),
        ("/u/3f2a9c0e-5b6d-4a1e-8f7c-6b5a4d3e2f1a", "/u/{uuid}"),
        ("/blob/9f86d081884c7d65", "/blob/{hex}"),
        ("/reset/kq8Z2x7Pw4Lm/confirm", "/reset/{id}/confirm"),
        ("/files/report-20260101.pdf", "/files/{id}.pdf"),
        ("/.env", "/.env"),
        ("/a/b/c/d/e", "/a/b/c/d/…"),
        ("/", "/"),
        ("/<script>alert(1)</script>", "/{id}/{id}"),
    ],
)
def test_a_path_pattern_keeps_names_and_replaces_what_varies(path: str, pattern: str) -> None:
    assert path_pattern(path) == pattern


def test_past_the_limit_of_shapes_every_other_path_is_unmatched() -> None:
    bounded = _Patterns(2)
    assert [bounded.label(p) for p in ("/a", "/b", "/c", "/a")] == ["/a", "/b", UNMATCHED, "/a"]


async def test_a_scanner_cannot_grow_the_prometheus_labels_without_end(
    store_path: Path, tmp_path: Path
) -> None:
    patterns.clear()
    try:
        async with asgi_client(make_app(store_path, tmp_path / "dist")) as client:
            before = counts((await client.get("/metrics")).text)
            for i in range(patterns.limit + 20):
                await client.get(f"/probe-{chr(97 + i % 26)}{chr(97 + i // 26)}")
            after = counts((await client.get("/metrics")).text)
    finally:
        patterns.clear()
    grown = {route for route, n in after.items() if n > before.get(route, 0)}
    assert len(grown) == patterns.limit + 1  # the shapes, and `<unmatched>` for the rest
    assert after[UNMATCHED] - before.get(UNMATCHED, 0) == 20


def counts(exposition: str) -> dict[str, float]:
    """`http_requests_total` by route."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "http_requests_total":
                route = sample.labels["route"]
                out[route] = out.get(route, 0) + sample.value
    return out
