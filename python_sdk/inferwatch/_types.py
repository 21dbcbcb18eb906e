"""Type aliases shared by the modules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Event = dict[str, Any]
Hint = dict[str, Any]
Environ = Mapping[str, str]
Mask = Callable[[str], str]
BeforeSend = Callable[[Event, Hint], "Event | None"]
TracesSampler = Callable[[dict[str, Any]], "float | bool"]
