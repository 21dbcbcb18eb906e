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
        ]
    }
    answer = (await post(collector_app, batch)).json()
    store.flush()
    with open_readonly(store_path) as conn:
        titles = [i["title"] for i in list_issues(conn)]
    store.close()
    assert (answer["accepted"], answer["filtered"], answer["invalid"]) == (1, 4, 0)
    assert titles == ["TypeError: the answer stream broke"]


async def test_an_error_that_only_mentions_script_error_is_kept(store_path: Path) -> None:
    store = Store(store_path)
    answer = (await post(app_for(store), {"events": [error("Script error. in my parser")]})).json()
    store.close()
    assert answer["accepted"] == 1 and "filtered" not in answer
