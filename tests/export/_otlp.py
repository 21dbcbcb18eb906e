"""A real OTLP/HTTP receiver on loopback for the tests: it decodes what the OpenTelemetry SDK's
exporter posts (protobuf `ExportTraceServiceRequest` and `ExportMetricsServiceRequest`) and
keeps the spans and metric points as plain dicts."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import LiveServer

KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return attributes(v.kvlist_value.values)
    return getattr(v, kind) if kind else None


def attributes(pairs: Any) -> dict[str, Any]:
    return {kv.key: value(kv.value) for kv in pairs if isinstance(kv, KeyValue)}


class Receiver:
    """What the endpoint received: `spans`, `points` (metric name -> data points), `headers`."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.points: dict[str, list[dict[str, Any]]] = {}
        self.headers: list[dict[str, str]] = []
        self.posts = 0
        self.lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/v1/traces", self.traces, methods=["POST"]),
                Route("/v1/metrics", self.metrics, methods=["POST"]),
            ]
        )
        self.server = LiveServer(self.app)
        self.url = self.server.url

    def __enter__(self) -> Receiver:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    async def _decode(self, request: Request, message: Message) -> None:
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        message.ParseFromString(body)
        with self.lock:
            self.posts += 1
            self.headers.append(dict(request.headers))

    async def traces(self, request: Request) -> Response:
        message = ExportTraceServiceRequest()
        await self._decode(request, message)
        spans = [
            _span(span, attributes(rs.resource.attributes))
            for rs in message.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]
        with self.lock:
            self.spans.extend(spans)
        reply = ExportTraceServiceResponse().SerializeToString()
        return Response(reply, media_type="application/x-protobuf")

    async def metrics(self, request: Request) -> Response:
        message = ExportMetricsServiceRequest()
        await self._decode(request, message)
        with self.lock:
            for rm in message.resource_metrics:
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        self.points.setdefault(metric.name, []).extend(_points(metric))
        reply = ExportMetricsServiceResponse().SerializeToString()
        return Response(reply, media_type="application/x-protobuf")

    def wait_for(self, check: Callable[[], bool], timeout: float = 20.0) -> None:
        """Until `check()` holds (the exporter sends on its own schedule), or fail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if check():
                    return
            time.sleep(0.05)
        raise AssertionError(f"the OTLP receiver did not get what was expected: {self.spans!r}")


def _span(span: Any, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex() or None,
        "name": span.name,
        "kind": KINDS.get(span.kind, str(span.kind)),
        "start_ns": span.start_time_unix_nano,
        "end_ns": span.end_time_unix_nano,
        "attributes": attributes(span.attributes),
        "events": [
            {"name": e.name, "time_ns": e.time_unix_nano, "attributes": attributes(e.attributes)}
            for e in span.events
        ],
        "status": {1: "ok", 2: "error"}.get(span.status.code, "unset"),
        "status_message": span.status.message,
        "resource": resource,
    }


def _points(metric: Any) -> list[dict[str, Any]]:
    kind = metric.WhichOneof("data")
    data = getattr(metric, kind)
    out = []
    for point in data.data_points:
        entry: dict[str, Any] = {"attributes": attributes(point.attributes), "unit": metric.unit}
        if kind == "histogram":
            entry.update(count=point.count, sum=point.sum, bounds=list(point.explicit_bounds))
        else:
            entry["value"] = point.as_double or point.as_int
        out.append(entry)
    return out
