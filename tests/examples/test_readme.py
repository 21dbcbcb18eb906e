"""Every code block of the README, and of the guides it sends readers to next (docs/backend.md,
docs/store.md), that is meant to run does run, as written, in order, in one fresh folder per file: ```python
blocks with the venv's Python, ```sh blocks with bash. Every link of the README and of docs/
points at a file and a heading that exist.

A block is marked by an HTML comment on the line before it:
`<!-- readme-test: skip (why) -->` is not run (servers, `make`, HTML, JS, output);
`<!-- readme-test: file NAME -->` is written to NAME for the blocks after it. Any other language
must carry one of these marks, so no block is left out by accident.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# The files whose blocks run, each with how many runnable blocks it has at least.
RUNNABLE = {README: 4, ROOT / "docs" / "backend.md": 4, ROOT / "docs" / "store.md": 2}
CONFIGURATION = ROOT / "docs" / "configuration.md"
BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<mark>[^>]*?) -->\n)?^```(?P<lang>\w*)\n(?P<code>.*?)^```$",
    re.S | re.M,
)
RUNNERS = {"python": [sys.executable, "-"], "sh": ["bash", "-euo", "pipefail", "-s"]}


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    mark: str
    code: str


def blocks(text: str) -> list[Block]:
    return [
        Block(text.count("\n", 0, m.start("code")), m["lang"], m["mark"] or "", m["code"])
        for m in BLOCK.finditer(text)
    ]


def clean_env() -> dict[str, str]:
    """This machine's environment without inferwatch's and Sentry's variables, venv first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFERWATCH_", "SENTRY_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.mark.parametrize("doc", RUNNABLE, ids=lambda p: p.name)
def test_every_block_is_run_or_marked(doc: Path) -> None:
    found = blocks(doc.read_text())
    unmarked = [b.line for b in found if b.lang not in RUNNERS and not b.mark]
    assert not unmarked, f"{doc.name} blocks at lines {unmarked} are neither runnable nor marked"
    assert sum(b.lang in RUNNERS and not b.mark for b in found) >= RUNNABLE[doc]


@pytest.mark.parametrize("doc", RUNNABLE, ids=lambda p: p.name)
def test_the_code_blocks_run_as_written(doc: Path, tmp_path: Path) -> None:
    env = clean_env()
    for block in blocks(doc.read_text()):
        if block.mark.startswith("skip"):
            continue
        if block.mark.startswith("file "):
            (tmp_path / block.mark.removeprefix("file ").strip()).write_text(block.code)
            continue
        result = subprocess.run(
            RUNNERS[block.lang],
            input=block.code,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            pytest.fail(
                f"{doc.name} line {block.line} ({block.lang}) exited with {result.returncode}:\n"
                f"{block.code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )


LINK = re.compile(r"\]\((?!https?:|mailto:)(?P<path>[^)#\s]*)(?:#(?P<anchor>[^)\s]+))?\)")


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize(
    "doc", [README, *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name
)
def test_the_links_point_at_files_and_headings_that_exist(doc: Path) -> None:
    for match in LINK.finditer(doc.read_text()):
        target = (doc.parent / match["path"]) if match["path"] else doc
        assert target.exists(), f"{doc.name} links to {match['path']}, which does not exist"
        if match["anchor"] and target.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", target.read_text(), re.M)
            anchors = {github_anchor(h) for h in headings}
            assert match["anchor"] in anchors, f"{match['path']} has no #{match['anchor']}"


def test_the_configuration_reference_lists_every_init_option_and_serve_flag() -> None:
    import dataclasses

    from inferwatch._options import Options

    text = CONFIGURATION.read_text()
    missing = [f.name for f in dataclasses.fields(Options) if f"| `{f.name}` |" not in text]
    assert not missing, f"init options missing from docs/configuration.md: {missing}"
    usage = subprocess.run(
        [sys.executable, "-m", "inferwatch.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flags = sorted(set(re.findall(r"(--[a-z][a-z-]+)", usage)) - {"--help"})
    missing = [flag for flag in flags if f"| `{flag}" not in text]
    assert not missing, f"serve flags missing from docs/configuration.md: {missing}"
