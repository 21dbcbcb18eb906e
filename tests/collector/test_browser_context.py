"""A browser error's context, as stored: the page URL, the Referer and the User-Agent of the batch
in `request` (where Sentry's normalizer finds the browser, OS and device), the viewport and the
connection's effective type in `contexts.page`, and the release and environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store, latest_event, list_issues, open_readonly

from tests.collector.test_browser_ingest import PAGE, error
from tests.conftest import asgi_client

KEY = "contextkey1"
CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)


async def stored_error(store_path: Path, event: dict[str, Any], user_agent: str) -> Any:
    store = Store(store_path)
    app = create_app(Collector(store, CollectorConfig(key=KEY)))
    async with asgi_client(app) as client:
        answer = await client.post(
            f"/iw/ingest?key={KEY}",
            content=json.dumps({"events": [event]}),
            headers={"origin": PAGE, "user-agent": user_agent},
        )
    assert answer.json()["accepted"] == 1
    store.flush()
    with open_readonly(store_path) as conn:
        (issue,) = list_issues(conn)
        event = latest_event(conn, issue["id"])
    store.close()
    return event


async def test_a_browser_error_carries_the_page_the_user_agent_and_the_release(
    store_path: Path,
) -> None:
    sent = error(
        referrer="https://search.example/results",
        viewport="390x844",
        connection="3g",
        release="shop@1.4.0",
        environment="staging",
    )
    stored = await stored_error(store_path, sent, CHROME_UA)
    assert stored["request"] == {  # as Sentry's normalizer writes headers: sorted name pairs
        "url": f"{PAGE}/chat",
        "headers": [["Referer", "https://search.example/results"], ["User-Agent", CHROME_UA]],
    }
    page = {"type": "page", "viewport": "390x844", "effective_connection_type": "3g"}
    assert stored["contexts"]["page"] == page
    # the normalizer reads the user agent into the browser's, OS's and device's contexts
    assert stored["contexts"]["browser"]["name"] == "Chrome"
    assert stored["contexts"]["os"]["name"] == "Linux"
    assert (stored["release"], stored["environment"]) == ("shop@1.4.0", "staging")


async def test_what_the_browser_did_not_have_is_left_out(store_path: Path) -> None:
    stored = await stored_error(store_path, error(referrer="", viewport="1280x720"), CHROME_UA)
    assert "Referer" not in dict(stored["request"]["headers"])
    assert stored["contexts"]["page"] == {"type": "page", "viewport": "1280x720"}


async def test_secrets_in_the_referrer_are_redacted_and_a_huge_user_agent_is_cut(
    store_path: Path,
) -> None:
    referrer = "https://app.example/reset?token=s3cr3t-value-123&page=2"
    stored = await stored_error(store_path, error(referrer=referrer), "X" * 5000)
    headers = dict(stored["request"]["headers"])
    assert "s3cr3t" not in headers["Referer"] and "page=2" in headers["Referer"]
    assert len(headers["User-Agent"]) == 512


@pytest.mark.parametrize("bad", [{"viewport": 12}, {"connection": ["4g"]}])
async def test_a_context_field_of_the_wrong_type_makes_only_its_event_invalid(
    store_path: Path, bad: dict[str, Any]
) -> None:
    store = Store(store_path)
    app = create_app(Collector(store, CollectorConfig(key=KEY)))
    async with asgi_client(app) as client:
        answer = await client.post(
            f"/iw/ingest?key={KEY}",
            content=json.dumps({"events": [error(**bad), error("a good one")]}),
            headers={"origin": PAGE},
        )
    store.close()
    assert (answer.json()["accepted"], answer.json()["invalid"]) == (1, 1)
