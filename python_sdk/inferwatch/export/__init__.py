"""What leaves for engines past one machine: requests and model calls as spans, to Sentry
(transactions with `gen_ai` spans) and to OpenTelemetry backends (OTLP/HTTP), sampled when each
request ends so that errored requests are always kept. See docs/tracing.md.

`_spans`: the shape of a span and a trace; `_genai`: a model call as GenAI attributes;
`_sampling`: which traces are kept; `_sentry` and `_otel`: the two renderers; `_tracing`: what
the middleware and model calls talk to; `_setup`: built from the options; `_browser`: the
collector's browser generations as spans.
"""

from __future__ import annotations
