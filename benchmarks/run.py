"""`make bench`: what inferwatch costs, each figure a ratio to a baseline measured in the same run.

Every benchmark runs in its own process (sentry-sdk's integrations patch Starlette globally),
configurations alternate round by round so that a slow moment of a shared machine hits them
alike, and each figure is the median over the rounds. The table is printed and written to
benchmarks/results.md.

    python benchmarks/run.py                  # everything
    python benchmarks/run.py request capture  # some sections
    python benchmarks/run.py --rounds 1       # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.md"


@dataclass
class Row:
    section: str
    what: str
    measured: str
    baseline: str
    ratio: float | None
    goal: str = ""
    met: bool | None = None


def script(name: str, *args: object, timeout: float = 900) -> dict[str, Any]:
    """Run one benchmark script in a fresh process; the JSON line it printed."""
    done = subprocess.run(
        [sys.executable, str(HERE / name), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "SENTRY_DSN": "", "PYTHONHASHSEED": "0"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} {args} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def med(values: list[float]) -> float:
    return statistics.median(values)


def us(value: float) -> str:
    return f"{value:,.1f} µs" if value < 10_000 else f"{value / 1000:,.1f} ms"


# -- sections -------------------------------------------------------------------------


def request_overhead(rounds: int, raw: dict[str, Any]) -> list[Row]:
    configs = ("bare", "sentry", "inferwatch")
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    http: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    for _ in range(rounds):
        for config in configs:
            runs[config].append(script("request_overhead.py", config))
        side_by_side = script("request_overhead.py", "latency", *configs)
        for config in configs:
            http[config].append(side_by_side[config])
    raw["request_overhead"] = runs
    raw["request_latency"] = http
    rows = []
    for endpoint, label in (("trivial", "trivial endpoint"), ("model", "model-like endpoint")):
        for config, name in (
            ("sentry", "sentry-sdk default FastAPI integration"),
            ("inferwatch", "inferwatch.init(app) + watch_model"),
        ):
            goal = "≤ 1.15" if endpoint == "trivial" and config == "inferwatch" else ""
            ratio = med(
                [
                    c[endpoint]["latency_us"] / b[endpoint]["latency_us"]
                    for c, b in zip(http[config], http["bare"], strict=True)
                ]
            )
            server_cpu = med(
                [
                    c[endpoint]["server_cpu_us"] / b[endpoint]["server_cpu_us"]
                    for c, b in zip(http[config], http["bare"], strict=True)
                ]
            )
            rows.append(
                Row(
                    "Request overhead",
                    f"{label}: {name}, latency under uvicorn on loopback (median round trip of"
                    f" sequential requests from another process, a millisecond apart,"
                    f" alternating with the bare server's; server CPU ratio {server_cpu:.2f},"
                    f" all its threads)",
                    us(med([r[endpoint]["latency_us"] for r in http[config]])),
                    "bare " + us(med([r[endpoint]["latency_us"] for r in http["bare"]])),
                    ratio,
                    goal,
                    ratio <= 1.15 if goal else None,
                )
            )
    for endpoint, label in (("trivial", "trivial endpoint"), ("model", "model-like endpoint")):
        for config, name in (
            ("sentry", "sentry-sdk default FastAPI integration"),
            ("inferwatch", "inferwatch.init(app) + watch_model"),
        ):
            ratios = [
                c[endpoint]["cpu_us"] / b[endpoint]["cpu_us"]
                for c, b in zip(runs[config], runs["bare"], strict=True)
            ]
            rows.append(
                Row(
                    "Request overhead",
                    f"{label}: {name}, in-app CPU of the serving thread (the ASGI app called"
                    " directly: no server, no network)",
                    us(med([r[endpoint]["cpu_us"] for r in runs[config]])),
                    "bare " + us(med([r[endpoint]["cpu_us"] for r in runs["bare"]])),
                    med(ratios),
                )
            )
    sentry_added = med(
        [
            s["trivial"]["cpu_us"] - b["trivial"]["cpu_us"]
            for s, b in zip(runs["sentry"], runs["bare"], strict=True)
        ]
    )
    ours_added = med(
        [
            i["trivial"]["cpu_us"] - b["trivial"]["cpu_us"]
            for i, b in zip(runs["inferwatch"], runs["bare"], strict=True)
        ]
    )
    rows.append(
        Row(
            "Request overhead",
            "trivial endpoint: time inferwatch adds ÷ time sentry-sdk's integration adds (in-app CPU)",
            us(ours_added),
            us(sentry_added),
            ours_added / sentry_added if sentry_added > 0 else None,
            "well under 1",
            ours_added < 0.5 * sentry_added if sentry_added > 0 else None,
        )
    )
    return rows


def tracing(rounds: int, raw: dict[str, Any]) -> list[Row]:
    """Spans on: inferwatch's transactions (and OTLP spans) against sentry-sdk's own tracing of
    the same app, in-app CPU of the serving thread (the way each builds and hands off a span)."""
    configs = ("bare", "sentry-traced", "sentry-traced-0.1", "inferwatch-traced")
    configs += ("inferwatch-traced-0.1", "inferwatch-otlp")
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    for _ in range(rounds):
        for config in configs:
            runs[config].append(script("request_overhead.py", config))
    raw["tracing"] = runs

    def cpu(config: str, endpoint: str) -> float:
        return med([r[endpoint]["cpu_us"] for r in runs[config]])

    rows = []
    for endpoint, label in (("trivial", "trivial endpoint"), ("model", "model-like endpoint")):
        bare = cpu("bare", endpoint)
        for ours, theirs, what in (
            ("inferwatch-traced", "sentry-traced", "every request a Sentry transaction (1.0)"),
            ("inferwatch-traced-0.1", "sentry-traced-0.1", "a tenth kept (0.1)"),
            ("inferwatch-otlp", "sentry-traced", "inferwatch to OTLP vs sentry-sdk at 1.0"),
        ):
            added, baseline = cpu(ours, endpoint) - bare, cpu(theirs, endpoint) - bare
            rows.append(
                Row(
                    "Tracing",
                    f"{label}, {what}: CPU inferwatch adds to a bare app ÷ CPU sentry-sdk's"
                    f" FastAPI tracing adds (in-app, serving thread; bare {us(bare)})",
                    us(added),
                    us(baseline),
                    added / baseline if baseline > 0 else None,
                )
            )
    return rows


def capture_cost(rounds: int, raw: dict[str, Any]) -> list[Row]:
    configs = ("none", "sentry", "sentry-nolocals", "inferwatch")
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in configs}
    for _ in range(rounds):
        for config in configs:
            runs[config].append(script("capture_cost.py", config))
    raw["capture_cost"] = runs

    def cost(config: str, i: int) -> float:  # the capture alone: minus raising and catching
        return float(runs[config][i]["cpu_us"] - runs["none"][i]["cpu_us"])

    ours = [cost("inferwatch", i) for i in range(rounds)]
    rows = []
    for config, name, goal in (
        ("sentry", "plain sentry-sdk, default (local variables on)", "≤ 0.5"),
        ("sentry-nolocals", "plain sentry-sdk, local variables off", ""),
    ):
        ratio = med([o / cost(config, i) for i, o in enumerate(ours)])
        rows.append(
            Row(
                "Capture cost",
                f"capture_exception, 20 frames + model context: inferwatch vs {name}",
                us(med(ours)),
                us(med([cost(config, i) for i in range(rounds)])),
                ratio,
                goal,
                ratio <= 0.5 if goal else None,
            )
        )
    return rows


def redaction(rounds: int, raw: dict[str, Any]) -> list[Row]:
    texts = [script("redaction.py", "text") for _ in range(rounds)]
    captures = [script("redaction.py", "capture") for _ in range(rounds)]
    raw["redaction"] = {"text": texts, "capture": captures}
    plain = med([t["plain_s"] for t in texts])
    worst = max(texts[0]["crafted_s"], key=lambda name: med([t["crafted_s"][name] for t in texts]))
    crafted = med([t["crafted_s"][worst] for t in texts])
    rows = [
        Row(
            "Redaction",
            f"redact_text on 1 MiB of crafted text, the worst family ({worst}), vs plain prose",
            f"{1 / crafted:,.1f} MiB/s",
            f"{1 / plain:,.1f} MiB/s",
            crafted / plain,
            "≤ 20",
            crafted / plain <= 20,
        )
    ]
    for name, label in (
        ("cyclic", "a self-referencing dict"),
        ("million_keys", "a dict of 1M keys"),
    ):
        ratio = med([c[name] / c["plain"] for c in captures])
        rows.append(
            Row(
                "Redaction",
                f"failing watch_model call + capture, INFO logging on: {label} vs a chat input",
                us(med([c[name] for c in captures])),
                us(med([c["plain"] for c in captures])),
                ratio,
            )
        )
    return rows


def integration_overhead(rounds: int, raw: dict[str, Any]) -> list[Row]:
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "inferwatch": []}
    for _ in range(rounds):
        for config in runs:
            runs[config].append(script("integrations.py", config))
    raw["integrations"] = runs
    ours = [r["cpu_us"] for r in runs["inferwatch"]]
    bare = [r["cpu_us"] for r in runs["bare"]]
    return [
        Row(
            "Integrations",
            "openai chat.completions.create, in-memory transport: OpenAI integration on vs off"
            f" (+{med([o - b for o, b in zip(ours, bare, strict=True)]):,.0f} µs a call)",
            us(med(ours)),
            us(med(bare)),
            med([o / b for o, b in zip(ours, bare, strict=True)]),
        )
    ]


def store_throughput(rounds: int, raw: dict[str, Any]) -> list[Row]:
    runs: dict[str, list[dict[str, Any]]] = {"api": [], "raw": []}
    for _ in range(rounds):
        for mode in runs:
            runs[mode].append(script("store_throughput.py", mode, 10_000))
    raw["store_throughput"] = runs
    ratio = med(
        [
            a["events_per_s"] / r["events_per_s"]
            for a, r in zip(runs["api"], runs["raw"], strict=True)
        ]
    )
    size = runs["api"][0]["event_bytes"]
    return [
        Row(
            "Store throughput",
            f"events of {size / 1024:.1f} KB through Store.add → committed, vs raw batched sqlite3"
            " inserts (executemany, JSON by the same encoder)",
            f"{med([a['events_per_s'] for a in runs['api']]):,.0f} events/s",
            f"{med([r['events_per_s'] for r in runs['raw']]):,.0f} events/s",
            ratio,
            "≥ 0.5",
            ratio >= 0.5,
        )
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVERS = ("bare", "normalizer", "collector")
LOADS = {"envelope": SERVERS, "browser": ("bare", "collector")}  # Relay reads envelopes only


def _served(kind: str, store: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(HERE / "collector_ingest.py"), "server", kind, str(port), str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SENTRY_DSN": ""},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"the {kind} server did not start")


INGEST_PAIRS = 3  # rounds of bursts a load and round, one on each server


def collector_ingest(rounds: int, raw: dict[str, Any]) -> list[Row]:
    """The servers run side by side for the whole section, and 2-second bursts of load
    alternate between them (their order turns each time): one ratio to the bare rate a round of
    bursts seconds apart, so a slow moment of a shared machine hits every side of it alike."""
    runs: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {kind: _served(kind, Path(tmp) / kind / "events.db") for kind in SERVERS}
        try:
            for _ in range(rounds):
                for load, kinds in LOADS.items():
                    for turn in range(INGEST_PAIRS):
                        rate = {}
                        for kind in kinds[turn % len(kinds) :] + kinds[: turn % len(kinds)]:
                            result = script(
                                "collector_ingest.py", "load", servers[kind][1], load, 2, 16
                            )
                            bad = {k: v for k, v in result["counts"].items() if k != "ok"}
                            if bad:
                                raise RuntimeError(f"{kind} {load}: answers other than 200: {bad}")
                            rate[kind] = result["requests_per_s"]
                            runs.setdefault(f"{kind}-{load}", []).append(rate[kind])
                        for kind in kinds[1:]:
                            ratios.setdefault(f"{kind}-{load}", []).append(
                                rate[kind] / rate["bare"]
                            )
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(30)
    raw["collector_ingest"] = {**runs, "ratios": ratios}
    rows = []
    for kind, load, what, goal in (
        ("collector", "envelope", "Sentry envelopes of 5 KB (1 event each) per second", "≥ 0.5"),
        (
            "normalizer",
            "envelope",
            "the same envelopes through the bare endpoint that also runs Sentry's normalizer"
            " (sentry_relay) on each event and nothing else: the most a collector that reads"
            " every event as Sentry does can reach here",
            "",
        ),
        ("collector", "browser", "browser batches of 50 events per second", ""),
    ):
        ratio = med(ratios[f"{kind}-{load}"])
        ours, bare = med(runs[f"{kind}-{load}"]), med(runs[f"bare-{load}"])
        extra = f" = {ours * 50:,.0f} events/s" if load == "browser" else ""
        rows.append(
            Row(
                "Collector ingest",
                f"{what}, uvicorn on loopback, 16 connections from another process, vs a bare"
                " FastAPI endpoint that reads the body (servers side by side, 2-second bursts"
                f" alternating between them; median of {len(ratios[f'{kind}-{load}'])} rounds'"
                " ratios)",
                f"{ours:,.0f} req/s{extra}",
                f"{bare:,.0f} req/s",
                ratio,
                goal,
                ratio >= 0.5 if goal else None,
            )
        )
    return rows


def stalled_store(rounds: int, raw: dict[str, Any]) -> list[Row]:
    captures = 100_000
    bounded = script("stalled_store.py", 10_000, captures)
    unbounded = script("stalled_store.py", captures, captures, "--no-drain")
    raw["stalled_store"] = {"bounded": bounded, "unbounded": unbounded}
    during = bounded["during"]
    dropped = sum(during["dropped"].values())
    accounted = during["accepted"] + during["dropped"].get("queue_full", 0) == captures + 200
    return [
        Row(
            "Memory, stalled store",
            f"RSS growth over {captures:,} captures with the writer locked out (queue 10,000) vs a queue that holds them all",
            f"+{bounded['growth_mb']:.1f} MB",
            f"+{unbounded['growth_mb']:.1f} MB",
            bounded["growth_mb"] / unbounded["growth_mb"] if unbounded["growth_mb"] > 0 else None,
            "bounded",
            bounded["growth_mb"] < 0.5 * unbounded["growth_mb"],
        ),
        Row(
            "Memory, stalled store",
            f"captures dropped and counted while stalled (queue_full + locked); every capture accounted for: {accounted}",
            f"{dropped:,} dropped",
            f"{captures + 200:,} captured",
            dropped / (captures + 200),
            "counted",
            accounted and dropped > 0,
        ),
        Row(
            "Memory, stalled store",
            "time per capture while stalled, bounded queue vs queue that holds them all",
            us(bounded["capture_us"]),
            us(unbounded["capture_us"]),
            bounded["capture_us"] / unbounded["capture_us"],
        ),
    ]


def snippet(rounds: int, raw: dict[str, Any]) -> list[Row]:
    result = script("snippet.py", max(3, rounds * 2))
    raw["snippet"] = result
    rows = []
    for name, size in result["sizes_gzip"].items():
        budgeted = name == "inferwatch.min.js"
        rows.append(
            Row(
                "Snippet",
                f"{name} gzip -9"
                + ("" if budgeted else " (npm build, minified by the app's bundler; not budgeted)"),
                f"{size:,} B",
                f"{result['budget']:,} B budget",
                size / result["budget"],
                "≤ 1" if budgeted else "",
                size <= result["budget"] if budgeted else None,
            )
        )
    for key, what in (
        ("click_us", "main-thread time per captured click"),
        ("console_us", "main-thread time per console.warn"),
    ):
        rows.append(
            Row(
                "Snippet",
                f"{what}, Chromium, page with the snippet vs without (added {result['snippet_' + key] - result['bare_' + key]:.1f} µs)",
                us(result[f"snippet_{key}"]),
                us(result[f"bare_{key}"]),
                result[f"snippet_{key}"] / result[f"bare_{key}"],
            )
        )
    return rows


def dashboard(rounds: int, raw: dict[str, Any]) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        small = script("dashboard.py", 10_000, 200, tmp)
        large = script("dashboard.py", 1_000_000, 2000, tmp, timeout=3600)
    raw["dashboard"] = {"10k": small, "1M": large}
    return [
        Row(
            "Dashboard",
            "issues page (GET /), 10,000 events, vs a page that reads nothing, in the same app",
            f"{small['issues_ms']:.1f} ms",
            f"{small['ping_ms']:.2f} ms",
            small["issues_ms"] / small["ping_ms"],
        ),
        Row(
            "Dashboard",
            f"issues page (GET /), 1,000,000 events (seeded in {large['seed_s']:.0f} s), vs the same page at 10,000",
            f"{large['issues_ms']:.1f} ms",
            f"{small['issues_ms']:.1f} ms",
            large["issues_ms"] / small["issues_ms"],
        ),
        Row(
            "Dashboard",
            "issues page 3 with every status (?status=all&page=3), 1,000,000 vs 10,000 events",
            f"{large['issues_all_ms']:.1f} ms",
            f"{small['issues_all_ms']:.1f} ms",
            large["issues_all_ms"] / small["issues_all_ms"],
        ),
        *(
            Row(
                "Dashboard",
                f"{what}, 1,000,000 vs 10,000 {kind} over 7 days (1M written with rollups in"
                f" {large['records_seed_s']:.0f} s)",
                f"{large[key]:.1f} ms",
                f"{small[key]:.1f} ms",
                large[key] / small[key],
                "≤ 2",
                large[key] / small[key] <= 2,
            )
            for key, what, kind in (
                ("generations_ms", "generations page (24 h range)", "generation records"),
                ("generations_7d_ms", "generations page (7 d range)", "generation records"),
                ("usage_ms", "usage page (24 h range)", "requests"),
            )
        ),
    ]


def sourcemaps(rounds: int, raw: dict[str, Any]) -> list[Row]:
    """The example page built for production (minified, hidden maps), its frames resolved."""
    react = HERE.parent / "examples" / "react_app"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dist"
        vite = [str(react / "node_modules" / ".bin" / "vite"), "build", "--outDir", str(out)]
        vite += ["--emptyOutDir", "--sourcemap", "hidden", "--minify", "oxc", "--logLevel", "warn"]
        subprocess.run(vite, cwd=react, check=True)
        result = script("sourcemaps.py", out, rounds)
    raw["sourcemaps"] = result
    size = f"{result['script_bytes'] / 1024:.0f} KB bundle, {result['map_bytes'] / 1e6:.1f} MB map"
    return [
        Row(
            "Source maps",
            f"resolve one frame, map decoded for it (cold) vs already decoded ({size})",
            us(result["frame_cold_us"]),
            us(result["frame_us"]),
            result["frame_cold_us"] / result["frame_us"],
        ),
        Row(
            "Source maps",
            "resolve one event of 10 frames, cold vs cached map",
            us(result["event_cold_us"]),
            us(result["event_us"]),
            result["event_cold_us"] / result["event_us"],
        ),
        Row(
            "Source maps",
            "resolve the same event again (one bug's crash repeating) vs first time, cached map",
            us(result["event_again_us"]),
            us(result["event_us"]),
            result["event_again_us"] / result["event_us"],
        ),
        Row(
            "Source maps",
            "browser ingest, a batch of 50 errors of 10 frames: resolution on vs off (wall)",
            us(result["ingest_on_us"]),
            us(result["ingest_off_us"]),
            result["ingest_on_us"] / result["ingest_off_us"],
        ),
    ]


SECTIONS: dict[str, Callable[[int, dict[str, Any]], list[Row]]] = {
    "request": request_overhead,
    "tracing": tracing,
    "capture": capture_cost,
    "redaction": redaction,
    "integrations": integration_overhead,
    "store": store_throughput,
    "ingest": collector_ingest,
    "memory": stalled_store,
    "snippet": snippet,
    "dashboard": dashboard,
    "sourcemaps": sourcemaps,
}

# -- output ---------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = [
        "| section | what | measured | baseline | ratio | goal | met |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            f"| {r.section} | {r.what} | {r.measured} | {r.baseline} | {ratio} | {r.goal} | {met} |"
        )
    return "\n".join(lines)


def machine() -> str:
    import sentry_sdk

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} x {cpu}, Python {platform.python_version()}, sentry-sdk {sentry_sdk.VERSION}, "
        f"inferwatch at {revision()}, load average {os.getloadavg()[0]:.1f} at the start"
    )


def revision() -> str:
    """The commit measured, and whether the package had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=HERE, check=False)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--", str(HERE.parent / "python_sdk"))
    return (git("rev-parse", "--short", "HEAD") or "?") + (
        " (with uncommitted changes)" if dirty else ""
    )


def write(rows: list[Row], raw: dict[str, Any], about: str, elapsed: float, rounds: int) -> None:
    text = f"""# inferwatch benchmarks

`make bench` ({time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, {elapsed / 60:.1f} min, {rounds} rounds)
on {about}; load average {os.getloadavg()[0]:.1f} at the end.

Each figure is the median over the rounds of a ratio to a baseline measured in the same run,
configurations alternating within each round. Request latency is the median round trip of
sequential requests to the app under uvicorn, as a caller waits it (the goal is about this);
the in-app figures (request overhead without a server, capture cost) are CPU time of the serving
thread, which other processes on a shared machine disturb far less than wall time; throughput
figures are wall time. How each is measured: the docstring of its script in `benchmarks/`.

{table(rows)}

<details><summary>Raw figures</summary>

```json
{json.dumps(raw, indent=1)}
```
</details>
"""
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", choices=[*SECTIONS, []], default=[])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    chosen = args.sections or list(SECTIONS)
    about = machine()
    print(f"inferwatch benchmarks on {about}", flush=True)
    start = time.perf_counter()
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    for name in chosen:
        t = time.perf_counter()
        section = SECTIONS[name](args.rounds, raw)
        rows.extend(section)
        print(f"\n{name} ({time.perf_counter() - t:.0f} s)\n{table(section)}", flush=True)
    write(rows, raw, about, time.perf_counter() - start, args.rounds)
    print(f"\n{table(rows)}\n\nwritten to {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
