"""docs/deployment.md: each rung's example runs as written, in order, in one fresh folder, as
the README's blocks do (`test_readme.py`), on ports chosen here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.examples.test_readme import ROOT, RUNNERS, blocks, clean_env

DOC = ROOT / "docs" / "deployment.md"


def test_every_block_is_run_or_marked() -> None:
    found = blocks(DOC.read_text())
    assert not [b.line for b in found if b.lang not in RUNNERS and not b.mark]
    assert sum(b.lang in RUNNERS and not b.mark for b in found) >= 4


def test_the_deployment_ladder_examples_run_as_written(tmp_path: Path) -> None:
    env = {**clean_env(), "PORT": str(free_port()), "APP_PORT": str(free_port())}
    env = {k: v for k, v in env.items() if not k.startswith("OTEL_")}
    for block in blocks(DOC.read_text()):
        if block.mark.startswith("skip"):
            continue
        if block.mark.startswith("file "):
            (tmp_path / block.mark.removeprefix("file ").strip()).write_text(block.code)
            continue
        done = subprocess.run(
            RUNNERS[block.lang],
            input=block.code,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            pytest.fail(
                f"docs/deployment.md line {block.line} ({block.lang}) exited with"
                f" {done.returncode}:\n{block.code}\n--- stdout\n{done.stdout}\n"
                f"--- stderr\n{done.stderr}"
            )
        if "# 5" in block.code:  # the workers' block prints the store's count
            assert done.stdout.strip().splitlines()[-1] == "5"
        if "1 issue, 2 events" in block.code:  # the collector's: one issue, an event a host
            assert re.search(r"unresolved\s+python\s+2\s", done.stdout), done.stdout
