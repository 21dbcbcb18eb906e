"""A small app bundled for production by a real bundler (esbuild, minified, external maps), and
its crash as V8 reports it (run in Node), as the frames a browser would send for it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from inferwatch.collector._stack import parse_stack

ROOT = Path(__file__).resolve().parents[2]
ESBUILD = ROOT / "js_snippet" / "node_modules" / ".bin" / "esbuild"
SITE = "http://app.test"
SCRIPT = "assets/main-3f9a1c.js"  # where the page loads the bundle from

SOURCES = {
    "src/checkout.js": """\
// The checkout's arithmetic.
const SUPPORT_KEY = "sk-abcdefghijklmnopqrstuvwx";

export function applyDiscount(cart) {
  const total = cart.items.reduce((sum, item) => sum + item.price, 0);
  return total * cart.coupon.rate;
}

export function support() {
  return SUPPORT_KEY;
}
""",
    "src/main.js": """\
import { each } from "tinylib";
import { applyDiscount } from "./checkout.js";

export function run() {
  each([{ items: [] }], (cart) => applyDiscount(cart));
}
""",
    "node_modules/tinylib/index.js": """\
export function each(list, callback) {
  for (const item of list) callback(item);
}
""",
}


@dataclass(frozen=True)
class Build:
    """The bundle's output folder (`assets/main-3f9a1c.js` and its map) and the source tree."""

    dist: Path
    src: Path

    @property
    def script(self) -> Path:
        return self.dist / SCRIPT

    @property
    def map(self) -> Path:
        return self.dist / (SCRIPT + ".map")


def _bundle(tmp: Path) -> Build:
    src = tmp / "app"
    for name, text in SOURCES.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    dist = src / "dist"
    command = [str(ESBUILD), "src/main.js", "--bundle", "--minify", "--sourcemap=external"]
    command += ["--format=iife", "--global-name=app", f"--outfile=dist/{SCRIPT}"]
    subprocess.run(command, cwd=src, check=True, capture_output=True)
    return Build(dist, src)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Build:
    if not ESBUILD.exists():
        pytest.skip("esbuild is not installed (`make js` installs it)")
    return _bundle(tmp_path_factory.mktemp("bundle"))


@pytest.fixture
def build(built: Build, tmp_path: Path) -> Build:
    """A copy of the build each test may change."""
    dist = tmp_path / "dist"
    shutil.copytree(built.dist, dist)
    return Build(dist, built.src)


@pytest.fixture(scope="session")
def crash_stack(built: Build) -> str:
    """The stack V8 gives for the bundle's crash, with the page's URL for the file."""
    path = str(built.script)
    # Run as a page's <script> runs: in the global scope, under the file's name.
    script = f"require('vm').runInThisContext(require('fs').readFileSync({path!r}, 'utf8'), {{filename: {path!r}}}); app.run();"
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=False)
    stack = "\n".join(
        line for line in done.stderr.splitlines() if line.strip().startswith(("TypeError", "at "))
    )
    assert "TypeError" in stack, done.stderr
    return stack.replace(path, f"{SITE}/{SCRIPT}")


Make = Callable[..., dict[str, Any]]


@pytest.fixture
def crash_event(crash_stack: str) -> Make:
    """A browser error in the Sentry event schema with the crash's frames, as ingest makes it."""

    def make(stack: str = crash_stack, **extra: Any) -> dict[str, Any]:
        frames = [f for f in parse_stack(stack) if f["abs_path"].startswith(SITE)]
        return {
            "event_id": "0" * 32,
            "platform": "javascript",
            "exception": {
                "values": [
                    {
                        "type": "TypeError",
                        "value": "Cannot read properties of undefined (reading 'rate')",
                        "stacktrace": {"frames": frames},
                    }
                ]
            },
            **extra,
        }

    return make


def source_line(build: Build, name: str, lineno: int) -> str:
    return (build.src / name).read_text().splitlines()[lineno - 1]
