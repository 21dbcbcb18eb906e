"""Minified frames resolved to the original file, line, function and context lines, with the
frames as sent kept as `raw_stacktrace`; matched by debug id, URL path and sourceMappingURL."""

from __future__ import annotations

import copy
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from inferwatch.sourcemaps import Resolver, SourceMaps

from .conftest import SCRIPT, SITE, Build, Make, source_line


def resolver(*folders: Path, uploads: Path | None = None) -> Resolver:
    return Resolver(SourceMaps(list(folders), uploads=uploads or Path("/nonexistent/uploads")))


def frames(event: dict[str, Any], key: str = "stacktrace") -> list[dict[str, Any]]:
    return list(event["exception"]["values"][-1][key]["frames"])


def test_frames_name_the_original_files_functions_and_lines_with_context(
    build: Build, crash_event: Make
) -> None:
    event = crash_event()
    sent = copy.deepcopy(frames(event))
    assert resolver(build.dist).resolve(event)

    crashed = frames(event)[-1]
    assert (crashed["filename"], crashed["function"]) == ("src/checkout.js", "applyDiscount")
    assert "cart.coupon.rate" in source_line(build, "src/checkout.js", crashed["lineno"])
    assert crashed["context_line"] == source_line(build, "src/checkout.js", crashed["lineno"])
    assert crashed["post_context"][0] == "}"
    assert crashed["abs_path"] == f"{SITE}/src/checkout.js"  # `..` stops at the site's root
    assert crashed["data"] == {
        "sourcemap": SCRIPT + ".map",
        "resolved_with": "path",
        "symbolicated": True,
    }
    names = [(f["filename"], f["function"], f["in_app"]) for f in frames(event)]
    assert names == [
        ("src/main.js", "run", True),
        ("node_modules/tinylib/index.js", "each", False),
        # an arrow function: named as its caller calls it (`callback(item)`), as Sentry does
        ("src/main.js", "callback", True),
        ("src/checkout.js", "applyDiscount", True),
    ]
    assert frames(event, "raw_stacktrace") == sent  # the minified frames, as the browser sent them


def test_context_lines_from_the_original_source_are_redacted(
    build: Build, crash_event: Make
) -> None:
    event = crash_event()
    resolver(build.dist).resolve(event)
    context = "\n".join(frames(event)[-1]["pre_context"])
    assert "SUPPORT_KEY" in context
    assert "sk-abcdefghijklmnopqrstuvwx" not in json.dumps(event)


def test_a_map_without_its_minified_file_names_functions_by_their_call_sites(
    build: Build, crash_event: Make
) -> None:
    build.script.unlink()  # only the map: no scopes to read, as Sentry without the minified file
    event = crash_event()
    assert resolver(build.dist).resolve(event)
    crashed = frames(event)[-1]
    assert crashed["function"] == "applyDiscount"  # the caller's name for it, not `i`
    assert crashed["filename"] == "src/checkout.js"


def add_debug_id(build: Build, *, comment: bool = True) -> str:
    """What Sentry's bundler plugins do: the same id in the file's comment and in its map."""
    debug_id = str(uuid.uuid4())
    if comment:
        build.script.write_text(build.script.read_text() + f"\n//# debugId={debug_id}\n")
    data = json.loads(build.map.read_text())
    build.map.write_text(json.dumps({**data, "debugId": debug_id}))
    return debug_id


def test_a_debug_id_comment_finds_a_map_of_any_name(build: Build, crash_event: Make) -> None:
    add_debug_id(build)
    hidden = build.dist / "maps" / "bundle.map"
    hidden.parent.mkdir()
    build.map.rename(hidden)
    event = crash_event()
    assert resolver(build.dist).resolve(event)
    crashed = frames(event)[-1]
    assert crashed["function"] == "applyDiscount"
    assert crashed["data"]["resolved_with"] == "debug-id"
    assert crashed["data"]["sourcemap"] == "maps/bundle.map"


def test_the_debug_ids_a_sentry_sdk_sends_find_the_map(build: Build, crash_event: Make) -> None:
    debug_id = add_debug_id(build, comment=False)
    build.map.rename(build.dist / "other.js.map")
    images = [{"type": "sourcemap", "code_file": f"{SITE}/{SCRIPT}", "debug_id": debug_id}]
    event = crash_event(debug_meta={"images": images})
    assert resolver(build.dist).resolve(event)
    assert frames(event)[-1]["data"]["resolved_with"] == "debug-id"


def test_a_source_mapping_url_comment_finds_a_map_elsewhere(
    build: Build, crash_event: Make
) -> None:
    moved = build.dist / "maps" / "main.map"
    moved.parent.mkdir()
    build.map.rename(moved)
    build.script.write_text(build.script.read_text() + "//# sourceMappingURL=../maps/main.map\n")
    event = crash_event()
    assert resolver(build.dist).resolve(event)
    assert frames(event)[-1]["data"]["resolved_with"] == "sourcemap-url"
    assert frames(event)[-1]["function"] == "applyDiscount"


def test_a_page_served_under_a_base_path_matches_the_longest_tail(
    build: Build, crash_event: Make, crash_stack: str
) -> None:
    event = crash_event(crash_stack.replace(f"{SITE}/assets/", f"{SITE}/shop/v2/assets/"))
    assert resolver(build.dist).resolve(event)
    assert frames(event)[-1]["filename"] == "src/checkout.js"


def test_frames_with_no_map_are_left_as_sent(build: Build, crash_event: Make) -> None:
    event = crash_event()
    for frame in frames(event):
        frame["abs_path"] = frame["abs_path"].replace("main-3f9a1c", "vendor-000000")
    before = copy.deepcopy(event)
    assert not resolver(build.dist).resolve(event)
    assert event == before


def test_a_release_s_uploads_are_searched_first(
    build: Build, crash_event: Make, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    shutil.copytree(build.dist, uploads / "r-2.0")
    stale = uploads / "_"
    shutil.copytree(build.dist, stale)
    data = json.loads((stale / (SCRIPT + ".map")).read_text())
    data["sources"] = [
        "../../src/old-checkout.js" if "checkout" in s else s for s in data["sources"]
    ]
    (stale / (SCRIPT + ".map")).write_text(json.dumps(data))

    with_release = crash_event(release="2.0")
    resolver(uploads=uploads).resolve(with_release)
    assert frames(with_release)[-1]["filename"] == "src/checkout.js"
    without = crash_event()
    resolver(uploads=uploads).resolve(without)
    assert frames(without)[-1]["filename"] == "src/old-checkout.js"


def test_a_rebuilt_folder_is_read_again(build: Build, crash_event: Make) -> None:
    maps = SourceMaps([build.dist], uploads=Path("/nonexistent"))
    resolving = Resolver(maps)
    saved = build.map.read_bytes()
    build.map.unlink()
    assert not resolving.resolve(crash_event())
    build.map.write_bytes(saved)  # the next build
    maps.folders[0].forget()  # (it looks again at most once a second by itself)
    assert resolving.resolve(crash_event())


def test_resolving_again_starts_from_the_frames_as_sent(build: Build, crash_event: Make) -> None:
    event = crash_event()
    resolving = resolver(build.dist)
    resolving.resolve(event)
    once = copy.deepcopy(event)
    assert not resolving.resolve(event)  # nothing new: the resolved frames are not resolved again
    assert event == once
