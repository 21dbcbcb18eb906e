"""A schemathesis run against the collector's OpenAPI schema finds no server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from inferwatch.collector import Collector, CollectorConfig, create_app
from inferwatch.store import Store

from tests.conftest import LiveServer
from tests.reliability.conftest import KEY


@pytest.fixture(scope="module")
def collector_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = Store(Path(tmp_path_factory.mktemp("openapi")) / "events.db")
    collector = Collector(store, CollectorConfig(key=KEY, rate_per_second=1e9, rate_burst=10**9))
    with LiveServer(create_app(collector)) as live:
        yield live.url
    collector.close()
    store.close()


def test_no_operation_of_the_collectors_schema_answers_with_a_server_error(
    collector_url: str,
) -> None:
    schema = schemathesis.openapi.from_url(f"{collector_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/iw/ingest", "/api/{project_id}/envelope/"}
    for operation in operations:
        strategy = operation.as_strategy()

        @settings(
            max_examples=40,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=strategy)
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=collector_url)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)

        call()
