"""Captures are bounded in time and memory whatever the model receives.

Each input runs in a child process of its own, with INFO logging on (the "received" and
"returned" log lines summarise the input on the success path too): a watched call that fails, one
that succeeds, and `log_usage`. The child reports the CPU-independent facts (did it return, how
much its peak memory grew) and the time the calls took; the limits are generous, for a slow
machine: they catch the seconds-to-minutes and gigabytes these inputs used to cost.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import rows

CHILD = r"""
import itertools, json, logging, resource, sys, time
import inferwatch

logging.basicConfig(level=logging.INFO, handlers=[logging.FileHandler(sys.argv[3])])

def cyclic():
    d = {}
    d["a"] = d
    d["b"] = d
    return d

def extended():
    items = []
    items.extend([items, items, items])
    return items

def dag():
    node = []
    for _ in range(18):
        node = [node, node]
    return node

class EndlessShape:
    shape = itertools.count()
    dtype = "float32"

class Sleepy:
    def __repr__(self):
        time.sleep(30)
        return "zzz"
    __str__ = __repr__
    def __len__(self):
        time.sleep(30)
        return 1
    def __iter__(self):
        time.sleep(30)
        return iter(())

INPUTS = {
    "cyclic dict": cyclic,
    "list extended with itself": extended,
    "dag 18 deep": dag,
    "a million keys": lambda: {str(i): i for i in range(1_000_000)},
    "endless shape": EndlessShape,
    "blocking repr, len and iter": Sleepy,
}

inferwatch.init(store=sys.argv[2], environ={})
value = INPUTS[sys.argv[1]]()

@inferwatch.watch_model("hostile")
def predict(x, fail):
    if fail:
        raise ValueError("the model failed")
    return x

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
for fail in (False, True):
    try:
        predict(value, fail)
    except ValueError:
        inferwatch.capture_exception()
inferwatch.log_usage("/predict", value)
elapsed = time.perf_counter() - start
grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"seconds": elapsed, "grown_mb": grown_mb, "flushed": inferwatch.flush(10)}))
"""

INPUTS = [
    "cyclic dict",
    "list extended with itself",
    "dag 18 deep",
    "a million keys",
    "endless shape",
    "blocking repr, len and iter",
]


@pytest.mark.parametrize("name", INPUTS)
def test_a_hostile_input_is_recorded_in_bounded_time_and_memory(name: str, tmp_path: Path) -> None:
    store = tmp_path / "events.db"
    log = tmp_path / "app.log"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, name, str(store), str(log)],
        capture_output=True,
        text=True,
        timeout=120,  # the child hanging is a failure, not a stuck suite
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["flushed"] and report["seconds"] < 5 and report["grown_mb"] < 300, report
    [event] = [json.loads(r["data"]) for r in rows(store, "SELECT data FROM events")]
    assert event["contexts"]["model"]["input"]["type"]  # the failure kept what it received
    statuses = sorted(r["status"] for r in rows(store, "SELECT status FROM generations"))
    assert statuses == ["error", "ok"]
    assert len(rows(store, "SELECT data FROM usage")) == 1
    assert "model hostile received" in log.read_text()
