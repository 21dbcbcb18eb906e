"""`inferwatch mcp` over stdio, driven by the `mcp` SDK's own client, on a seeded store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from tests.conftest import rows
from tests.mcp._client import call, call_json, command, refused, stdio_session
from tests.mcp.conftest import CLICK

READ_TOOLS = {
    "list_issues",
    "get_issue",
    "list_events",
    "list_generations",
    "generation_stats",
    "search_events",
}


def backend_issue(store: Path) -> int:
    return int(rows(store, "SELECT id FROM issues WHERE platform = 'python'")[0]["id"])


async def test_the_read_tools_are_listed_with_schemas_and_no_write_tool_by_default(
    seeded: Path,
) -> None:
    async with stdio_session(seeded) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        templates = (await session.list_resource_templates()).resource_templates
    assert set(tools) == READ_TOOLS
    assert all(t.annotations and t.annotations.read_only_hint for t in tools.values())
    issues_schema = tools["list_issues"].input_schema["properties"]
    assert {"status", "platform", "search", "since", "limit", "offset"} <= set(issues_schema)
    assert issues_schema["limit"]["maximum"] == 100
    assert [t.uri_template for t in templates] == ["inferwatch://issues/{issue_id}"]


async def test_list_issues_answers_filtered_and_paged(seeded: Path) -> None:
    async with stdio_session(seeded) as session:
        everything = await call_json(session, "list_issues")
        browser = await call_json(session, "list_issues", platform="javascript")
        first = await call_json(session, "list_issues", limit=1)
        second = await call_json(session, "list_issues", limit=1, offset=first["next_offset"])
        by_request = await call_json(session, "list_issues", search="req-1")
        future = await call_json(session, "list_issues", since="2999-01-01T00:00:00Z")
        recent = await call_json(session, "list_issues", since="1h")
    titles = {i["title"] for i in everything["issues"]}
    assert titles == {
        "ValueError: model could not read boom one",
        "TypeError: Cannot read properties of undefined",
    }
    assert [i["platform"] for i in browser["issues"]] == ["javascript"]
    assert all(i["affected"] == 1 for i in everything["issues"])
    assert first["next_offset"] == 1 and second["next_offset"] is None
    assert {first["issues"][0]["id"], second["issues"][0]["id"]} == {
        i["id"] for i in everything["issues"]
    }
    assert [i["platform"] for i in by_request["issues"]] == ["python"]
    assert future["issues"] == [] and len(recent["issues"]) == 2


async def test_get_issue_gives_the_model_context_the_timeline_and_the_app_source(
    seeded: Path,
) -> None:
    issue_id = backend_issue(seeded)
    async with stdio_session(seeded) as session:
        report = await call_json(session, "get_issue", issue_id=issue_id, format="json")
        markdown = await call(session, "get_issue", issue_id=issue_id)
    event = report["event"]
    model = event["model"]
    assert model["name"] == "sentiment" and model["version"] == "2"
    assert model["status"] == "error"
    assert model["input"]["preview"] == "boom one"
    assert model["error"] == {"type": "ValueError", "message": "model could not read boom one"}
    kinds = [(r["source"], r["kind"]) for r in report["timeline"]]
    # The user's click in the browser, the request it sent, the model call, then the error.
    assert ("browser", "click") in kinds and ("backend", "request") in kinds
    assert kinds.index(("browser", "click")) < kinds.index(("backend", "error"))
    assert any(r["text"] == CLICK for r in report["timeline"])
    frames = event["exceptions"][0]["frames"]
    innermost = frames[0]
    assert innermost["in_app"] and innermost["function"] == "predict"
    assert [text for _, text, here in innermost["source"] if here] == [
        '            raise ValueError(f"model could not read {text}")'
    ]
    assert event["request_id"] == "req-1" and ["model", "sentiment"] in event["tags"]
    assert "runtime" in event["contexts"]
    for part in (
        "## What the model received, processed and returned",
        '"preview": "boom one"',
        "## What happened before (timeline)",
        f"browser click: `{CLICK}`",
        "## Exception",
        '> 50 |             raise ValueError(f"model could not read {text}")',
    ):
        assert part in markdown, part


async def test_get_issue_reads_one_event_by_its_id_and_list_events_names_them(
    seeded: Path,
) -> None:
    issue_id = backend_issue(seeded)
    async with stdio_session(seeded) as session:
        events = await call_json(session, "list_events", issue_id=issue_id)
        event_id = events["events"][0]["event_id"]
        report = await call_json(
            session, "get_issue", issue_id=issue_id, event_id=event_id, format="json"
        )
        missing = await refused(session, "get_issue", issue_id=issue_id, event_id="f" * 32)
    assert len(events["events"]) == 1 and events["next_offset"] is None
    assert events["events"][0]["request_id"] == "req-1"
    assert report["event"]["event_id"] == event_id
    assert f"Issue {issue_id} has no event" in missing


async def test_the_issue_resource_is_markdown_and_an_unknown_issue_is_not_found(
    seeded: Path,
) -> None:
    issue_id = backend_issue(seeded)
    async with stdio_session(seeded) as session:
        found = await session.read_resource(f"inferwatch://issues/{issue_id}")
        with pytest.raises(MCPError, match="No issue 99999999999999999999 in the store"):
            await session.read_resource("inferwatch://issues/99999999999999999999")
        with pytest.raises(MCPError, match="No issue 4242 in the store"):
            await session.read_resource("inferwatch://issues/4242")
    (content,) = found.contents
    assert content.mime_type == "text/markdown"
    text = getattr(content, "text", "")
    assert text.startswith(f"# Issue {issue_id}: `ValueError: model could not read boom one`")
    assert "## What the model received, processed and returned" in text


async def test_generations_their_stats_and_event_search_answer(seeded: Path) -> None:
    async with stdio_session(seeded) as session:
        generations = await call_json(session, "list_generations")
        browser = await call_json(session, "list_generations", status="ok", since="1h", limit=5)
        stats = await call_json(session, "generation_stats", range="1h")
        found = await call_json(session, "search_events", text="could not read BOOM")
        by_request = await call_json(session, "search_events", text="req-1")
    sources = {(g["source"], g["status"]) for g in generations["generations"]}
    assert sources == {("backend", "error"), ("backend", "ok"), ("browser", "ok")}
    timed = next(g for g in browser["generations"] if g["source"] == "browser")
    assert timed["duration_ms"] == 1840.0 and timed["first_chunk_ms"] == 420.0
    (sentiment,) = stats["models"]
    assert sentiment["model"] == "sentiment" and sentiment["calls"] == 3
    assert sentiment["errors"] == 1 and sentiment["p50"] is not None
    assert stats["overall"]["browser_p50"] == pytest.approx(1840.0, rel=stats["percentile_error"])
    assert stats["range"] == "1h"
    assert [e["title"] for e in found["events"]] == ["ValueError: model could not read boom one"]
    assert "boom one" in found["events"][0]["snippet"]
    assert [e["request_id"] for e in by_request["events"]] == ["req-1"]


BAD_ARGUMENTS: list[tuple[str, dict[str, Any], str]] = [
    ("list_issues", {"stauts": "resolved"}, "list_issues takes no argument stauts"),
    ("list_issues", {"limit": 1000}, "less than or equal to 100"),
    ("list_issues", {"limit": "many"}, "valid integer"),
    ("list_issues", {"status": "open"}, "'unresolved', 'resolved', 'ignored' or 'all'"),
    ("list_issues", {"since": "last tuesday"}, "since must be an ISO 8601 time"),
    ("list_issues", {"offset": -1}, "greater than or equal to 0"),
    ("get_issue", {}, "issue_id"),
    ("get_issue", {"issue_id": 99999999999999999999}, "No issue 99999999999999999999"),
    ("get_issue", {"issue_id": -3}, "No issue -3"),
    ("get_issue", {"issue_id": 4242}, "No issue 4242 in the store"),
    ("list_events", {"issue_id": 0}, "No issue 0"),
    ("search_events", {"text": ""}, "at least 1 character"),
    ("generation_stats", {"range": "1y"}, "'1h', '24h' or '7d'"),
    ("no_such_tool", {}, "Unknown tool: no_such_tool"),
]


async def test_bad_arguments_are_tool_errors_that_say_why_and_the_server_goes_on(
    seeded: Path,
) -> None:
    async with stdio_session(seeded) as session:
        answers = [await refused(session, t, **arguments) for t, arguments, _ in BAD_ARGUMENTS]
        still = await call_json(session, "list_issues")
    wrong = [
        (tool, arguments, message)
        for (tool, arguments, says), message in zip(BAD_ARGUMENTS, answers, strict=True)
        if says not in message or "Traceback" in message
    ]
    assert not wrong, wrong
    assert len(still["issues"]) == 2


async def test_without_allow_write_there_is_no_tool_that_changes_the_store(
    writable: Path,
) -> None:
    issue_id = backend_issue(writable)
    async with stdio_session(writable) as session:
        message = await refused(session, "resolve_issue", issue_id=issue_id)
    assert "Unknown tool: resolve_issue" in message
    assert rows(writable, "SELECT status FROM issues WHERE id = ?", issue_id)[0]["status"] == (
        "unresolved"
    )


async def test_with_allow_write_resolve_issue_changes_the_status(
    writable: Path,
) -> None:
    issue_id = backend_issue(writable)
    async with stdio_session(writable, "--allow-write") as session:
        names = {t.name for t in (await session.list_tools()).tools}
        answer = await call_json(session, "resolve_issue", issue_id=issue_id)
        resolved = await call_json(session, "list_issues", status="resolved")
        missing = await refused(session, "resolve_issue", issue_id=4242)
        huge = await refused(session, "resolve_issue", issue_id=2**64)
    assert names == READ_TOOLS | {"resolve_issue"}
    assert answer == {"id": issue_id, "status": "resolved"}
    assert [i["id"] for i in resolved["issues"]] == [issue_id]
    assert "No issue 4242" in missing and f"No issue {2**64}" in huge


async def test_a_store_not_yet_written_is_a_clear_tool_error(tmp_path: Path) -> None:
    store = tmp_path / "nothing" / "events.db"
    async with stdio_session(store) as session:
        message = await refused(session, "list_issues")
    assert f"no store at {store} (nothing captured yet?)" in message


def test_without_the_sdk_the_command_says_which_extra_to_install(tmp_path: Path) -> None:
    # The SDK made unimportable in a child process, as when the extra is not installed.
    code = (
        "import sys; sys.modules['mcp'] = None; from inferwatch.cli import main;"
        f" sys.exit(main(['mcp', '--store', {str(tmp_path / 'e.db')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "inferwatch: `inferwatch mcp` needs the MCP SDK, an optional extra:"
        " pip install 'inferwatch[mcp]'"
    ]


@pytest.mark.parametrize("flag", [["--port", "9000"], ["--token", "t"], ["--host", "0.0.0.0"]])
def test_http_flags_without_http_are_a_one_line_error(tmp_path: Path, flag: list[str]) -> None:
    done = subprocess.run(
        command(tmp_path / "e.db", *flag), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"inferwatch: {flag[0]} only apply with --http (stdio is the default)"
    )
