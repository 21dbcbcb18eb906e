"""Which store a process uses, found as git finds its repository; and the stores near it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from inferwatch._store_location import default_store, nearby_stores
from inferwatch.store import Store

# An app that captures one error into the default store of the folder it is started in.
_APP = (
    "import inferwatch; inferwatch.init()\n"
    "try:\n    raise ValueError('from ' + __import__('os').getcwd())\n"
    "except ValueError as exc:\n    inferwatch.capture_exception(exc)\n"
    "assert inferwatch.flush(10)\n"
)


def _environment() -> dict[str, str]:
    """This environment without a store or a DSN of its own: the default store is found."""
    drop = {"INFERWATCH_STORE", "SENTRY_DSN"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=_environment(), capture_output=True, text=True, timeout=60
    )


def _no_store_above(folder: Path) -> None:
    if any((parent / ".inferwatch").is_dir() for parent in folder.parents):
        pytest.skip(f"a .inferwatch/ folder above {folder} decides for this machine")


def test_the_nearest_inferwatch_folder_here_or_above_holds_the_store(tmp_path: Path) -> None:
    (tmp_path / "project" / ".inferwatch").mkdir(parents=True)
    (tmp_path / "project" / "web" / "src" / ".inferwatch").mkdir(parents=True)
    deep = tmp_path / "project" / "backend" / "app"
    deep.mkdir(parents=True)
    assert default_store({}, deep) == tmp_path / "project" / ".inferwatch" / "events.db"
    web = tmp_path / "project" / "web" / "src"
    assert default_store({}, web / "components") == web / ".inferwatch" / "events.db"


def test_inferwatch_store_wins_and_is_made_absolute(tmp_path: Path) -> None:
    (tmp_path / ".inferwatch").mkdir()
    assert default_store({"INFERWATCH_STORE": "data/x.db"}, tmp_path) == tmp_path / "data" / "x.db"
    assert default_store({"INFERWATCH_STORE": "/srv/x.db"}, tmp_path) == Path("/srv/x.db")


def test_without_a_folder_here_or_above_the_store_is_made_here(tmp_path: Path) -> None:
    _no_store_above(tmp_path)
    here = tmp_path / "app"
    assert default_store({"INFERWATCH_STORE": ""}, here) == here / ".inferwatch" / "events.db"


def test_an_app_and_the_commands_started_in_subfolders_share_one_store(tmp_path: Path) -> None:
    _no_store_above(tmp_path)
    project = tmp_path / "project"
    backend, web = project / "backend", project / "web" / "src"
    for folder in (backend, web):
        folder.mkdir(parents=True)
    for folder in (project, backend):  # the first run makes project/.inferwatch/
        done = _run([sys.executable, "-c", _APP], folder)
        assert done.returncode == 0, done.stderr
    assert not (backend / ".inferwatch").exists()

    done = _run([sys.executable, "-m", "inferwatch.cli", "issues", "--json"], web)
    store = project / ".inferwatch" / "events.db"
    assert done.stderr.splitlines() == [f"inferwatch: store {store}"]
    assert sum(issue["count"] for issue in json.loads(done.stdout)) == 2


def _store_at(folder: Path) -> Path:
    path = folder / ".inferwatch" / "events.db"
    store = Store(path)
    store.close()  # the writer made the file and its schema
    return path


def test_nearby_stores_are_in_parents_siblings_and_subfolders(tmp_path: Path) -> None:
    project = tmp_path / "work" / "frontend"
    store = _store_at(project)
    near = [
        _store_at(tmp_path),  # a parent folder
        _store_at(tmp_path / "work" / "backend"),  # a sibling
        _store_at(tmp_path / "work" / "backend" / "api"),  # a sibling's subfolder
        _store_at(project / "app" / "server"),  # two levels below the project
    ]
    for far in (
        project / "a" / "b" / "c",  # three levels below the project
        tmp_path / "work" / "backend" / "node_modules" / "pkg",
        tmp_path / "work" / ".cache",
        tmp_path / "work" / "venv",
    ):
        _store_at(far)
    found = [p for p in nearby_stores(store, cwd=project) if tmp_path in p.parents]
    assert found == sorted(near)


def test_stores_near_the_current_folder_count_too(tmp_path: Path) -> None:
    store = _store_at(tmp_path / "a" / "b" / "c" / "d" / "elsewhere")  # out of reach of its own
    beside_here = _store_at(tmp_path / "project" / "backend")
    found = nearby_stores(store, cwd=tmp_path / "project" / "frontend")
    assert beside_here in found and store not in found
