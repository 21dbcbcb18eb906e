"""The dashboard's pages over real HTTP, against a store seeded through the real ingest routes."""

from __future__ import annotations

import re
import sqlite3
import time

import httpx
import pytest
from inferwatch.store import Store, open_readonly

from tests.dashboard._seed import TRACE, XSS, seed_backend, seed_browser
from tests.dashboard.conftest import Running

HTML = {"Accept": "text/html"}


@pytest.fixture
def seeded(running: Running) -> Running:
    seed_backend(
        running.store,
        ["hello boom " + XSS + " mail bob@example.com", "fine", "again boom"],
        request_ids=["req-a1", "req-a2", "req-browser-1"],
    )
    seed_browser(running.url, message="Cannot read " + XSS, selector="button#send." + XSS)
    return running


def get(running: Running, path: str) -> httpx.Response:
    return httpx.get(running.url + path, headers=HTML)


def issue_id(running: Running, title_part: str) -> int:
    with open_readonly(running.store) as conn:
        row = conn.execute(
            "SELECT id FROM issues WHERE title LIKE ?", (f"%{title_part}%",)
        ).fetchone()
    return int(row["id"])


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def test_issues_page_lists_backend_and_browser_issues_with_counts_and_sparklines(
    seeded: Running,
) -> None:
    page = get(seeded, "/")
    assert page.status_code == 200
    assert "ValueError: model could not read hello boom" in page.text
    assert "TypeError: Cannot read" in page.text
    assert page.text.count('class="chart spark"') == 3
    assert ">sessions<" in page.text and ">requests<" in page.text


def test_pages_send_a_csp_without_inline_scripts(seeded: Running) -> None:
    for path in ("/", f"/issues/{issue_id(seeded, 'TypeError')}", "/generations", "/usage"):
        csp = get(seeded, path).headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_strings_from_apps_and_browsers_are_escaped(seeded: Running) -> None:
    for part in ("TypeError", "hello boom"):
        html = get(seeded, f"/issues/{issue_id(seeded, part)}").text
        assert "<script>window.__pwned" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html


def test_search_finds_an_issue_by_request_id_and_by_trace_id(seeded: Running) -> None:
    by_request = get(seeded, "/?status=all&q=req-a1").text
    assert "hello boom" in by_request and "again boom" not in by_request
    by_trace = get(seeded, f"/?status=all&q={TRACE}").text
    assert "TypeError: Cannot read" in by_trace and "hello boom" not in by_trace


def test_filters_by_platform_environment_and_release(seeded: Running) -> None:
    browser = get(seeded, "/?platform=javascript").text
    assert "TypeError" in browser and "ValueError" not in browser
    release = get(seeded, "/?release=1.4.0").text
    assert "ValueError" in release and "TypeError" not in release
    assert "TypeError" not in get(seeded, "/?environment=staging").text


def test_issue_page_shows_model_context_stack_and_source(seeded: Running) -> None:
    html = get(seeded, f"/issues/{issue_id(seeded, 'hello boom')}").text
    assert "Model context" in html and "sentiment" in html
    assert "[email]" in html and "bob@example.com" not in html  # the redacted preview
    assert 'class="frame in-app"' in html
    assert 'class="src-line current"' in html and "raise ValueError" in html


def test_timeline_joins_the_click_generation_request_and_backend_error(seeded: Running) -> None:
    html = get(seeded, f"/issues/{issue_id(seeded, 'TypeError')}").text
    timeline = html[html.index('id="timeline"') :]
    for kind in ("page view", "click", "console", "generation", "request"):
        assert f'<span class="tl-kind">{kind}</span>' in timeline
    assert "POST /predict → 500" in timeline
    assert "again boom" in timeline  # the backend error of the request the browser timed


def test_a_backend_error_finds_the_clicks_of_the_session_whose_request_failed(
    seeded: Running,
) -> None:
    html = get(seeded, f"/issues/{issue_id(seeded, 'again boom')}").text
    timeline = html[html.index('id="timeline"') :]
    assert '<span class="tl-kind">click</span>' in timeline
    assert "button#send.&lt;img" in timeline
    assert "hello boom" not in timeline  # another request of the same process is not joined


def test_walks_through_the_events_of_an_issue(seeded: Running) -> None:
    seed_browser(seeded.url, message="Cannot read " + XSS, selector="button#send")
    issue = issue_id(seeded, "TypeError")
    latest = get(seeded, f"/issues/{issue}").text
    older = re.search(r'href="/issues/\d+\?event=([0-9a-f]+)" rel="prev"', latest)
    assert older
    page = get(seeded, f"/issues/{issue}?event={older.group(1)}").text
    assert 'rel="next"' in page and 'rel="prev"' not in page


def test_resolve_needs_the_csrf_token(seeded: Running) -> None:
    issue = issue_id(seeded, "TypeError")
    refused = httpx.post(f"{seeded.url}/issues/{issue}/status", data={"status": "resolved"})
    assert refused.status_code == 403
    with open_readonly(seeded.store) as conn:
        assert conn.execute("SELECT status FROM issues WHERE id = ?", (issue,)).fetchone()[0] == (
            "unresolved"
        )


def test_a_status_change_while_another_writer_holds_the_store_answers_503(
    seeded: Running,
) -> None:
    issue = issue_id(seeded, "TypeError")
    csrf = csrf_of(get(seeded, "/").text)
    holder = sqlite3.connect(seeded.store, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        # The store's busy timeout (5 s) passes before the answer: no seam to shorten it here.
        busy = httpx.post(
            f"{seeded.url}/issues/{issue}/status",
            data={"status": "resolved", "csrf": csrf},
            timeout=60,
        )
    finally:
        holder.close()
    assert busy.status_code == 503
    assert "try again" in busy.text


def test_a_resolved_issue_that_recurs_is_shown_as_a_regression(seeded: Running) -> None:
    issue = issue_id(seeded, "TypeError")
    csrf = csrf_of(get(seeded, "/").text)
    done = httpx.post(
        f"{seeded.url}/issues/{issue}/status", data={"status": "resolved", "csrf": csrf}
    )
    assert done.status_code == 303
    assert "TypeError" not in get(seeded, "/").text
    assert "TypeError" in get(seeded, "/?status=resolved").text
    seed_browser(seeded.url, message="Cannot read " + XSS, selector="button")
    html = get(seeded, "/").text
    row = html[html.index(f'data-issue-id="{issue}"') :]
    assert "regression" in row[: row.index("</li>")]


def test_ignore_hides_an_issue_from_the_default_list(seeded: Running) -> None:
    issue = issue_id(seeded, "again boom")
    csrf = csrf_of(get(seeded, "/").text)
    httpx.post(f"{seeded.url}/issues/{issue}/status", data={"status": "ignored", "csrf": csrf})
    assert "again boom" not in get(seeded, "/").text
    assert "again boom" in get(seeded, "/?status=ignored").text


def test_generations_page_shows_latency_charts_and_models(seeded: Running) -> None:
    html = get(seeded, "/generations").text
    assert html.count('<svg class="chart') == 3
    assert "sentiment" in html and "1.84 s" in html and "420 ms" in html  # the user's wait


def test_usage_page_shows_requests_per_route(seeded: Running) -> None:
    html = get(seeded, "/usage").text
    assert "POST /predict" in html and "GET /health" in html
    assert html.count('<svg class="chart') == 2


def test_a_foreign_host_header_is_refused_on_loopback(seeded: Running) -> None:
    response = httpx.get(seeded.url + "/", headers={**HTML, "Host": "evil.example"})
    assert response.status_code == 403


def test_version_changes_when_an_event_arrives(seeded: Running) -> None:
    before = httpx.get(seeded.url + "/api/version").json()["version"]
    seed_browser(seeded.url, message="another", selector="a")
    assert httpx.get(seeded.url + "/api/version").json()["version"] != before


def test_unknown_pages_and_files_are_not_found(seeded: Running) -> None:
    assert get(seeded, "/issues/9999").status_code == 404
    assert get(seeded, "/static/../serve.py").status_code == 404
    assert get(seeded, "/static/app.css").headers["content-type"].startswith("text/css")


@pytest.mark.parametrize(
    "issue", ["99999999999999999999", str(2**63), "-1", "0", "abc", "1e3", "\uff11"]
)
def test_an_issue_id_no_row_can_have_is_not_found_on_every_route_that_takes_one(
    seeded: Running, issue: str
) -> None:
    # Past 2**63 - 1, SQLite cannot bind the number: these were 500s (or 422s for text).
    assert get(seeded, f"/issues/{issue}").status_code == 404
    assert httpx.get(seeded.url + "/api/version", params={"issue": issue}).status_code == 404
    csrf = csrf_of(get(seeded, "/").text)
    status = httpx.post(
        f"{seeded.url}/issues/{issue}/status", data={"status": "resolved", "csrf": csrf}
    )
    assert status.status_code == 404
    real = issue_id(seeded, "Cannot read")
    assert httpx.get(seeded.url + "/api/version", params={"issue": real}).json()["version"]


def test_an_empty_store_shows_the_tag_to_paste(running: Running) -> None:
    html = get(running, "/").text
    assert "Nothing captured yet." in html
    assert f"&lt;script src=&#34;{running.url}/iw/inferwatch.js&#34;" in html
    seed_browser(running.url, message="first", selector="a")
    assert "Nothing captured yet." not in get(running, "/?status=resolved").text


def test_long_values_are_shown_whole(running: Running) -> None:
    release = "example-backend@0.1.0+build.20261127.7f3c2a1"
    store = Store(running.store)
    try:
        event = {"event_id": "ab" * 16, "message": "long values", "release": release}
        assert store.write([("event", {**event, "timestamp": time.time()})])
    finally:
        store.close()
    listed = get(running, "/").text
    assert f"· {release}</span>" in listed  # not cut to its first 12 characters
    page = get(running, f"/issues/{issue_id(running, 'long values')}").text
    assert f'<code class="event-id">{"ab" * 16}</code>' in page
    assert f'<span class="tag-v">{release}</span>' in page
