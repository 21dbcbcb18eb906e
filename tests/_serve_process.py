"""`inferwatch serve` in a child process, as a user starts it: in a folder, with flags."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port

# A test run started in the background inherits SIGINT ignored; the child restores Ctrl-C.
_MAIN = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
    " from inferwatch.cli import main; sys.exit(main())"
)


@dataclass
class Serving:
    process: subprocess.Popen[str]
    url: str
    banner: str

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/iw/inferwatch.js", timeout=1).raise_for_status()
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not start listening"
                time.sleep(0.05)

    def stop(self, sig: int = signal.SIGINT) -> str:
        """Ctrl-C (or `sig`); what it printed on stderr. Killed if it does not stop."""
        self.process.send_signal(sig)
        try:
            _, err = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err


@contextmanager
def serving(cwd: Path, *flags: str) -> Iterator[Serving]:
    """`inferwatch serve` started in `cwd` on a free port, once its banner is printed (the
    banner comes just before the port is bound); stopped when the block ends, if still up."""
    port = free_port()
    command = [sys.executable, "-c", _MAIN, "serve", "--port", str(port), *flags]
    env = {k: v for k, v in os.environ.items() if k not in {"INFERWATCH_STORE", "SENTRY_DSN"}}
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    watchdog = threading.Timer(60, process.kill)  # a banner that never comes fails, not hangs
    watchdog.start()
    try:
        assert process.stdout is not None
        banner = ""
        while "<script" not in banner:
            line = process.stdout.readline()
            assert line, f"serve stopped before its banner: {banner}{process.stderr.read()}"  # type: ignore[union-attr]
            banner += line
        yield Serving(process, f"http://127.0.0.1:{port}", banner)
    finally:
        if process.poll() is None:
            Serving(process, "", "").stop()
        watchdog.cancel()
