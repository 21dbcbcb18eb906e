"""Noise every page produces ("Script error.", ResizeObserver loops) is dropped at ingest and
said in the answer, as Sentry's inbound filters do; the crash beside it is stored."""

from __future__ import annotations

from pathlib import Path

from inferwatch.store import Store, list_issues, open_readonly

from tests.collector.test_browser_ingest import app_for, error, post


async def test_noise_is_filtered_and_counted_and_a_real_error_beside_it_is_stored(
    store_path: Path,
) -> None:
    store = Store(store_path)
    collector_app = app_for(store)
    batch = {
        "events": [
            error("Script error.", stack="", name="Error"),
            error("Script error", stack="", name="Error"),
            error("ResizeObserver loop completed with undelivered notifications."),
            error("ResizeObserver loop limit exceeded"),
            error("the answer stream broke"),
            error("Script error. in my parser", name="ParseError"),  # only mentions it: kept
        ]
    }
    answer = (await post(collector_app, batch)).json()
    store.flush()
    with open_readonly(store_path) as conn:
        titles = [i["title"] for i in list_issues(conn)]
    store.close()
    assert (answer["accepted"], answer["filtered"], answer["invalid"]) == (2, 4, 0)
    assert sorted(titles) == [
        "ParseError: Script error. in my parser",
        "TypeError: the answer stream broke",
    ]
