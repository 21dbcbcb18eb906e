"""The issue pages of the demo's failure modes, in real Chromium, show what the README's table
promises: the example app (`examples/fastapi_app`) is driven in-process into each failure, as
`make demo` drives it, then `inferwatch serve`'s dashboard over the same store is loaded.

Screenshots of each page go to `test-artifacts/` for people to look at.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import inferwatch
import pytest
from inferwatch.serve import ServeConfig, build
from inferwatch.store import list_issues, open_readonly
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect

from examples.fastapi_app.app import Settings, create_app
from tests.browser.test_dashboard import shot, watch_console
from tests.conftest import LiveServer, asgi_client, free_port
from tests.dashboard._seed import KEY, run_in_thread

pytestmark = pytest.mark.browser


@dataclass
class Demo:
    url: str
    issues: dict[str, int]  # the start of each issue's title → its id

    def open(self, page: Page, title: str) -> Locator:
        """The issue page whose title starts with `title`; its model context."""
        page.goto(f"{self.url}/issues/{self.issues[title]}")
        expect(page.locator("h1")).to_contain_text(title)
        return page.locator("#model")


def rgba_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (32, 32), (200, 30, 30, 128)).save(buf, "PNG")
    return buf.getvalue()


def break_the_example(store: Path) -> None:
    """Every failure of the debugging table, through the example app's own routes."""
    settings = Settings(
        store=store,
        environ={},
        cold_start_s=0.5,
        load_timeout_s=0.05,
        first_token_s=0.0,
        word_s=0.0,
        json_logs=False,
    )

    async def drive() -> None:
        async with asgi_client(create_app(settings)) as client:
            sent = [
                await client.post("/api/classify", json={"text": "I love it", "version": "2"}),
                await client.post(
                    "/api/image", content=rgba_png(), headers={"content-type": "image/png"}
                ),
                await client.post(
                    "/api/image", content=b"just some notes", headers={"content-type": "image/png"}
                ),
                await client.post("/api/generate", json={"prompt": "The", "model": "large"}),
                await client.post("/api/review", json={"text": "I love this film. " * 40}),
            ]
        assert [r.status_code for r in sent] == [500, 500, 415, 504, 500]

    run_in_thread(drive)
    assert inferwatch.flush(5)
    inferwatch.shutdown()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    store = tmp_path_factory.mktemp("demo") / "events.db"
    break_the_example(store)
    with open_readonly(store) as conn:
        titles = {str(i["title"]): int(i["id"]) for i in list_issues(conn)}
    port = free_port()
    served = build(ServeConfig(store=store, port=port, key=KEY))
    try:
        with LiveServer(served.app, port) as server:
            issues = {}
            for start in ("EmptyPrediction", "ValueError", "NotAnImage", "POST", "JSONDecodeError"):
                issues[start] = next(i for t, i in titles.items() if t.startswith(start))
            yield Demo(server.url, issues)
    finally:
        served.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    yield context.new_page()
    context.close()


def chip(model: Locator, name: str, value: str) -> Locator:
    return model.locator(".chip", has_text=f"{name} {value}")


def test_an_empty_prediction_shows_the_input_the_failed_load_and_the_empty_output(
    demo: Demo, page: Page
) -> None:
    problems = watch_console(page)
    model = demo.open(page, "EmptyPrediction")
    expect(model.locator(".model-input .val-text .preview")).to_have_text("I love it")
    load = model.locator(".notes li", has_text="load")
    expect(chip(load, "loaded", "false")).to_be_visible()
    expect(chip(load, "classes", "0")).to_be_visible()
    label = model.locator(".model-output .entry", has_text="label")
    expect(label.locator("dd")).to_have_text('"" (empty)')
    shot(page, "failure-empty-prediction")
    assert problems == []


def test_an_rgba_upload_shows_the_image_its_mode_and_that_it_verified(
    demo: Demo, page: Page
) -> None:
    model = demo.open(page, "ValueError")
    expect(page.locator("h1")).to_contain_text("expected input of shape (n, 3), got (256, 4)")
    upload = model.locator(".model-input .val-image")
    for name, value in (("mime", "image/png"), ("format", "PNG"), ("mode", "RGBA")):
        expect(chip(upload, name, value)).to_be_visible()
    expect(chip(upload, "verified", "true")).to_be_visible()
    expect(upload.locator(".verdict-good")).to_have_text("verified: a valid PNG image")
    expect(chip(model.locator(".notes li", has_text="preprocess"), "mode", "RGBA")).to_be_visible()
    shot(page, "failure-rgba-upload")


def test_a_text_file_sent_as_an_image_is_shown_as_not_an_image(demo: Demo, page: Page) -> None:
    model = demo.open(page, "NotAnImage")
    upload = model.locator(".model-input .val-bytes")
    expect(chip(upload, "mime", "text/plain")).to_be_visible()
    expect(upload.locator(".verdict-bad")).to_have_text(
        "not an image: its bytes are text/plain, though it was sent as image/png"
    )
    shot(page, "failure-wrong-file-type")


def test_a_cold_start_timeout_shows_the_wait_and_the_504s_timing(demo: Demo, page: Page) -> None:
    model = demo.open(page, "POST")
    expect(page.locator("h1")).to_have_text("POST /api/generate returned 504")
    expect(model.locator(".model-name")).to_have_text("story-large")
    stages = model.locator(".notes .stage")
    expect(stages).to_have_text(["cold_start", "waited"])
    expect(chip(model.locator(".notes li").nth(1), "ready", "false")).to_be_visible()
    expect(model.locator(".stats dd").first).to_have_text(_duration())
    request = page.locator("#timeline .tl-request")
    expect(request).to_contain_text("POST /api/generate → 504 in")
    expect(request.locator(".tl-text")).to_have_text(_duration(prefix=r".*→ 504 in "))
    shot(page, "failure-timeout")


def test_a_cut_llm_answer_shows_the_messages_the_cut_json_and_why(demo: Demo, page: Page) -> None:
    model = demo.open(page, "JSONDecodeError")
    expect(chip(model, "provider", "openai")).to_be_visible()
    chat = model.locator(".model-input .val-chat")
    expect(chat.locator(".msg-role")).to_have_text(["system", "user"])
    expect(chat.locator(".msg").nth(1)).to_contain_text("I love this film.")
    answer = model.locator(".model-output .entry", has_text="text")
    expect(answer.locator("dd")).to_contain_text('{"label": "positive"')
    reason = model.locator(".model-output .entry", has_text="finish_reason")
    expect(reason.locator("dd")).to_have_text("length")
    expect(model.locator(".verdict-bad").first).to_have_text(
        "the answer stopped at the token limit (max_tokens 40): finish_reason: length"
    )
    expect(model.locator(".stats dd").nth(3)).to_have_text("40")  # output tokens
    shot(page, "failure-cut-llm-json")


def _duration(prefix: str = "") -> re.Pattern[str]:
    """A duration as the page writes one (`57 ms`, `4.2 ms`, `830 µs`, `1.84 s`)."""
    return re.compile(prefix + r"\d+(\.\d+)? (µs|ms|s)( .*)?$")
