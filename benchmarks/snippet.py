"""The browser snippet: gzipped size of each build against the 3,072-byte budget, and the
main-thread time per captured click and per console call in Chromium, against the same page
without the snippet.

    python benchmarks/snippet.py ROUNDS
"""

from __future__ import annotations

import gzip
import statistics
import sys
from pathlib import Path
from typing import Any

from _common import emit

DIST = Path(__file__).resolve().parent.parent / "js_snippet" / "dist"
BUDGET = 3072
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ORIGIN = "http://bench.local"
BUTTONS, CLICKS_EACH, CONSOLE_CALLS = 100, 20, 2000

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>bench</title>{snippet}</head>
<body><main id="app"></main><script>
const app = document.getElementById("app");
for (let i = 0; i < {buttons}; i++) {{
  const b = document.createElement("button");
  b.id = "b" + i; b.className = "btn primary"; b.setAttribute("aria-label", "action " + i);
  b.textContent = "Action " + i; app.appendChild(b);
}}
</script></body></html>"""
TAG = f'<script src="{ORIGIN}/inferwatch.min.js" data-endpoint="{ORIGIN}/iw/ingest" data-key="k"></script>'

MEASURE = """([clicksEach, consoleCalls]) => {
  const buttons = [...document.querySelectorAll("button")];
  const t0 = performance.now();
  for (let r = 0; r < clicksEach; r++) for (const b of buttons) b.click();
  const t1 = performance.now();
  for (let i = 0; i < consoleCalls; i++) console.warn("slow answer " + i);
  const t2 = performance.now();
  return {click_us: (t1 - t0) * 1000 / (clicksEach * buttons.length), console_us: (t2 - t1) * 1000 / consoleCalls};
}"""


def sizes() -> dict[str, int]:
    return {
        p.name: len(gzip.compress(p.read_bytes(), 9))
        for p in sorted(DIST.iterdir())
        if p.suffix in (".js", ".mjs")
    }


def measure(browser: Any, with_snippet: bool) -> dict[str, float]:
    page = browser.new_page()
    html = PAGE.format(snippet=TAG if with_snippet else "", buttons=BUTTONS)

    def handle(route: Any) -> None:
        url = route.request.url
        if url.endswith("/inferwatch.min.js"):
            route.fulfill(
                body=(DIST / "inferwatch.min.js").read_bytes(),
                content_type="application/javascript",
            )
        elif "/iw/ingest" in url:
            route.fulfill(status=200, body='{"accepted":0}', content_type="application/json")
        else:
            route.fulfill(body=html, content_type="text/html")

    page.route(f"{ORIGIN}/**", handle)
    page.goto(f"{ORIGIN}/")
    if with_snippet:
        page.wait_for_function("() => !!window.inferwatch")
    page.evaluate(MEASURE, [2, 100])  # warm up the JIT on both pages alike
    result: dict[str, float] = page.evaluate(MEASURE, [CLICKS_EACH, CONSOLE_CALLS])
    page.close()
    return result


def main() -> None:
    from playwright.sync_api import sync_playwright

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(rounds):
            for with_snippet in (False, True):
                runs[with_snippet].append(measure(browser, with_snippet))
        browser.close()
    out: dict[str, Any] = {"sizes_gzip": sizes(), "budget": BUDGET}
    for with_snippet, label in ((False, "bare"), (True, "snippet")):
        for key in ("click_us", "console_us"):
            out[f"{label}_{key}"] = statistics.median(r[key] for r in runs[with_snippet])
    emit(out)


if __name__ == "__main__":
    main()
