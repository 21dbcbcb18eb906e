"""Request overhead of one configuration, in its own process (sentry-sdk patches Starlette
globally): a trivial endpoint and a model-like one, called directly through the ASGI app.

    python benchmarks/request_overhead.py bare|sentry|inferwatch STORE_DIR
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import DirectASGI, emit, median
from pydantic import BaseModel

N, REPEATS, WARMUP = 2000, 9, 500


class Prompt(BaseModel):
    text: str
    temperature: float = 0.0


class Answer(BaseModel):
    label: str
    score: float


def model(text: str) -> dict[str, Any]:
    """A little CPU, like a tiny classifier: tokenise, count, score."""
    tokens = text.lower().split()
    counts: dict[str, int] = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    score = sum((hash(t) % 1000) / 1000 * c for t, c in counts.items()) / max(1, len(tokens))
    return {"label": "positive" if score > 0.5 else "negative", "score": round(score, 4)}


def build(config: str, store_dir: Path) -> Any:
    from fastapi import FastAPI

    predict_model = model
    if config == "sentry":
        import sentry_sdk
        from sentry_sdk.transport import Transport

        class Noop(Transport):
            def capture_envelope(self, envelope: Any) -> None:
                pass

        # sentry-sdk's defaults: the Starlette and FastAPI integrations enable themselves
        sentry_sdk.init(dsn="https://k@o1.ingest.sentry.io/1", transport=Noop())
    app = FastAPI()
    if config == "inferwatch":
        import inferwatch

        inferwatch.init(app, store=store_dir / "events.db", environ={})
        predict_model = inferwatch.watch_model("classifier")(model)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/predict")
    async def predict(prompt: Prompt) -> Answer:
        return Answer(**predict_model(prompt.text))

    return app


def main() -> None:
    config = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        client = DirectASGI(build(config, Path(tmp)))
        body = json.dumps({"text": "the movie was " + "really quite good " * 12}).encode()
        result: dict[str, Any] = {"config": config}
        for name, method, path, payload in (
            ("trivial", "GET", "/ping", b""),
            ("model", "POST", "/predict", body),
        ):
            client.many(method, path, payload, WARMUP)
            runs = [client.many(method, path, payload, N) for _ in range(REPEATS)]
            result[name] = {
                "wall_us": median([w for w, _ in runs]),
                "cpu_us": median([c for _, c in runs]),
            }
        if config == "inferwatch":
            import inferwatch
            from inferwatch import _runtime

            runtime = _runtime.current()
            if runtime is not None and runtime.store is not None:
                result["store_dropped"] = sum(runtime.store.stats()["dropped"].values())
            inferwatch.shutdown()
    emit(result)


if __name__ == "__main__":
    main()
