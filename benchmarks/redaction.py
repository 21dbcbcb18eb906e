"""What redaction and hostile model inputs cost, in their own process.

    python benchmarks/redaction.py text      # redact_text on 1 MiB of plain and of crafted text
    python benchmarks/redaction.py capture   # a failing watched call on plain and hostile input

`text`: CPU time of `redact_text` on a MiB of plain prose and on each crafted family of
`tests/test_patterns.py` (the worst inputs found for each rule). `capture`: a watched model call
that fails and is captured, with INFO logging on, on a small chat input, a self-referencing dict
and a dict of a million keys.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import emit, median, per_call_us

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' crafted families

MIB = 1024 * 1024


def cpu_seconds(fn: Any, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return median(times)


def text() -> dict[str, Any]:
    from inferwatch._redact import redact_text

    from tests.test_patterns import FAMILIES, PLAIN, mib_of

    plain = cpu_seconds(lambda: redact_text(mib_of(PLAIN)))
    crafted = {
        name: cpu_seconds(lambda unit=unit: redact_text(mib_of(unit)), 3)  # type: ignore[misc]
        for name, unit in FAMILIES.items()
    }
    worst = max(crafted, key=crafted.__getitem__)
    return {"plain_s": plain, "crafted_s": crafted, "worst": worst, "worst_s": crafted[worst]}


def capture() -> dict[str, Any]:
    import inferwatch

    logging.basicConfig(level=logging.INFO, handlers=[logging.NullHandler()])
    cyclic: dict[str, Any] = {}
    cyclic["a"] = cyclic
    cyclic["b"] = cyclic
    inputs = {
        "plain": [{"role": "user", "content": "Summarise this review: great film. " * 20}],
        "cyclic": cyclic,
        "million_keys": {str(i): i for i in range(1_000_000)},
    }
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        inferwatch.init(store=Path(tmp) / "events.db", environ={}, queue_size=100_000)

        @inferwatch.watch_model("chat")
        def predict(value: Any) -> None:
            raise ValueError("the model returned nothing")

        for name, value in inputs.items():

            def run(value: Any = value) -> None:
                try:
                    predict(value)
                except ValueError as exc:
                    inferwatch.capture_exception(exc)

            per_call_us(run, 20, 1)
            out[name] = per_call_us(run, 100, 5)[1]
        assert inferwatch.flush(60)
        inferwatch.shutdown()
    return out


def main() -> None:
    emit(text() if sys.argv[1] == "text" else capture())


if __name__ == "__main__":
    main()
