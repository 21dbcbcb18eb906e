"""The real `sentry_sdk`, in another process, with its DSN pointing at a collector on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from inferwatch import cli
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store

from tests.conftest import LiveServer

KEY = "5f0c1a2b3c4d5e6f708192a3b4c5d6e7"

CLIENT = textwrap.dedent(
    """
    import sys
    import sentry_sdk

    sentry_sdk.init(
        dsn=sys.argv[1],
        release="shop@1.2.3",
        environment="staging",
        traces_sample_rate=1.0,
        default_integrations=False,
    )
    scope = sentry_sdk.get_isolation_scope()
    scope.start_session(session_mode="application")
    with sentry_sdk.start_transaction(name="checkout", op="task"):
        sentry_sdk.add_breadcrumb(category="cart", message="added 3 items", level="info")
        sentry_sdk.add_breadcrumb(category="payment", message="card declined", level="warning")
        sentry_sdk.set_tag("tenant", "acme")
        try:
            {}["price"]
        except KeyError:
            sentry_sdk.capture_exception()
    scope.end_session()
    sentry_sdk.flush(10)
    """
)


@pytest.fixture
def collector(store_path: Path) -> Iterator[Collector]:
    store = Store(store_path)
    collector = Collector(store, CollectorConfig(key=KEY))
    yield collector
    collector.close()
    store.close()


def run_sentry_client(dsn: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    subprocess.run([sys.executable, "-c", CLIENT, dsn], env=env, check=True, timeout=60)


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    capsys.readouterr()
    assert cli.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_a_python_sentry_sdk_shows_its_error_with_breadcrumbs_and_tags_and_the_rest_is_skipped(
    collector: Collector, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with LiveServer(create_app(collector)) as server:
        run_sentry_client(f"http://{KEY}@127.0.0.1:{server.port}/1")
    collector.store.flush()

    issues = cli_json(capsys, "issues", "--json", "--store", str(store_path))
    assert isinstance(issues, list) and len(issues) == 1
    [issue] = issues
    assert issue["title"] == "KeyError: 'price'"
    assert (issue["platform"], issue["environment"], issue["release"]) == (
        "python",
        "staging",
        "shop@1.2.3",
    )

    shown = cli_json(capsys, "show", str(issue["id"]), "--json", "--store", str(store_path))
    assert isinstance(shown, dict)
    event = shown["latest_event"]
    assert event["tags"]["tenant"] == "acme"
    crumbs = [(b["category"], b["message"]) for b in event["breadcrumbs"]["values"]]
    assert crumbs == [("cart", "added 3 items"), ("payment", "card declined")]
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert frames and frames[-1]["function"] == "<module>"

    counts = collector.counts()
    assert counts["sentry_accepted"] == 1
    assert counts["sentry_skipped_transaction"] == 1
    assert counts.get("sentry_skipped_session", 0) + counts.get("sentry_skipped_sessions", 0) >= 1
    assert not any(k.startswith("refused_") for k in counts)
