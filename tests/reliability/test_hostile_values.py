"""Whatever a model receives or returns, recording it never changes what the app sees, and the
failure is still stored and sent: objects whose methods raise, cycles, deep nesting, huge and
binary values, lone surrogates, duck-typed impostors of arrays and images."""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from typing import Any

import httpx
import inferwatch
import numpy as np
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inferwatch import _runtime
from pydantic import BaseModel

from tests.conftest import rows

DSN = "https://abc123def456@o1.ingest.example.com/42"
SENTRY = "https://o1.ingest.example.com/api/42/envelope/"


class Raises:
    """Every way of looking at it fails."""

    def __repr__(self) -> str:
        raise RuntimeError("repr")

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __len__(self) -> int:
        raise RuntimeError("len")

    def __iter__(self) -> Any:
        raise RuntimeError("iter")


class FakeArray:
    shape = "not a shape"
    dtype = property(lambda self: 1 / 0)


class FakeImage:
    size = "big"
    mode = None

    def getbands(self) -> Any:
        raise RuntimeError("bands")


class BadModel(BaseModel):
    x: int = 1

    def model_dump(self, **kwargs: Any) -> Any:
        raise RuntimeError("dump")


def cycle() -> Any:
    a: list[Any] = [1]
    a.append(a)
    d: dict[str, Any] = {"self": None}
    d["self"] = d
    return {"list": a, "dict": d}


def deep(n: int) -> Any:
    value: Any = "bottom"
    for _ in range(n):
        value = [value]
    return value


def png_prefix_garbage() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


HOSTILE = [
    Raises(),
    FakeArray(),
    FakeImage(),
    BadModel(),
    cycle(),
    deep(5000),
    "x" * 2_000_000,
    "lone \ud800 surrogate \udfff",
    {"\ud800": "key with a lone surrogate"},
    png_prefix_garbage(),
    gzip.compress(b"secret" * 100),
    np.array([1.0, math.nan, math.inf]),
    np.array([[1, 2], [3, 4]], dtype=object),
    np.array(3.5),
    np.zeros((0, 3)),
    {(1, 2): "tuple key", None: "none key", 3: [Raises()]},
    [{"role": "user"}, {"role": Raises(), "content": None}],  # looks like chat
    10**400,
    float("nan"),
    {"password": Raises()},
    b"",
    bytearray(b"\xff\xfe"),
    memoryview(b"abc"),
    type,
    print,
]


# By index: Hypothesis describes its strategies with repr, which some of these refuse.
def pick(index: int) -> Any:
    return HOSTILE[index]


one_hostile = st.sampled_from(range(len(HOSTILE))).map(pick)
hostile = one_hostile | st.recursive(
    one_hostile | st.text() | st.binary(max_size=64) | st.floats(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def test_recording_a_model_call_never_changes_its_result_and_every_failure_is_kept(
    store_path: Path,
) -> None:
    failures = 0
    with respx.mock(assert_all_called=False) as sentry:
        sent = sentry.post(SENTRY).mock(return_value=httpx.Response(200, json={}))
        inferwatch.init(store=store_path, dsn=DSN, environ={}, queue_size=100_000)

        @settings(
            max_examples=120,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(received=hostile, returned=hostile)
        def call(received: Any, returned: Any) -> None:
            nonlocal failures

            @inferwatch.watch_model("hostile")
            def model(value: Any) -> Any:
                return returned

            @inferwatch.watch_model("hostile")
            def failing(value: Any) -> Any:
                raise KeyError("no label")

            assert model(received) is returned
            with pytest.raises(KeyError) as caught:
                failing(received)
            with inferwatch.model_context("hostile", input=received) as record:
                record.set_output(returned)
                record.note("stage", value=received)
            inferwatch.capture_exception(caught.value)
            failures += 1

        call()
        assert inferwatch.flush(60)
        runtime = _runtime.current()
        assert runtime is not None and runtime.store is not None
        assert runtime.store.stats()["dropped"] == {}
        inferwatch.shutdown(30)
        assert len(rows(store_path, "SELECT id FROM events")) == failures
        assert sent.call_count == failures
