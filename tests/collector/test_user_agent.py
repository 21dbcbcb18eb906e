"""Browser, OS and device contexts from an event's user agent: Relay's own reading, once per
user agent (`collector/_user_agent.py`)."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
from inferwatch import _json
from inferwatch.collector import _user_agent
from inferwatch.collector._normalize import Arrival, Normalizer, _config, relay, tags_as_mapping

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"

EVENTS: list[dict[str, Any]] = [
    {"platform": "javascript", "request": {"headers": {"User-Agent": CHROME_MAC}}},
    {"platform": "python", "request": {"headers": {"user-agent": SAFARI_IPHONE}}},
    {  # a server SDK's own OS stays; the client's goes to client_os
        "platform": "python",
        "contexts": {"os": {"name": "Linux", "version": "6.1"}},
        "request": {"headers": [["User-Agent", FIREFOX_WINDOWS]]},
    },
    {  # a browser context the SDK sent is kept
        "platform": "javascript",
        "contexts": {"browser": {"name": "Custom", "version": "1"}},
        "request": {"headers": {"User-Agent": FIREFOX_WINDOWS}},
    },
    {  # client hints win over the user agent; a repeated header: the last one counts
        "platform": "javascript",
        "request": {
            "headers": [
                ["User-Agent", "python-httpx/0.28"],
                ["User-Agent", CHROME_MAC],
                ["Sec-CH-UA", '"Not_A Brand";v="8", "Google Chrome";v="131"'],
                ["Sec-CH-UA-Platform", '"macOS"'],
                ["Sec-CH-UA-Platform-Version", '"15.1.0"'],
                ["Sec-CH-UA-Model", '"Pixel 9"'],
            ]
        },
    },
    {"platform": "javascript", "request": {"headers": {"User-Agent": "python-httpx/0.28"}}},
    {"platform": "other", "request": {"url": "http://example.com/"}},
]


def relay_reading(event: dict[str, Any], now: float) -> dict[str, Any]:
    """`event` normalized by Relay in one call, user agents read by Relay itself."""
    config = {**_config(Arrival(received=now)), "normalize_user_agent": True}
    normalizer = relay().StoreNormalizer(**config)
    raw = json.dumps(event).encode()
    return tags_as_mapping(normalizer.normalize_event(raw_event=raw, json_loads=_json.loads))


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    """Without what Relay makes up afresh on each call (ids of the event and its trace)."""
    event = copy.deepcopy(event)
    event.pop("event_id", None)
    (event.get("contexts") or {}).pop("trace", None)
    return event


@pytest.mark.parametrize("event", EVENTS, ids=range(len(EVENTS)))
def test_an_event_reads_as_relay_reads_it_in_one_call(event: dict[str, Any]) -> None:
    now = time.time()
    ours = Normalizer(Arrival(received=now)).event(json.dumps(event).encode())
    assert comparable(ours) == comparable(relay_reading(event, now))


def test_the_contexts_name_the_browser_os_and_device() -> None:
    event = Normalizer(Arrival(received=time.time())).event(json.dumps(EVENTS[1]).encode())
    contexts = event["contexts"]
    assert contexts["browser"]["name"] == "Mobile Safari"
    assert contexts["client_os"]["name"] == "iOS"
    assert contexts["device"]["family"] == "iPhone"


def test_a_user_agent_is_parsed_once_for_all_the_events_that_carry_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parser = _user_agent._parser()
    calls: list[bytes] = []

    class Counting:
        def normalize_event(self, raw_event: bytes, json_loads: Any) -> Any:
            calls.append(raw_event)
            return parser.normalize_event(raw_event=raw_event, json_loads=json_loads)

    monkeypatch.setattr(_user_agent, "_parser", Counting)
    _user_agent._derived.cache_clear()
    normalizer = Normalizer(Arrival(received=time.time()))
    ua = CHROME_MAC.replace("131", "132")
    for n in range(20):
        event = {
            "platform": "javascript",
            "message": f"m{n}",
            "request": {"headers": {"User-Agent": ua}},
        }
        assert (
            normalizer.event(json.dumps(event).encode())["contexts"]["browser"]["name"] == "Chrome"
        )
    assert len(calls) == 1


def test_a_very_long_user_agent_is_read_but_not_kept() -> None:
    _user_agent._derived.cache_clear()
    ua = CHROME_MAC + " x" * 2000
    event = {"platform": "javascript", "request": {"headers": {"User-Agent": ua}}}
    read = Normalizer(Arrival(received=time.time())).event(json.dumps(event).encode())
    assert read["contexts"]["browser"]["name"] == "Chrome"
    assert _user_agent._derived.cache_info().currsize == 0
