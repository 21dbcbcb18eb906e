"""`inferwatch serve` warns when its store is empty while another store is nearby."""

from __future__ import annotations

from pathlib import Path

import pytest
from inferwatch._two_stores import two_stores_warning
from inferwatch.store import Store

from tests._serve_process import serving
from tests.store.test_store import event


def store_with_an_event(path: Path) -> Path:
    store = Store(path)
    store.add("event", event("boom"))
    assert store.flush(5)
    store.close()
    return path


def test_serve_started_in_the_project_warns_of_the_store_its_backend_writes(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    backend_store = store_with_an_event(project / "backend" / ".inferwatch" / "events.db")
    with serving(project) as served:
        served.wait_until_up()  # the warning comes before it listens
        err = served.stop()
    opened = project / ".inferwatch" / "events.db"
    assert f"  store       {opened}" in served.banner
    assert f"the store {opened} is empty, and there is another store nearby:" in err
    assert f"  {backend_store}" in err.splitlines()


def test_no_warning_when_the_store_holds_something_or_nothing_is_near(tmp_path: Path) -> None:
    project = tmp_path / "project"
    store = store_with_an_event(project / ".inferwatch" / "events.db")
    store_with_an_event(project / "backend" / ".inferwatch" / "events.db")
    assert two_stores_warning(store, cwd=project) is None
    if any((parent / ".inferwatch" / "events.db").exists() for parent in tmp_path.parents):
        pytest.skip(f"a store above {tmp_path} is near every folder of this test")
    alone = tmp_path / "a" / "b" / "c" / "d" / "alone"
    empty = alone / ".inferwatch" / "events.db"
    Store(empty).close()
    assert two_stores_warning(empty, cwd=alone) is None
