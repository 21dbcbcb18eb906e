"""The command line against a store seeded through the real ingest routes: tables and JSON."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from inferwatch import _cli_export
from inferwatch.cli import main
from inferwatch.serve import ServeConfig, build, snippet_tag
from inferwatch.store import Store, open_readonly
from inferwatch.store._admin import set_status

from tests.conftest import LiveServer, free_port, rows
from tests.dashboard._seed import KEY, seed_backend, seed_browser


class Seeded:
    def __init__(self, url: str, store: Path) -> None:
        self.url, self.store = url, store


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    port = free_port()
    served = build(ServeConfig(store=tmp_path / "events.db", port=port, key=KEY))
    try:
        with LiveServer(served.app, port) as server:
            seed_backend(served.config.store, ["boom one", "fine"], request_ids=["req-1", "req-2"])
            seed_browser(server.url, message="Cannot read properties of undefined", selector="b")
            yield Seeded(server.url, served.config.store)
    finally:
        served.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_issues_prints_a_table_and_json(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    table = run(capsys, "issues", "--store", str(seeded.store)).splitlines()
    assert table[0].split() == ["ID", "STATUS", "PLATFORM", "COUNT", "LAST", "SEEN", "TITLE"]
    assert any("TypeError: Cannot read" in line for line in table[1:])
    issues = json.loads(run(capsys, "issues", "--store", str(seeded.store), "--json"))
    assert {i["platform"] for i in issues} == {"python", "javascript"}


def test_show_prints_the_model_context_and_the_stack(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    issue = rows(seeded.store, "SELECT id FROM issues WHERE platform = 'python'")[0]["id"]
    text = run(capsys, "show", str(issue), "--store", str(seeded.store))
    assert "model: sentiment error" in text and "ValueError: model could not read" in text
    assert "   * " in text  # an in-app frame is marked
    as_json = json.loads(run(capsys, "show", str(issue), "--store", str(seeded.store), "--json"))
    assert as_json["latest_event"]["contexts"]["model"]["name"] == "sentiment"


def test_generations_prints_backend_and_browser_rows(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    table = run(capsys, "generations", "--store", str(seeded.store))
    assert "backend" in table and "browser" in table and "1840.0" in table
    records = json.loads(run(capsys, "generations", "--store", str(seeded.store), "--json"))
    assert {r["source"] for r in records} == {"backend", "browser"}


def test_snippet_prints_the_tag_for_a_url_and_key(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "snippet", "--url", "https://iw.example:8765", "--key", "abc123")
    assert out.strip() == snippet_tag("https://iw.example:8765", "abc123")
    assert 'data-endpoint="https://iw.example:8765/iw/ingest"' in out


def test_snippet_fills_in_the_release_and_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run(
        capsys, "snippet", "--key", "abc123", "--release", "shop@1.4.0", "--environment", "prod"
    )
    assert out.strip() == (
        '<script src="http://127.0.0.1:8765/iw/inferwatch.js"'
        ' data-endpoint="http://127.0.0.1:8765/iw/ingest" data-key="abc123"'
        ' data-release="shop@1.4.0" data-environment="prod"></script>'
    )
    quoted = run(capsys, "snippet", "--key", "k", "--release", '1.0"><script>x')
    assert 'data-release="1.0&quot;&gt;&lt;script&gt;x"' in quoted


def test_snippet_uses_the_key_kept_beside_the_store(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "collector.key").write_text("kept123\n")
    out = run(capsys, "snippet", "--store", str(tmp_path / "events.db"))
    assert 'data-key="kept123"' in out


def test_export_jsonl_writes_one_event_a_line(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = run(capsys, "export", "--store", str(seeded.store), "--format", "jsonl").splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) == len(rows(seeded.store, "SELECT id FROM events"))
    assert all(e["data"]["event_id"] == e["event_id"] for e in events)
    assert {e["platform"] for e in events} == {"python", "javascript"}


def test_export_csv_with_since_and_kind(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    out = run(
        capsys,
        "export",
        "--store",
        str(seeded.store),
        "--format",
        "csv",
        "--kind",
        "generations",
        "--since",
        "1h",
    )
    records = list(csv.DictReader(io.StringIO(out)))
    assert {r["source"] for r in records} == {"backend", "browser"}
    assert records[0]["timestamp"].endswith("Z")
    future = run(
        capsys,
        "export",
        "--store",
        str(seeded.store),
        "--format",
        "csv",
        "--since",
        "2999-01-01T00:00:00Z",
    )
    assert future == ""


def test_export_to_a_file_reports_how_many_rows(
    seeded: Seeded, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "usage.jsonl"
    assert main(["export", "--store", str(seeded.store), "--kind", "usage", "-o", str(target)]) == 0
    assert "exported 2 usage" in capsys.readouterr().err
    assert json.loads(target.read_text().splitlines()[0])["endpoint"] == "/predict"


def test_export_refuses_a_bad_since(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--store", str(seeded.store), "--since", "yesterday-ish"]) == 2
    assert "--since" in capsys.readouterr().err


# A test run started in the background inherits SIGINT ignored, and Python then installs no
# KeyboardInterrupt handler; the child restores it so that Ctrl-C is what the test sends.
_TAIL = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
    " from inferwatch.cli import main; sys.exit(main())"
)


def tail(store: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", _TAIL, "tail", "--store", str(store), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(30, process.kill)  # a line that never comes fails, not hangs
    watchdog.daemon = True
    watchdog.start()
    return process


def stop(process: subprocess.Popen[str]) -> int | None:
    """Ctrl-C, and the exit code; killed (None) if it does not stop, so a test never hangs."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def test_tail_prints_new_events_as_they_arrive_until_interrupted(seeded: Seeded) -> None:
    with tail(seeded.store, "--last", "1", "--interval", "0.1") as process:
        assert process.stdout is not None
        try:
            assert "TypeError: Cannot read" in process.stdout.readline()  # the last stored
            seed_browser(seeded.url, message="A new one arrived", selector="a", session="s2")
            assert "A new one arrived" in process.stdout.readline()
        finally:
            code = stop(process)
    assert code == 130


def test_tail_json_prints_one_object_a_line(seeded: Seeded) -> None:
    stored = len(rows(seeded.store, "SELECT id FROM events"))
    with tail(seeded.store, "--last", str(stored), "--json") as process:
        assert process.stdout is not None
        try:
            lines = [json.loads(process.stdout.readline()) for _ in range(stored)]
        finally:
            stop(process)
    assert lines[-1]["platform"] == "javascript"
    assert all(line["timestamp"].endswith("Z") and line["title"] for line in lines)


def test_issues_filters_by_environment_and_release(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(seeded.store)
    web = json.loads(run(capsys, "issues", "--store", store, "--json", "--release", "web-7"))
    assert [i["platform"] for i in web] == ["javascript"]
    assert (
        json.loads(run(capsys, "issues", "--store", store, "--json", "--environment", "qa")) == []
    )


def test_a_large_export_shows_its_progress_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.db"
    store = Store(path)
    assert store.write([("usage", {"endpoint": "/p"}) for _ in range(10_001)], timeout=30)
    store.close()
    assert main(["export", "--store", str(path), "--kind", "usage", "--format", "csv"]) == 0
    printed = capsys.readouterr()
    assert len(printed.out.splitlines()) == 10_002  # the header and every row, nothing else
    assert "10000/10001 rows" in printed.err and "exported 10001 usage" in printed.err


def test_prune_applies_the_retention_rules_once(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    for session in ("s2", "s3"):  # the browser issue now has three events, the backend one one
        seed_browser(
            seeded.url, message="Cannot read properties of undefined", selector="b", session=session
        )
    store = str(seeded.store)
    deleted = json.loads(run(capsys, "prune", "--store", store, "--max-events", "2", "--json"))
    assert deleted == {
        "age": 0,
        "per_issue": 0,
        "total": 2,
        "side_rows": 0,
        "issues": 0,
        "attachments": 0,
    }
    per_issue = rows(seeded.store, "SELECT issue_id, COUNT(*) AS n FROM events GROUP BY 1")
    assert [r["n"] for r in per_issue] == [1, 1]  # every issue keeps its newest event
    assert (
        run(capsys, "prune", "--store", store).strip()
        == "0 age, 0 per issue, 0 total, 0 side rows, 0 issues, 0 attachments"
    )


def test_terminal_escape_sequences_from_events_are_shown_not_obeyed(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_browser(seeded.url, message="evil \x1b]0;pwned\x07 \x1b[2J \x9b31m", selector="a")
    table = run(capsys, "issues", "--store", str(seeded.store))
    assert "\x1b" not in table and "\x07" not in table and "\x9b" not in table
    assert "evil \\x1b]0;pwned\\x07" in table
    issue = rows(seeded.store, "SELECT id FROM issues WHERE title LIKE '%evil%'")[0]["id"]
    shown = run(capsys, "show", str(issue), "--store", str(seeded.store))
    assert "\x1b" not in shown and "\\x1b[2J" in shown


def test_json_output_escapes_c1_control_characters_from_events(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    title = "evil \u009b31m red"
    seed_browser(seeded.url, message=title, selector="a")
    store = str(seeded.store)
    issues_out = run(capsys, "issues", "--store", store, "--json")
    issue = next(i for i in json.loads(issues_out) if "evil" in i["title"])
    shown = run(capsys, "show", str(issue["id"]), "--store", store, "--json")
    exported = run(capsys, "export", "--store", store, "--format", "jsonl")
    for out in (issues_out, shown, exported):
        assert "\x9b" not in out and "\\u009b31m" in out
    assert title in issue["title"]  # the same content, once parsed
    assert json.loads(shown)["title"] == issue["title"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_csv_export_is_no_formula_for_a_spreadsheet_and_no_escape_for_a_terminal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    store = Store(path)
    endpoints = ['=HYPERLINK("http://evil.example")', "@SUM(A1)", "/ok", "red \x1b[31m \x9b2J"]
    assert store.write([("usage", {"endpoint": e}) for e in endpoints])
    store.close()
    out = tmp_path / "usage.csv"
    assert (
        main(
            [
                "export",
                "--store",
                str(path),
                "--kind",
                "usage",
                "--format",
                "csv",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    with open(out, newline="", encoding="utf-8") as f:
        saved = [r["endpoint"] for r in csv.DictReader(f)]
    assert saved == ['\'=HYPERLINK("http://evil.example")', "'@SUM(A1)", "/ok", endpoints[3]]
    terminal = Terminal()
    with open_readonly(path) as conn:
        usage = (dict(r) for r in conn.execute("SELECT timestamp, endpoint FROM usage ORDER BY id"))
        _cli_export._write_export(usage, "csv", terminal, 4)
    assert "\x1b" not in terminal.getvalue() and "\x9b" not in terminal.getvalue()
    assert "red \\x1b[31m \\x9b2J" in terminal.getvalue()


FORGED = "Forged: evil row\n9999   resolved    python      1       2026-01-01T00:00:00.000Z"


def post_forging_event(url: str) -> None:
    """An event whose fields each try to start a line of their own, as any SDK may send."""
    event = {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.time(),
        "platform": "python\ninjected",
        "exception": {
            "values": [
                {
                    "type": f"ValueError\r\n{FORGED}",
                    "value": "bad\u2028line\u2029two\x85three\tfour",
                    "stacktrace": {
                        "frames": [
                            {"filename": "app.py\nfake.py", "function": "f\x1b[2J", "in_app": True}
                        ]
                    },
                }
            ]
        },
        "tags": {"request_id": "req\nforged", "k\n": "v\r"},
        "contexts": {"model": {"name": "m\nx", "status": "error", "input": {"q": "a\u2028b"}}},
    }
    payload = json.dumps(event).encode()
    body = b"\n".join([b"{}", json.dumps({"type": "event"}).encode(), payload])
    response = httpx.post(f"{url}/api/1/envelope/?sentry_key={KEY}", content=body)
    assert response.status_code == 200, response.text


UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def test_a_newline_in_any_event_field_forges_no_row_in_issues_show_or_tail(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    post_forging_event(seeded.url)
    issues = run(capsys, "issues", "--store", str(seeded.store))
    listed = json.loads(run(capsys, "issues", "--store", str(seeded.store), "--json"))
    assert len(issues.splitlines()) == 1 + len(listed)  # the header and one line an issue
    assert not any(line.startswith("9999") for line in issues.splitlines())
    assert "ValueError\\r\\nForged: evil row\\n9999" in issues
    issue = next(i["id"] for i in listed if "Forged" in i["title"])
    shown = run(capsys, "show", str(issue), "--store", str(seeded.store))
    assert not UNSAFE.search(shown)
    assert not any(
        line.startswith(("9999", "fake.py", "forged", "injected")) for line in shown.splitlines()
    )
    for written_out in (
        "bad\\u2028line\\u2029two\\x85three\\tfour",
        "app.py\\nfake.py",
        "f\\x1b[2J",
    ):
        assert written_out in shown
    # Tags with a newline are invalid to Sentry's normalizer: dropped at the door, noted in
    # `errors`, so none reaches `show` or `tail`; the model context's name still tries.
    assert "model: m\\nx" in shown
    with tail(seeded.store, "--last", "1", "--interval", "0.1") as process:
        assert process.stdout is not None
        try:
            line = process.stdout.readline()
        finally:
            stop(process)
        rest = process.stdout.read()  # after Ctrl-C: nothing more was printed
    assert "ValueError\\r\\nForged: evil row\\n9999" in line
    assert not UNSAFE.search(line.rstrip("\n")) and rest == ""


@pytest.mark.parametrize(
    "args",
    [
        ["show", "99999999999999999999"],
        ["show", "-1"],
        ["show", "abc"],
        ["issues", "--limit", "99999999999999999999"],
        ["generations", "--limit", "99999999999999999999"],
        ["tail", "--last", "99999999999999999999"],
    ],
)
def test_a_number_sqlite_cannot_hold_is_a_one_line_error_not_a_traceback(
    seeded: Seeded, args: list[str]
) -> None:
    command = [sys.executable, "-m", "inferwatch.cli", *args, "--store", str(seeded.store)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "OverflowError" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("inferwatch")
    assert "whole number from" in done.stderr


def test_a_broken_store_is_a_one_line_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.db"
    with closing(sqlite3.connect(path)) as conn:  # readable, not the schema the queries expect
        conn.execute("CREATE TABLE issues (id INTEGER PRIMARY KEY)")
    assert main(["issues", "--store", str(path)]) == 2
    store_line, *error = capsys.readouterr().err.splitlines()
    assert store_line == f"inferwatch: store {path}"  # it opened: the query is what failed
    assert len(error) == 1 and error[0].startswith("inferwatch: cannot read the store")


@pytest.mark.parametrize(
    "args", [["show", "1"], ["issues"], ["generations"], ["tail", "--interval", "0.1"]]
)
def test_a_closed_pipe_ends_the_command_quietly(seeded: Seeded, args: list[str]) -> None:
    """`inferwatch show 1 | head`: the reader is gone before the command writes."""
    command = [sys.executable, "-m", "inferwatch.cli", *args, "--store", str(seeded.store)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # long before the child has imported anything
        code = process.wait(60)
        err = process.stderr.read().decode()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert code == 141  # as a shell reports a program that SIGPIPE stopped


def test_status_all_lists_every_issue_whatever_its_status(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    every = json.loads(run(capsys, "issues", "--store", str(seeded.store), "--json"))
    assert set_status(seeded.store, every[0]["id"], "resolved")
    listed = json.loads(
        run(capsys, "issues", "--store", str(seeded.store), "--status", "all", "--json")
    )
    assert [i["id"] for i in listed] == [i["id"] for i in every]
    assert {i["status"] for i in listed} == {"resolved", "unresolved"}
    open_only = run(
        capsys, "issues", "--store", str(seeded.store), "--status", "unresolved", "--json"
    )
    assert len(json.loads(open_only)) == len(every) - 1


def test_a_file_that_cannot_be_written_is_a_one_line_error(
    seeded: Seeded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "no such folder" / "events.jsonl"
    assert main(["export", "--store", str(seeded.store), "-o", str(output)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"inferwatch: No such file or directory: {output}"


def test_every_reading_command_names_its_store_on_stderr_only(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (["issues", "--json"], ["show", "1", "--json"], ["generations", "--json"]):
        assert main([*args, "--store", str(seeded.store)]) == 0
        out, err = capsys.readouterr()
        json.loads(out)
        assert err == f"inferwatch: store {seeded.store}\n"
