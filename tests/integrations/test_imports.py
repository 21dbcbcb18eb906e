"""An integration costs nothing until the app imports its client: no import, no patch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys
import inferwatch

inferwatch.init(store=sys.argv[1], environ={})  # the integrations of installed clients are on
before = {m: m in sys.modules for m in ("openai", "anthropic")}
from openai.resources.chat.completions import Completions
from anthropic.resources.messages import Messages
print(json.dumps({
    "imported_by_init": before,
    "patched": [getattr(f, "__inferwatch_wrapped__", False) for f in (Completions.create, Messages.create, Messages.stream)],
}))
"""


def test_init_imports_no_client_and_patches_each_when_the_app_imports_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "events.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["imported_by_init"] == {"openai": False, "anthropic": False}
    assert report["patched"] == [True, True, True]
