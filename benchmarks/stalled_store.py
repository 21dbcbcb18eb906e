"""Memory under a stalled store: 100,000 captures while another connection holds an exclusive
lock on the SQLite file, so the writer cannot commit. Resident memory must stay bounded by the
queue; what does not fit is counted as dropped.

    python benchmarks/stalled_store.py QUEUE_SIZE CAPTURES [--no-drain]

Run with the default queue (10,000) and with a queue as large as the captures (what an
unbounded queue would hold), to compare the growth.
"""

from __future__ import annotations

import gc
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from _common import emit, rss_mb


def main() -> None:
    queue_size, captures = int(sys.argv[1]), int(sys.argv[2])
    import inferwatch
    from inferwatch import _runtime
    from inferwatch.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.db"
        Store(path).close()
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        inferwatch.init(store=path, environ={}, queue_size=queue_size)
        for i in range(200):  # warm up every code path before the baseline is read
            try:
                raise ValueError(f"warm-up {i}")
            except ValueError as exc:
                inferwatch.capture_exception(exc)
        gc.collect()
        before = rss_mb()
        start = time.perf_counter()
        for i in range(captures):
            try:
                raise ValueError(f"request {i} failed while the store is locked")
            except ValueError as exc:
                inferwatch.capture_exception(exc)
        elapsed = time.perf_counter() - start
        gc.collect()
        after = rss_mb()
        runtime = _runtime.current()
        assert runtime is not None and runtime.store is not None
        stats = runtime.store.stats()
        locker.execute("ROLLBACK")
        locker.close()
        if "--no-drain" in sys.argv:  # the comparison run: only its memory matters
            final = stats
        else:
            inferwatch.flush(120)
            final = runtime.store.stats()
            inferwatch.shutdown(30)
    emit(
        {
            "queue_size": queue_size,
            "captures": captures,
            "rss_before_mb": before,
            "rss_after_mb": after,
            "growth_mb": after - before,
            "capture_us": elapsed / captures * 1e6,
            "during": stats,
            "final": final,
        }
    )


if __name__ == "__main__":
    main()
