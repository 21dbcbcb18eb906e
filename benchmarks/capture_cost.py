"""The cost of capturing one exception on the request path, in its own process.

    python benchmarks/capture_cost.py none|inferwatch|sentry|sentry-nolocals

A 20-frame stack whose frames hold a prompt in local variables, and (for inferwatch) the model
context of the call. Timed in the capturing thread: what the request waits for.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import emit, per_call_us

N, REPEATS, WARMUP = 300, 9, 100
PROMPT = {
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. " * 10},
        {"role": "user", "content": "Summarise this review: " + "great film, long ending. " * 40},
    ],
    "temperature": 0.2,
    "max_tokens": 256,
}


def layer(depth: int, prompt: dict[str, Any]) -> None:
    tokens = [m["content"][:50] for m in prompt["messages"]]  # locals, as real frames have
    if depth == 0:
        raise ValueError(f"the model returned no choices for {len(tokens)} messages")
    layer(depth - 1, prompt)


def setup(config: str, store_dir: Path) -> Any:
    """A function that fails 20 frames deep and captures the failure, as a request would."""
    if config == "inferwatch":
        import inferwatch

        inferwatch.init(store=store_dir / "events.db", environ={}, queue_size=100_000)

        def run() -> None:
            try:
                with inferwatch.model_context("chat", input=PROMPT):
                    layer(18, PROMPT)
            except ValueError as exc:
                inferwatch.capture_exception(exc)

        return run
    if config.startswith("sentry"):
        import sentry_sdk
        from sentry_sdk.transport import Transport

        class Noop(Transport):
            def capture_envelope(self, envelope: Any) -> None:
                pass

        sentry_sdk.init(
            dsn="https://k@o1.ingest.sentry.io/1",
            transport=Noop(),
            include_local_variables=config == "sentry",  # sentry-sdk's default is True
        )

        def run_sentry() -> None:
            try:
                layer(19, PROMPT)
            except ValueError as exc:
                sentry_sdk.capture_exception(exc)

        return run_sentry

    def run_bare() -> None:
        with contextlib.suppress(ValueError):
            layer(19, PROMPT)

    return run_bare


def main() -> None:
    config = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        run = setup(config, Path(tmp))
        per_call_us(run, WARMUP, 1)
        wall, cpu = per_call_us(run, N, REPEATS)
        result: dict[str, Any] = {"config": config, "wall_us": wall, "cpu_us": cpu}
        if config == "inferwatch":
            import inferwatch
            from inferwatch import _runtime

            runtime = _runtime.current()
            assert runtime is not None and runtime.store is not None
            assert inferwatch.flush(60)
            stats = runtime.store.stats()
            result["stored"], result["dropped"] = stats["stored"], stats["dropped"]
            inferwatch.shutdown()
    emit(result)


if __name__ == "__main__":
    main()
