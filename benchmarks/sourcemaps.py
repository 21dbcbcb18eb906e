"""Source maps: what resolving minified browser frames costs, on the example page's production
build (Vite, minified, hidden maps; a 226 KB bundle with a 1 MB map).

Per frame and per event of 10 frames, with the map decoded for the call (cold: a collector's
first event of a build) and already decoded (cached: every event after it), at positions not
seen before; the same crash again (its frames remembered); and browser batch
ingest (50 errors of 10 frames each, through the collector app called in-process) with
resolution on against off, in wall time (resolution runs on a worker thread).

    python benchmarks/sourcemaps.py BUILD_DIR STORE_DIR
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DirectASGI, emit, median

KEY = "0123456789abcdef0123456789abcdef"
SITE = "http://127.0.0.1:8000"
FRAMES = 10
BATCH = 50


def positions(script: Path, n: int) -> list[tuple[int, int]]:
    """`n` places spread over the minified file, where a crash could be (1-based)."""
    lines = script.read_text().splitlines()
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    width = len(lines[longest])
    return [(longest + 1, 1 + width * (k + 1) // (n + 1)) for k in range(n)]


def event(url: str, places: list[tuple[int, int]]) -> dict[str, Any]:
    frames = [
        {
            "filename": url,
            "abs_path": url,
            "function": "e",
            "lineno": line,
            "colno": col,
            "in_app": True,
        }
        for line, col in places
    ]
    return {
        "platform": "javascript",
        "exception": {
            "values": [{"type": "TypeError", "value": "x", "stacktrace": {"frames": frames}}]
        },
    }


def resolve_cost(
    build: Path, url: str, places: list[tuple[int, int]], rounds: int
) -> dict[str, float]:
    from inferwatch.sourcemaps import Resolver, SourceMaps

    maps = SourceMaps([build], uploads=Path("/nonexistent"))
    one, ten = event(url, places[:1]), event(url, places)
    keys = ("frame_cold", "event_cold", "frame", "event", "event_again")
    out: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(rounds):
        for key, sample in (("frame_cold", one), ("event_cold", ten)):
            resolver = Resolver(maps)  # nothing decoded yet
            work = copy.deepcopy(sample)
            t = time.perf_counter()
            assert resolver.resolve(work)
            out[key].append((time.perf_counter() - t) * 1e6)
        resolver = Resolver(maps)
        resolver.resolve(copy.deepcopy(one))  # decoded: what follows is lookups
        for key, size, n in (("frame", 1, 2000), ("event", FRAMES, 300)):
            # new positions each time (columns moved on): no frame resolved before is reused
            works = [event(url, [(line, col + k) for line, col in places[:size]]) for k in range(n)]
            t = time.perf_counter()
            for work in works:
                resolver.resolve(work)
            out[key].append((time.perf_counter() - t) / n * 1e6)
        works = [copy.deepcopy(ten) for _ in range(300)]  # one bug's crash, again and again
        resolver.resolve(copy.deepcopy(ten))
        t = time.perf_counter()
        for work in works:
            resolver.resolve(work)
        out["event_again"].append((time.perf_counter() - t) / len(works) * 1e6)
    return {f"{k}_us": median(v) for k, v in out.items()}


def ingest_cost(
    build: Path, url: str, places: list[tuple[int, int]], rounds: int
) -> dict[str, float]:
    from inferwatch.collector import Collector, CollectorConfig, create_app
    from inferwatch.collector._flood import RateLimiter
    from inferwatch.store import Store

    stack = "TypeError: x\n" + "\n".join(
        f"    at e ({url}:{line}:{col})" for line, col in reversed(places)
    )
    apps = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, folders in (("off", ()), ("on", (build,))):
            config = CollectorConfig(key=KEY, sourcemap_dirs=folders, max_new_issues_per_minute=0)
            collector = Collector(Store(Path(tmp) / name / "events.db"), config)
            collector.limiter = RateLimiter(1e9, 10**9)  # the limiter is not what is measured
            apps[name] = (collector, DirectASGI(create_app(collector)))
        walls: dict[str, list[float]] = {"off": [], "on": []}
        n = 0
        for _ in range(rounds):
            for name, (_, client) in apps.items():
                bodies = []
                for _ in range(20):
                    n += 1
                    errors = [
                        {
                            "type": "error",
                            "ts": 1.7e12 + n * BATCH + i,
                            "name": "TypeError",
                            "message": f"x {i % 5}",
                            "stack": stack,
                            "session": "s",
                        }
                        for i in range(BATCH)
                    ]
                    bodies.append(json.dumps({"events": errors}).encode())
                client.request("POST", f"/iw/ingest?key={KEY}", bodies[0])  # warm: map decoded
                t = time.perf_counter()
                for body in bodies[1:]:
                    status = client.request("POST", f"/iw/ingest?key={KEY}", body)
                    assert status == 200, status
                walls[name].append((time.perf_counter() - t) / (len(bodies) - 1) * 1e6)
        for collector, _ in apps.values():
            collector.close()
            collector.store.close()
    return {f"ingest_{k}_us": median(v) for k, v in walls.items()}


def main() -> None:
    build, rounds = Path(sys.argv[1]), int(sys.argv[2])
    (script,) = (build / "assets").glob("index-*.js")
    url = f"{SITE}/assets/{script.name}"
    places = positions(script, FRAMES)
    result = resolve_cost(build, url, places, rounds)
    result.update(ingest_cost(build, url, places, rounds))
    result["map_bytes"] = (build / "assets" / (script.name + ".map")).stat().st_size
    result["script_bytes"] = script.stat().st_size
    emit(result)


if __name__ == "__main__":
    main()
