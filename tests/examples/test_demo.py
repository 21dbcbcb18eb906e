"""`examples/demo.py`, the script `make demo` runs: the whole visit against real processes, and a
clear refusal when a port is taken."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from inferwatch.store import latest_event, list_generations, list_issues, list_usage, open_readonly

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo.py"


def demo(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Chromium is not installed")
def test_the_demo_fills_the_store_serves_and_stops_its_processes_on_ctrl_c(
    tmp_path: Path,
) -> None:
    subprocess.run(["make", "--no-print-directory", "react"], cwd=ROOT, check=True)
    store = tmp_path / "demo" / "events.db"
    ports = [free_port(), free_port()]
    command = [sys.executable, str(DEMO), "--store", str(store), "--cold-start", "3"]
    command += ["--collector-port", str(ports[0]), "--app-port", str(ports[1])]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        watchdog = threading.Timer(240, process.kill)  # a hung demo fails the test, not the run
        watchdog.start()
        try:
            lines = []
            while (line := process.stdout.readline() if process.stdout else "") and (
                "Serving until Ctrl-C." not in line
            ):
                lines.append(line)
            assert process.poll() is None, "".join(lines)
            assert f"dashboard    http://127.0.0.1:{ports[0]}/" in "".join(lines)
            process.send_signal(signal.SIGINT)
            assert process.wait(30) == 0
        finally:
            watchdog.cancel()
            process.kill()
    for port in ports:  # the collector and the app were stopped with the demo
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))

    with open_readonly(store) as conn:
        issues = {i["title"].split(":")[0]: i for i in list_issues(conn)}
        models = {
            title: (latest_event(conn, i["id"]) or {}).get("contexts", {}).get("model")
            for title, i in issues.items()
        }
        sources = {g["source"] for g in list_generations(conn, limit=500)}
        usage = {u["endpoint"] for u in list_usage(conn, limit=500)}
    failures = ("EmptyPrediction", "ValueError", "NotAnImage", "POST /api/generate returned 504")
    for title in (*failures, "JSONDecodeError"):
        assert models[title], f"{title} has no model context"
    assert models["JSONDecodeError"]["provider"] == "openai"  # from the integration
    assert issues["TypeError"]["platform"] == "javascript"
    # the page is minified; the collector reads its build's maps (--sourcemaps)
    assert issues["TypeError"]["culprit"].endswith("(src/App.jsx)")  # resolved: fn(file)
    assert sources == {"backend", "browser"}
    assert usage == {"/api/classify", "/api/generate", "/api/image"}


def test_the_demo_names_a_port_in_use_instead_of_failing_later(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        ports = ["--collector-port", str(free_port()), "--app-port", port]
        result = demo("--once", "--store", str(tmp_path / "events.db"), *ports)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "Traceback" not in result.stderr
