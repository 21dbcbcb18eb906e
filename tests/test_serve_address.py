"""`inferwatch snippet` prints the address and key of the `serve` running on its store."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from inferwatch._serve_address import address_file, announce, running
from inferwatch.cli import main
from inferwatch.collector import load_or_create_key
from inferwatch.serve import snippet_tag

from tests._serve_process import serving

KEY = "0123456789abcdef0123456789abcdef"


def snippet(capsys: pytest.CaptureFixture[str], store: Path) -> str:
    assert main(["snippet", "--store", str(store)]) == 0
    return capsys.readouterr().out.strip()


def test_snippet_uses_the_running_serve_and_the_default_once_it_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / ".inferwatch" / "events.db"
    with serving(tmp_path, "--key", KEY) as served:  # a key other than the one kept beside it
        served.wait_until_up()
        assert snippet(capsys, store) == snippet_tag(served.url, KEY)
        served.stop()
    assert not address_file(store).exists()
    kept = load_or_create_key(store)
    assert snippet(capsys, store) == snippet_tag("http://127.0.0.1:8765", kept)


def test_an_address_left_by_a_killed_serve_is_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / ".inferwatch" / "events.db"
    with serving(tmp_path, "--key", KEY) as served:
        served.wait_until_up()
        served.stop(signal.SIGKILL)  # no time to remove its file
    assert address_file(store).exists()
    assert running(store) is None
    assert KEY not in snippet(capsys, store)


def test_flags_given_to_snippet_win_over_the_running_serve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "events.db"
    announce(store, "http://127.0.0.1:9999", KEY)  # as this process: alive
    assert snippet(capsys, store) == snippet_tag("http://127.0.0.1:9999", KEY)
    main(["snippet", "--store", str(store), "--url", "https://iw.example.com"])
    assert capsys.readouterr().out.strip() == snippet_tag("https://iw.example.com", KEY)


def test_a_file_naming_a_process_that_is_gone_is_stale(tmp_path: Path) -> None:
    store = tmp_path / "events.db"
    announce(store, "http://127.0.0.1:9999", KEY)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    text = (
        address_file(store)
        .read_text()
        .replace(f'"pid": {__import__("os").getpid()}', f'"pid": {int(gone.stdout)}')
    )
    address_file(store).write_text(text)
    assert running(store) is None
