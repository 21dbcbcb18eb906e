"""The snippet's wire format, validated with pydantic: one model an event type.

Strings are clipped to their budget rather than refused, so a long message still arrives; types
that are wrong make that one event invalid, never the batch.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter


def _clip(limit: int) -> BeforeValidator:
    return BeforeValidator(lambda v: v[:limit] if isinstance(v, str) else v)


Short = Annotated[str, _clip(200)]
Text = Annotated[str, _clip(10_000)]
Url = Annotated[str, _clip(2048)]
Ms = Annotated[float, Field(ge=0, le=1e13)]
# What SQLite stores as an integer; a number past it makes its event invalid (not clamped).
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Breadcrumb(_Model):
    type: Literal["click", "pageview", "console"]
    ts: Ms
    selector: Short | None = None
    path: Url | None = None
    level: Short | None = None
    message: Annotated[str, _clip(1000)] | None = None


class Cause(_Model):
    name: Short = "Error"
    message: Text = ""
    stack: Annotated[str, _clip(50_000)] | None = None


class _Event(_Model):
    ts: Ms
    session: Annotated[str, _clip(64)] | None = None
    url: Url | None = None
    release: Short | None = None
    environment: Short | None = None
    user: dict[str, Annotated[str, _clip(200)] | Int64 | float | None] | None = None


class ErrorEvent(_Event):
    type: Literal["error"]
    name: Short = "Error"
    message: Text = ""
    stack: Annotated[str, _clip(50_000)] | None = None
    mechanism: Short = "onerror"
    handled: bool = False
    cause: Annotated[list[Cause], Field(max_length=5)] = []
    breadcrumbs: Annotated[list[Breadcrumb], Field(max_length=100)] = []
    count: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    componentStack: Text | None = None
    trace_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")] | None = None
    referrer: Url | None = None
    viewport: Short | None = None  # "1280x720"
    connection: Short | None = None  # navigator.connection.effectiveType: "4g", "3g"...


class ConsoleEvent(_Event):
    type: Literal["console"]
    level: Literal["error", "warn"] = "error"
    message: Text = ""


class ClickEvent(_Event):
    type: Literal["click"]
    selector: Short


class PageviewEvent(_Event):
    type: Literal["pageview"]
    path: Url
    referrer: Url | None = None


class GenerationEvent(_Event):
    type: Literal["generation"]
    name: Short
    status: Literal["ok", "error", "abandoned"]
    duration_ms: Ms | None = None
    first_token_ms: Ms | None = None
    attrs: dict[str, Short | int | float | bool | None] = {}
    trace_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")] | None = None
    # the span id the snippet put in `traceparent`: the generation's span, the request's parent
    span_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")] | None = None
    request_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$")] | None = None
    output_tokens: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None


BrowserEvent = Annotated[
    ErrorEvent | ConsoleEvent | ClickEvent | PageviewEvent | GenerationEvent,
    Field(discriminator="type"),
]
EVENT = TypeAdapter(BrowserEvent)
MAX_EVENTS = 500


def validate(raw: Any) -> BrowserEvent:
    """One event from the wire; raises `pydantic.ValidationError`."""
    return EVENT.validate_python(raw)
