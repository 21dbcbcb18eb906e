"""Minified browser frames resolved to the original source, as Sentry's JavaScript processing
resolves them (getsentry/symbolicator, `crates/symbolicator-js`).

A resolved frame carries the original file, line and column, the original function name, context
lines from the map's `sourcesContent`, `in_app` false under `node_modules` or a bundler's or a
framework's runtime, and `data` saying which map resolved it and how. The frames as the browser
sent them are kept beside them as `raw_stacktrace`, frame for frame, so an event can be resolved
again (when a map arrives later) from what was really sent.

The function name is the name of the original scope that holds the position (Sentry's
`SourceMapCache`, which reads the minified file's scopes); where that is unknown or useless
(`<anonymous>`), the name the caller's frame calls at its call site (the map's `names` entry of
the caller's token: Sentry's "caller naming"); only then the minified name.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urljoin

from .._redact import redact_text
from .._types import Event
from ._decoded import Decoded
from ._library import Match, SourceMaps

CONTEXT_LINES = 5
COMPONENT_STACK_PREFIX = "React ErrorBoundary "  # the linked error @sentry/react makes of it
MAX_CONTEXT_CHARS = 300  # of a context line (a minified line in `sourcesContent` can be huge)
_USELESS_NAMES = ("<anonymous>", "<unknown>", "__webpack_require__", "__webpack_modules__")
# Paths that are a bundler's, a framework's or inferwatch's own code, never the app's.
_NOT_APP = (
    "node_modules/",
    "webpack/bootstrap",
    "webpack/runtime",
    "(webpack)",
    "/@vite/",
    "vite/preload-helper",
    "vite/modulepreload-polyfill",
    "rolldown:",
    "\0",
    "js_snippet/dist/",
    "inferwatch.mjs",
    "inferwatch.min.js",
)


class Resolver:
    """Resolves the frames of events through `maps`, keeping decoded maps between events.

    >>> Resolver(maps).resolve(event)  # doctest: +SKIP
    True
    """

    def __init__(self, maps: SourceMaps, decoded: Decoded | None = None) -> None:
        self.maps = maps
        self.decoded = decoded or Decoded()

    def resolve(self, event: Event) -> bool:
        """Resolve every exception's frames in place; whether any frame changed."""
        if self.maps.empty():
            return False
        ids = _debug_ids(event)
        release = event.get("release") if isinstance(event.get("release"), str) else None
        changed = False
        for holder in _exceptions(event):
            changed |= self._resolve_stack(holder, ids, release)
        return changed

    def _resolve_stack(
        self, holder: dict[str, Any], ids: dict[str, str], release: str | None
    ) -> bool:
        frames = _frames(holder.get("stacktrace"))
        raw = _frames(holder.get("raw_stacktrace"))
        if len(raw) != len(frames):  # never resolved: what the browser sent is the raw stack
            raw = [copy.deepcopy(f) for f in frames]
        # A component stack lists parents, not callers: no frame names the next one's function.
        calls = not str(holder.get("type", "")).startswith(COMPONENT_STACK_PREFIX)
        out, callsite, changed = [], None, False
        for current, sent in zip(frames, raw, strict=True):  # the outermost (the caller) first
            frame, token_name = self._resolve_frame(sent, ids, release, callsite)
            callsite = token_name if calls else None
            if frame is None or frame == current:
                out.append(current)
            else:
                out.append(frame)
                changed = True
        if changed:
            holder["stacktrace"] = {**holder.get("stacktrace", {}), "frames": out}
            holder["raw_stacktrace"] = {"frames": raw}
        return changed

    def _resolve_frame(
        self, sent: dict[str, Any], ids: dict[str, str], release: str | None, callsite: str | None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The resolved frame (None when it cannot be) and the name it calls at its call site."""
        url, line, col = sent.get("abs_path"), sent.get("lineno"), sent.get("colno")
        if not isinstance(url, str) or not _positive(line):
            return None, None
        match = self.maps.find(url, ids.get(url), release)
        decoded = self.decoded.get(match) if match else None
        if match is None or decoded is None:
            return None, None
        key = (url, line, col, sent.get("function"), callsite, match)
        if key not in decoded.memo:
            token = decoded.cache.lookup(line, col if _positive(col) else 1, CONTEXT_LINES)
            frame = _frame(sent, token, match, callsite) if token else None
            decoded.remember(key, (frame, token.name if token else None))
        frame, name = decoded.memo[key]
        return (_copy(frame) if frame else None), name


def _copy(frame: dict[str, Any]) -> dict[str, Any]:
    """A frame of its own for each event (a remembered one is shared)."""
    out = {**frame, "data": dict(frame["data"])}
    for key in ("pre_context", "post_context"):
        if key in frame:
            out[key] = list(frame[key])
    return out


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _frames(stacktrace: Any) -> list[dict[str, Any]]:
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    return [f for f in frames if isinstance(f, dict)] if isinstance(frames, list) else []


def _exceptions(event: Event) -> list[dict[str, Any]]:
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else None
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def _debug_ids(event: Event) -> dict[str, str]:
    """The debug id of each file, as Sentry's SDKs send them (`debug_meta.images`)."""
    meta = event.get("debug_meta")
    images = meta.get("images") if isinstance(meta, dict) else None
    out: dict[str, str] = {}
    for image in images if isinstance(images, list) else []:
        if isinstance(image, dict) and image.get("type") == "sourcemap":
            file, debug_id = image.get("code_file"), image.get("debug_id")
            if isinstance(file, str) and isinstance(debug_id, str):
                out[file] = debug_id.replace("-", "").lower()[:32]
    return out


def _frame(sent: dict[str, Any], token: Any, match: Match, callsite: str | None) -> dict[str, Any]:
    source = token.src or ""
    filename = redact_text(clean_filename(source)) if source else str(sent.get("filename") or "?")
    frame: dict[str, Any] = {
        "filename": filename,
        "abs_path": redact_text(_abs_path(str(sent["abs_path"]), source))
        if source
        else sent["abs_path"],
        "function": redact_text(
            function_name(_name(sent.get("function")), token.function_name, callsite)
        ),
        "lineno": token.line,
        "colno": token.col,
        "in_app": in_app(filename),
        "data": {
            "sourcemap": match.label,
            "resolved_with": match.resolved_with,
            "symbolicated": True,
        },
    }
    if token.context_line is not None:
        frame["context_line"] = _context(token.context_line)
        frame["pre_context"] = [_context(line) for line in token.pre_context]
        frame["post_context"] = [_context(line) for line in token.post_context]
    return frame


def _name(function: Any) -> str | None:
    return function if isinstance(function, str) and function not in ("", "?") else None


def _context(line: str) -> str:
    """A line of the original source, redacted: it can hold what the minified one did not
    show (a key in a comment, an address in a string)."""
    return redact_text(line.rstrip("\r\n")[:MAX_CONTEXT_CHARS])


def function_name(minified: str | None, scope: str | None, callsite: str | None) -> str:
    """The original function's name: its scope's, else the caller's name for it at the call
    site, else the minified one (Sentry's `get_function_for_token`, with an unknown scope
    treated like a useless name, as a map without its minified file has no scopes).

    >>> function_name("g", "classify", "h"), function_name("g", "<unknown>", "classify")
    ('classify', 'classify')
    >>> function_name("g", "<anonymous>", None), function_name(None, "<anonymous>", None)
    ('g', '<anonymous>')
    """
    if scope and scope not in _USELESS_NAMES:
        return fold_function_name(scope)
    if callsite:
        return fold_function_name(callsite)
    if minified is None:
        return scope or "?"
    return minified


def fold_function_name(name: str) -> str:
    """Repeated property names folded, as Sentry folds them.

    >>> fold_function_name("bar.foo.foo.onError"), fold_function_name("a.a.a.b")
    ('bar.{foo#2}.onError', '{a#3}.b')
    """
    parts = name.split(".")
    if len(parts) == 1:
        return name
    *head, tail = parts
    groups: list[list[str]] = []
    for part in head:
        if groups and groups[-1][0] == part:
            groups[-1].append(part)
        else:
            groups.append([part])
    folded = [g[0] if len(g) == 1 else f"{{{g[0]}#{len(g)}}}" for g in groups]
    return ".".join([*folded, tail])


def clean_filename(source: str) -> str:
    """A map's source as a file name to show: bundler prefixes and leading `./`, `../` gone.

    >>> clean_filename("../../src/App.jsx"), clean_filename("webpack://app/./src/x.ts")
    ('src/App.jsx', 'src/x.ts')
    >>> clean_filename("webpack:///node_modules/react/index.js")
    'node_modules/react/index.js'
    """
    name = source
    for prefix in ("webpack://", "file://", "app://"):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            name = rest[rest.find("/") + 1 :] if "/" in rest else rest
            break
    parts = name.split("/")
    while parts and parts[0] in (".", ".."):
        parts.pop(0)
    return "/".join(parts) or source


def _abs_path(url: str, source: str) -> str:
    """The source's address, as Sentry joins it to the file's: `..` stops at the site's root."""
    if "://" in source or source.startswith("webpack:"):
        return source
    return urljoin(url, source)


def in_app(filename: str) -> bool:
    """Whether a resolved file is the app's own code.

    >>> in_app("src/App.jsx"), in_app("node_modules/react-dom/cjs/react-dom.production.js")
    (True, False)
    """
    return not any(marker in filename for marker in _NOT_APP)
