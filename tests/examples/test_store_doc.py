"""docs/store.md: its examples run as written, in order, in one fresh folder, as the README's
blocks do (`test_readme.py`): the `flush()` and `stats()` example among them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.examples.test_readme import ROOT, RUNNERS, blocks, clean_env

DOC = ROOT / "docs" / "store.md"


def test_every_block_is_run_or_marked() -> None:
    found = blocks(DOC.read_text())
    assert not [b.line for b in found if b.lang not in RUNNERS and not b.mark]
    assert sum(b.lang in RUNNERS and not b.mark for b in found) >= 2


def test_the_store_examples_run_as_written(tmp_path: Path) -> None:
    for block in blocks(DOC.read_text()):
        if block.mark.startswith("skip"):
            continue
        done = subprocess.run(
            RUNNERS[block.lang],
            input=block.code,
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            pytest.fail(
                f"docs/store.md line {block.line} ({block.lang}) exited with"
                f" {done.returncode}:\n{block.code}\n--- stdout\n{done.stdout}\n"
                f"--- stderr\n{done.stderr}"
            )
    assert (tmp_path / ".gitignore").read_text() == ".inferwatch/\n"
