"""A snapshot of any value is bounded and never runs the value's own code beyond what is safe."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
from inferwatch._snapshot import CYCLE, SEEN, Snapshot
from inferwatch._summary import summarize


class Explodes:
    """Every way of looking at it that a snapshot must not use fails loudly."""

    def __repr__(self) -> str:
        raise AssertionError("repr was called")

    def __str__(self) -> str:
        raise AssertionError("str was called")

    def __len__(self) -> int:
        raise AssertionError("len was called")

    def __init__(self) -> None:
        self.label = "kept"


def test_cycles_and_shared_references_are_visited_once() -> None:
    shared = {"x": 1}
    looped: dict[str, Any] = {"shared": shared, "again": shared}
    looped["self"] = looped
    assert Snapshot().take(looped) == {"shared": {"x": 1}, "again": SEEN, "self": CYCLE}


def test_a_list_that_holds_itself_three_times_is_one_node() -> None:
    items: list[Any] = []
    items.extend([items, items, items])
    assert Snapshot().take(items) == [CYCLE, CYCLE, CYCLE]


def test_a_deep_dag_costs_its_nodes_not_its_paths() -> None:
    node: list[Any] = []
    for _ in range(40):
        node = [node, node]
    snap = Snapshot(depth=100)
    snap.take(node)
    assert snap.nodes == 500 - 41  # one visit per list, not 2**40


def test_past_the_node_budget_the_rest_is_cut_and_counted() -> None:
    snap = Snapshot(nodes=3)
    out = snap.take([[1], [2], [3], [4], [5]])
    assert out == [[1], [2], "[…]", "[…]", "[…]"] and snap.cut == 3


def test_a_million_keys_are_read_a_hundred_at_a_time() -> None:
    out = Snapshot().take({str(i): i for i in range(1_000_000)})
    assert len(out) == 101 and out["…"] == "999900 more"


def test_iterators_are_never_consumed_and_unknown_objects_never_asked_for_repr_or_len() -> None:
    numbers = iter([1, 2, 3])

    def generate() -> Iterator[int]:
        yield 1

    out = Snapshot().take({"it": numbers, "gen": generate(), "obj": Explodes()})
    assert out == {
        "it": "<list_iterator: not read>",
        "gen": "<generator: not read>",
        "obj": {"label": "kept"},
    }
    assert next(numbers) == 1


def test_an_object_with_an_endless_shape_is_not_taken_for_an_array() -> None:
    class Impostor:
        shape = itertools.count()
        dtype = "float32"

    summary = summarize(Impostor())
    assert summary["type"] == "Impostor"


def test_dataclasses_and_subclasses_of_builtins_are_read_as_data() -> None:
    @dataclasses.dataclass
    class Query:
        text: str
        tags: set[str]

    class Loud(str):
        def __str__(self) -> str:
            raise AssertionError("overridden __str__ was called")

    assert Snapshot().take(Query(Loud("hi"), {"a"})) == {"text": "hi", "tags": ["a"]}


def test_arrays_of_known_libraries_are_described_inside_containers() -> None:
    out = Snapshot().take({"x": np.zeros((2, 3), dtype=np.int8)})
    assert out["x"]["shape"] == [2, 3] and out["x"]["dtype"] == "int8"


def test_unknown_objects_are_summarised_redacted_not_by_their_repr() -> None:
    @dataclasses.dataclass
    class Customer:
        email: str
        card: int
        password: str

    summary = summarize(Customer("bob@example.com", 4111111111111111, "hunter2"))
    assert summary == {
        "type": "Customer",
        "preview": {"email": "[email]", "card": "[card]", "password": "[Filtered]"},
    }
    assert summarize({"a@b.io", "x"})["preview"] in (["[email]", "x"], ["x", "[email]"])
