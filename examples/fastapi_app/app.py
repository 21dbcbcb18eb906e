"""The example AI app: a FastAPI backend that runs three small models, instrumented with inferwatch
the way the README tells users to, and serving the built React page.

    uvicorn examples.fastapi_app.app:create_app --factory --port 8000

Routes: `POST /api/classify` (sentiment), `POST /api/generate` (a story, streamed as chunked
text), `POST /api/image` (an uploaded image's main colour), `GET /metrics`, and the page at `/`.

Four failure modes of the debugging table are built in on purpose, each one reachable from the
page and each one leaving a crash report that explains itself through its model context:

| symptom | cause here | request |
| --- | --- | --- |
| empty prediction | sentiment v2 did not load (its data file is missing) | classify with version "2" |
| crash after upload | a PNG with transparency: RGBA where the model expects RGB | upload an RGBA PNG |
| wrong file type | a text file sent as `image/png`; `PIL.Image.verify()` refuses it | upload it |
| timeout (504) | the large story model loads on first use, slower than the timeout | generate with "large" |
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import os
import re
import threading
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import inferwatch
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from PIL import Image
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from . import models
from .assistant import assistant_routes

logger = logging.getLogger("example.app")
REACT_DIST = Path(__file__).resolve().parents[1] / "react_app" / "dist"
# What the page's snippet tag points at (`inferwatch serve`'s default); replaced when the app is
# told of another collector, so tests and deployments need no rebuild.
DEFAULT_COLLECTOR = "http://127.0.0.1:8765"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 4096 * 4096  # a small file can still decode to gigabytes (a decompression bomb)
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How the example runs; `from_env` reads the environment, tests build it directly.

    >>> Settings(cold_start_s=0.2, load_timeout_s=0.05).load_timeout_s
    0.05
    """

    store: Path | None = None  # None: inferwatch's default (`INFERWATCH_STORE` or .inferwatch/)
    environ: Mapping[str, str] | None = None
    collector_url: str = DEFAULT_COLLECTOR
    react_dist: Path = REACT_DIST
    cold_start_s: float = 6.0
    load_timeout_s: float = 2.0
    first_token_s: float = 0.3
    word_s: float = 0.04
    json_logs: bool = True
    llm_url: str | None = None  # None: the assistant asks the app's own LLM, in-process

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """`EXAMPLE_COLLECTOR_URL` (default http://127.0.0.1:8765), `EXAMPLE_COLD_START_S`
        (default 6), `EXAMPLE_LLM_URL` (an OpenAI-compatible server; default: the app's own),
        and inferwatch's own variables (`INFERWATCH_STORE`, `SENTRY_DSN`, ...)."""
        return cls(
            environ=env,
            collector_url=env.get("EXAMPLE_COLLECTOR_URL") or DEFAULT_COLLECTOR,
            cold_start_s=float(env.get("EXAMPLE_COLD_START_S") or 6.0),
            llm_url=env.get("EXAMPLE_LLM_URL") or None,
        )


class EmptyPrediction(RuntimeError):
    """The model answered, but with nothing."""


class NotAnImage(ValueError):
    """The upload is not an image Pillow can read."""


class ImageTooLarge(ValueError):
    """The image has more pixels than the app is willing to decode."""


class ColdStartTimeout(TimeoutError):
    """The model was still loading when the request gave up waiting for it."""


class ClassifyIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    version: Literal["1", "2"] = "1"


class ClassifyOut(BaseModel):
    label: str
    score: float
    version: str


class GenerateIn(BaseModel):
    prompt: str = Field(min_length=1, max_length=2000)
    model: Literal["small", "large"] = "small"
    max_words: int = Field(default=40, ge=1, le=120)


class Models:
    """The loaded models; the large story model loads on first use (the cold start)."""

    def __init__(self, cold_start_s: float) -> None:
        self.sentiment = {v: models.load_sentiment(v) for v in ("1", "2")}
        self.colours = models.load_colours()
        self.stories = {"small": models.load_stories(order=2)}
        self.cold_start_s = cold_start_s
        self._large_ready = threading.Event()
        self._large_lock = threading.Lock()
        self._large_started = False

    async def story(self, size: str, timeout: float) -> models.WordNgram:
        if size == "small" or self._large_ready.is_set():
            return self.stories[size]
        # sample_rate=0: a load that finishes in time is no generation record; a failure is kept
        with inferwatch.model_context(
            "story-large", input={"model": size, "timeout_s": timeout}, sample_rate=0
        ) as call:
            call.note("cold_start", started_now=self._start_large(), load_s=self.cold_start_s)
            ready = await asyncio.to_thread(self._large_ready.wait, timeout)
            call.note("waited", seconds=timeout, ready=ready)
            if not ready:
                raise ColdStartTimeout(
                    f"model 'story-large' was still loading after {timeout} s "
                    "(cold start: preload it at start-up)"
                )
        return self.stories[size]

    def _start_large(self) -> bool:
        with self._large_lock:
            if self._large_started:
                return False
            self._large_started = True
        threading.Thread(target=self._load_large, name="load-story-large", daemon=True).start()
        return True

    def _load_large(self) -> None:
        # Stands for reading a large checkpoint from disk: the order-3 model itself is quick.
        threading.Event().wait(self.cold_start_s)
        self.stories["large"] = models.load_stories(order=3)
        self._large_ready.set()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The example app, instrumented (`uvicorn ... --factory` calls this with no argument)."""
    settings = settings or Settings.from_env(os.environ)
    if not _ORIGIN.match(settings.collector_url):
        raise ValueError(
            f"EXAMPLE_COLLECTOR_URL must look like http://host:port, got {settings.collector_url!r}"
        )
    if settings.json_logs:
        configure_json_logs()
    app = FastAPI(title="inferwatch example", docs_url=None, redoc_url=None)
    store = {} if settings.store is None else {"store": settings.store}
    inferwatch.init(
        app,
        environ=settings.environ,
        environment="demo",
        release="example@0.1.0",
        metrics=True,  # GET /metrics for Prometheus
        **store,
    )
    loaded = Models(settings.cold_start_s)
    _api_routes(app, loaded, settings)
    assistant_routes(app, loaded.sentiment["1"], settings.llm_url)
    _page_routes(app, settings)
    return app


def configure_json_logs() -> None:
    """One JSON line a record, with the request id, trace id and model name inside requests."""
    handler = logging.StreamHandler()
    handler.setFormatter(inferwatch.JsonFormatter())
    handler.addFilter(inferwatch.RequestIdFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def _api_routes(app: FastAPI, loaded: Models, settings: Settings) -> None:
    @app.post("/api/classify")
    def classify(body: ClassifyIn) -> ClassifyOut:
        inferwatch.log_usage("/api/classify", body.model_dump())
        model = loaded.sentiment[body.version]
        with inferwatch.model_context("sentiment", version=model.version, input=body.text) as call:
            call.note(
                "load",
                loaded=model.loaded,
                source=model.source,
                classes=len(model.docs),
                vocabulary=len(model.vocabulary),
            )
            call.set_usage(input_tokens=len(models.tokenize(body.text)))
            label, score = model.predict(body.text)
            call.set_output({"label": label, "score": score})
            if not label:
                raise EmptyPrediction(
                    f"sentiment v{model.version} returned an empty label: "
                    "the model has no classes (did it load?)"
                )
        logger.info("classified", extra={"label": label, "score": score})
        return ClassifyOut(label=label, score=score, version=model.version)

    async def story_words(prompt: str, model: str, max_words: int) -> AsyncIterator[str]:
        ngram = loaded.stories[model]
        await asyncio.sleep(settings.first_token_s)  # paced like a hosted LLM: a pause, then words
        for i, word in enumerate(ngram.generate(prompt, max_words=max_words, seed=len(prompt))):
            yield word if i == 0 or word in ".,!?" else " " + word
            await asyncio.sleep(settings.word_s)

    # One name a model, the one its load and the page's timing use too (App.jsx: STORY_MODELS).
    write_story = {
        "small": inferwatch.watch_model("story-ngram")(story_words),
        "large": inferwatch.watch_model("story-large")(story_words),
    }

    @app.post("/api/generate")
    async def generate(body: GenerateIn) -> StreamingResponse:
        inferwatch.log_usage("/api/generate", body.model_dump())
        await loaded.story(body.model, settings.load_timeout_s)
        stream = write_story[body.model](body.prompt, body.model, body.max_words)
        return StreamingResponse(stream, media_type="text/plain; charset=utf-8")

    @app.exception_handler(ColdStartTimeout)
    async def cold_start(request: Request, exc: ColdStartTimeout) -> JSONResponse:
        # a 5xx the app answers itself: the middleware reports it with the model context
        return JSONResponse({"error": str(exc)}, status_code=504)

    @app.post("/api/image")
    async def image(request: Request) -> dict[str, Any]:
        data = await _read_upload(request)
        content_type = request.headers.get("content-type", "")[:100]
        inferwatch.log_usage("/api/image", {"content_type": content_type, "bytes": len(data)})
        try:
            return await run_in_threadpool(_name_colour, loaded.colours, data, content_type)
        except NotAnImage as exc:
            inferwatch.capture_exception(exc)  # handled, and still worth knowing about
            raise HTTPException(415, str(exc)) from exc
        except ImageTooLarge as exc:
            raise HTTPException(413, str(exc)) from exc

    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "models": {"large_loaded": "large" in loaded.stories}}


async def _read_upload(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"uploads are limited to {MAX_UPLOAD_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _name_colour(namer: models.ColourNamer, data: bytes, content_type: str) -> dict[str, Any]:
    with inferwatch.model_context("colour-namer", input=data) as call:
        call.note("upload", content_type=content_type, bytes=len(data))
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
        except Exception as exc:  # Pillow raises several types for files it cannot read
            raise NotAnImage(
                f"the upload is not an image Pillow can read (sent as {content_type or 'no type'})"
            ) from exc
        with Image.open(io.BytesIO(data)) as img:  # verify() leaves the image unusable
            if img.width * img.height > MAX_PIXELS:
                raise ImageTooLarge(f"images are limited to {MAX_PIXELS} pixels")
            img.thumbnail((16, 16))
            # The bug on purpose: no img.convert("RGB"), so a PNG with transparency (RGBA) or a
            # greyscale image reaches the model with the wrong shape.
            bands = len(img.getbands())
            raw = img.tobytes()
            pixels = [tuple(raw[i : i + bands]) for i in range(0, len(raw), bands)]
            call.note("preprocess", mode=img.mode, shape=f"({len(pixels)}, {bands})")
            found = {"format": img.format, "mode": img.mode}
        name, rgb = namer.predict(pixels)
        out = {**found, "colour": name, "rgb": list(rgb)}
        call.set_output(out)
    return out


def _page_routes(app: FastAPI, settings: Settings) -> None:
    index = settings.react_dist / "index.html"

    @app.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        if not index.exists():
            return HTMLResponse(_NOT_BUILT)
        text = index.read_text(encoding="utf-8")
        collector = html.escape(settings.collector_url, quote=True)
        return HTMLResponse(text.replace(DEFAULT_COLLECTOR, collector))

    if settings.react_dist.is_dir():
        app.mount("/", StaticFiles(directory=settings.react_dist), name="page")


_NOT_BUILT = """<!doctype html><title>inferwatch example</title>
<p>The React page is not built yet: run <code>make demo</code>, or
<code>cd examples/react_app &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p>"""
