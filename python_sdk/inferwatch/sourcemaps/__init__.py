"""Source maps for browser stacks: minified frames resolved to the original source, local-first.

`inferwatch serve --sourcemaps DIR` reads a build output folder; `inferwatch sourcemaps upload
DIR` sends a build's maps to a running collector, which keeps them beside its store. See
docs/sourcemaps.md.
"""

from __future__ import annotations

from ._library import Match, SourceMaps
from ._resolve import Resolver
from ._service import UPLOADS_DIR, SourceMapService

__all__ = ["UPLOADS_DIR", "Match", "Resolver", "SourceMapService", "SourceMaps"]
