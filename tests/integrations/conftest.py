"""The real `openai` and `anthropic` clients against their APIs mocked with respx.

The current majors send through `httpx2`, which respx does not patch; so such a client gets an
`httpx2.MockTransport` whose handler asks the respx router: the same routes and responses a test
writes for httpx. An older major (openai 2) sends through `httpx`, which respx patches itself.
Nothing of the clients is patched by the tests: only inferwatch's integration instruments them.
`make test` runs these tests again with the oldest supported majors (see the Makefile).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
import respx

OPENAI_URL = "https://api.openai.test/v1"
ANTHROPIC_URL = "https://api.anthropic.test"


def _to_httpx(request: httpx2.Request) -> httpx.Request:
    return httpx.Request(
        request.method, str(request.url), headers=list(request.headers.raw), content=request.read()
    )


def _to_httpx2(response: httpx.Response) -> httpx2.Response:
    return httpx2.Response(
        response.status_code, headers=list(response.headers.raw), content=response.read()
    )


def transport(router: respx.Router) -> httpx2.MockTransport:
    """An httpx2 transport answered by `router`'s routes."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        try:
            return _to_httpx2(router.handler(_to_httpx(request)))
        except httpx.TimeoutException as exc:  # a route's side effect, as the client sees it
            raise httpx2.ReadTimeout(str(exc), request=request) from exc
        except httpx.TransportError as exc:
            raise httpx2.ConnectError(str(exc), request=request) from exc

    return httpx2.MockTransport(handle)


@pytest.fixture
def api() -> Iterator[respx.Router]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def http_client(library: str, router: respx.Router, *, is_async: bool = False) -> Any:
    """What the client should send through: an httpx2 client answered by `router`, or None
    (the client's default httpx client, which respx patches) for a client on httpx."""
    if not hasattr(importlib.import_module(f"{library}._base_client"), "httpx2"):
        return None
    cls = httpx2.AsyncClient if is_async else httpx2.Client
    return cls(transport=transport(router))


def versions() -> str:
    return f"openai {openai.__version__}, anthropic {anthropic.__version__}"


@pytest.fixture
def openai_client(api: respx.Router) -> openai.OpenAI:
    http = http_client("openai", api)
    return openai.OpenAI(api_key="sk-test", base_url=OPENAI_URL, http_client=http, max_retries=0)


@pytest.fixture
def async_openai_client(api: respx.Router) -> openai.AsyncOpenAI:
    http = http_client("openai", api, is_async=True)
    return openai.AsyncOpenAI(
        api_key="sk-test", base_url=OPENAI_URL, http_client=http, max_retries=0
    )


@pytest.fixture
def anthropic_client(api: respx.Router) -> anthropic.Anthropic:
    http = http_client("anthropic", api)
    return anthropic.Anthropic(
        api_key="sk-ant-test", base_url=ANTHROPIC_URL, http_client=http, max_retries=0
    )


@pytest.fixture
def async_anthropic_client(api: respx.Router) -> anthropic.AsyncAnthropic:
    http = http_client("anthropic", api, is_async=True)
    return anthropic.AsyncAnthropic(
        api_key="sk-ant-test", base_url=ANTHROPIC_URL, http_client=http, max_retries=0
    )


def sse(*events: Any, done: bool = True) -> httpx.Response:
    """A server-sent events body, as the APIs stream: `data: {...}` lines."""
    lines = []
    for event in events:
        if isinstance(event, tuple):  # (event name, data): Anthropic names its events
            lines.append(f"event: {event[0]}\ndata: {json.dumps(event[1])}\n\n")
        else:
            lines.append(f"data: {json.dumps(event)}\n\n")
    if done:
        lines.append("data: [DONE]\n\n")
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, text="".join(lines))
