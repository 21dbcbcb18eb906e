"""The dashboard in real Chromium, against `inferwatch serve`'s app on loopback.

The store is seeded through the real ingest routes; screenshots of each page are saved under
`test-artifacts/` for people to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from inferwatch.serve import ServeConfig, build
from inferwatch.store import open_readonly
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.conftest import LiveServer, free_port
from tests.dashboard._seed import KEY, XSS, seed_backend, seed_browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = pytest.mark.browser


class Dashboard:
    def __init__(self, url: str, store: Path) -> None:
        self.url, self.store = url, store

    def issue_id(self, title_part: str) -> int:
        with open_readonly(self.store) as conn:
            row = conn.execute(
                "SELECT id FROM issues WHERE title LIKE ?", (f"%{title_part}%",)
            ).fetchone()
        return int(row["id"])


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    port = free_port()
    served = build(ServeConfig(store=tmp_path / "events.db", port=port, key=KEY))
    try:
        with LiveServer(served.app, port) as server:
            seed_backend(
                served.config.store,
                ["hello boom " + XSS, "fine", "again boom"],
                request_ids=["req-a1", "req-a2", "req-browser-1"],
            )
            seed_browser(server.url, message="Cannot read " + XSS, selector="button#send." + XSS)
            yield Dashboard(server.url, served.config.store)
    finally:
        served.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def watch_console(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: _keep(problems, m))
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def _keep(problems: list[str], message: ConsoleMessage) -> None:
    if message.type in ("error", "warning"):
        problems.append(message.text)


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def test_each_page_shows_what_it_should(dashboard: Dashboard, page: Page) -> None:
    problems = watch_console(page)
    page.goto(dashboard.url + "/")
    expect(page.locator(".issue")).to_have_count(3)
    expect(page.locator(".issue-title").first).to_contain_text("TypeError: Cannot read")
    expect(page.locator(".issue .chart.spark")).to_have_count(3)
    shot(page, "issues")

    page.click("text=TypeError: Cannot read")
    expect(page.locator("#timeline .tl-click")).to_contain_text("button#send.<img src=x")
    expect(page.locator("#timeline")).to_contain_text("POST /predict → 500")
    expect(page.locator("#timeline .tl-generation").first).to_contain_text("first token 420 ms")
    shot(page, "issue-browser")

    page.goto(f"{dashboard.url}/issues/{dashboard.issue_id('hello boom')}")
    expect(page.locator("#model")).to_contain_text("sentiment")
    expect(page.locator("#model .preview").first).to_contain_text("hello boom <img src=x")
    expect(page.locator(".frame.in-app .src-line.current").first).to_contain_text("raise")
    expect(page.locator("#request")).to_contain_text("POST")
    shot(page, "issue-backend")

    page.goto(dashboard.url + "/generations")
    expect(page.locator(".tile").nth(2)).to_contain_text("1.84 s")
    expect(page.locator("svg.chart")).to_have_count(3)
    shot(page, "generations")

    page.goto(dashboard.url + "/usage")
    expect(page.locator(".legend").first).to_contain_text("POST /predict")
    shot(page, "usage")
    assert problems == []


def test_hostile_strings_are_shown_as_text_and_nothing_runs(
    dashboard: Dashboard, page: Page
) -> None:
    problems = watch_console(page)
    for path in (
        "/",
        f"/issues/{dashboard.issue_id('TypeError')}",
        f"/issues/{dashboard.issue_id('hello boom')}",
        "/?status=all&q=%3Cscript%3E",
    ):
        page.goto(dashboard.url + path)
        assert page.evaluate("window.__pwned") is None
        assert page.locator("main img, main script").count() == 0
    page.goto(f"{dashboard.url}/issues/{dashboard.issue_id('TypeError')}")
    expect(page.locator("h1")).to_contain_text("<script>window.__pwned=1</script>")
    assert problems == []


def test_resolve_in_the_page_and_a_recurrence_reopens_as_a_regression(
    dashboard: Dashboard, page: Page
) -> None:
    issue = dashboard.issue_id("TypeError")
    page.goto(dashboard.url + "/")
    row = page.locator(f'[data-issue-id="{issue}"]')
    row.locator('button[data-action="resolved"]').click()
    expect(page.locator(f'[data-issue-id="{issue}"]')).to_have_count(0)
    seed_browser(dashboard.url, message="Cannot read " + XSS, selector="button")
    page.goto(dashboard.url + "/")
    expect(row.locator(".badge.regressed")).to_have_text("regression")
    shot(page, "regression")


def test_search_by_request_id_from_the_filter_form(dashboard: Dashboard, page: Page) -> None:
    page.goto(dashboard.url + "/")
    page.fill('input[name="q"]', "req-a1")
    page.click("button:text('Filter')")
    expect(page.locator(".issue")).to_have_count(1)
    expect(page.locator(".issue-title")).to_contain_text("hello boom")
    page.select_option('select[name="platform"]', "javascript")
    page.fill('input[name="q"]', "")
    page.click("button:text('Filter')")
    expect(page.locator(".issue")).to_have_count(1)
    expect(page.locator(".issue-title")).to_contain_text("TypeError")


def test_new_events_appear_without_a_reload(dashboard: Dashboard, page: Page) -> None:
    page.goto(dashboard.url + "/")
    expect(page.locator("#live-status")).to_be_visible()
    page.evaluate("window.__same_document = true")
    seed_browser(dashboard.url, message="A brand new failure", selector="a.retry")
    expect(page.locator(".issue-title").first).to_contain_text("A brand new failure")
    assert page.evaluate("window.__same_document") is True


def test_the_issue_page_says_when_new_events_of_its_issue_arrive(
    dashboard: Dashboard, page: Page
) -> None:
    page.goto(f"{dashboard.url}/issues/{dashboard.issue_id('TypeError')}")
    expect(page.locator("#live-status")).to_be_visible()
    seed_browser(dashboard.url, message="Something else entirely", selector="a", session="s9")
    seed_browser(dashboard.url, message="Cannot read " + XSS, selector="button", session="s3")
    notice = page.locator("#live-notice")
    expect(notice).to_be_visible()
    notice.locator("a").click()
    expect(page.locator(".stats dd").first).to_have_text("2")


def test_pages_work_with_javascript_off(dashboard: Dashboard, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(dashboard.url + "/")
        expect(page.locator("#live-status")).to_be_hidden()  # nothing live without a script
        row = page.locator(f'[data-issue-id="{dashboard.issue_id("again boom")}"]')
        row.locator('button[data-action="ignored"]').click()
        expect(page.locator(".issue")).to_have_count(2)
        page.goto(f"{dashboard.url}/issues/{dashboard.issue_id('hello boom')}")
        page.click("summary:text('library frame')")
        expect(page.locator(".lib-frames").first).to_be_visible()
    finally:
        context.close()
