"""Charts drawn on the server as SVG: no CDN, no script, every label escaped.

Colours come from classes (`.s0` … `.s5`, `.axis`, `.grid`) styled in `app.css`, so the pages
need no inline styles and the CSP stays strict. Each mark carries a `<title>` tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

Series = Sequence[float | None]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, body: list[str], label: str, css: str) -> Markup:
    return Markup(
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{escape(label)}">' + "".join(body) + "</svg>"
    )


def _rect(x: float, y: float, w: float, h: float, css: str, tip: str) -> str:
    return (
        f'<rect class="{css}" x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}"'
        f' rx="1"><title>{escape(tip)}</title></rect>'
    )


def sparkline(counts: Sequence[int], labels: Sequence[str], *, label: str) -> Markup:
    """Small bars, one per hour; `labels[i]` names bar i in its tooltip.

    >>> str(sparkline([0, 3], ["1h ago", "now"], label="24h")).startswith("<svg")
    True
    """
    width, height, gap = 96, 24, 1
    top = max(counts, default=0) or 1
    step = width / max(len(counts), 1)
    body = [_rect(0, height - 1, width, 1, "base", label)]
    for i, n in enumerate(counts):
        h = 0 if n == 0 else max(2.0, (height - 2) * n / top)
        if h:
            body.append(_rect(i * step, height - 1 - h, step - gap, h, "s0", f"{labels[i]}: {n}"))
    return _svg(width, height, body, label, "spark")


def _ticks(top: float) -> list[float]:
    """Round gridline values from 0 up to `top` (at most about five).

    >>> _ticks(1800)
    [0.0, 500.0, 1000.0, 1500.0]
    """
    if top <= 0:
        return [0.0]
    raw = top / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(magnitude * f for f in (1, 2, 5, 10) if magnitude * f >= raw)
    return [step * i for i in range(int(top / step) + 1)]


class _Frame:
    """The plot area of a chart with axes: maps values to coordinates, draws the grid."""

    left, right, top_pad, bottom = 44, 8, 10, 22

    def __init__(self, width: int, height: int, n: int, top: float, unit: str) -> None:
        self.width, self.height, self.n = width, height, max(n, 1)
        self.top = max(top, 1e-9) * 1.08
        self.unit = unit

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top_pad - self.bottom

    def x(self, i: float) -> float:
        return self.left + self.plot_w * i / self.n

    def y(self, value: float) -> float:
        return self.top_pad + self.plot_h * (1 - value / self.top)

    def grid(self, x_labels: Sequence[str]) -> list[str]:
        out = []
        ticks = _ticks(self.top / 1.08)
        if not self.unit:  # counts: whole numbers only
            ticks = [t for t in ticks if t.is_integer()]
        for tick in ticks:
            y = self.y(tick)
            out.append(
                f'<line class="grid" x1="{self.left}" x2="{self.width - self.right}"'
                f' y1="{_num(y)}" y2="{_num(y)}"/>'
                f'<text class="axis" x="{self.left - 6}" y="{_num(y + 3)}"'
                f' text-anchor="end">{escape(_label(tick, self.unit))}</text>'
            )
        every = max(1, len(x_labels) // 6)
        for i, text in enumerate(x_labels):
            if i % every == 0:
                out.append(
                    f'<text class="axis" x="{_num(self.x(i + 0.5))}" y="{self.height - 6}"'
                    f' text-anchor="middle">{escape(text)}</text>'
                )
        return out


def _label(value: float, unit: str) -> str:
    """An axis label: `1.5 s` for 1500 ms, `20 µs` for 0.02 ms, `12k` for 12000."""
    if unit == "ms" and value >= 1000:
        return f"{_num(value / 1000)} s"
    if unit == "ms" and 0 < value < 1:
        return f"{value * 1000:.3g} µs"
    if value >= 1000:
        return f"{_num(value / 1000)}k"
    return (
        f"{_num(value) if value >= 1 or value == 0 else f'{value:.2g}'}{' ' + unit if unit else ''}"
    )


def bars(
    values: Sequence[int],
    x_labels: Sequence[str],
    *,
    label: str,
    tips: Sequence[str],
    width: int = 460,
) -> Markup:
    """A column chart (the latency histogram): one bar per bucket.

    >>> "rect" in bars([1, 2], ["a", "b"], label="h", tips=["a: 1", "b: 2"])
    True
    """
    frame = _Frame(width, 200, len(values), max(values, default=0), "")
    body = frame.grid(x_labels)
    step = frame.plot_w / frame.n
    for i, n in enumerate(values):
        if n:
            y = frame.y(n)
            body.append(_rect(frame.x(i) + 1, y, step - 2, frame.y(0) - y, "s0", tips[i]))
    return _svg(frame.width, frame.height, body, label, "wide")


def grouped_bars(
    groups: dict[str, Sequence[int]],
    x_labels: Sequence[str],
    *,
    label: str,
    tip_labels: Sequence[str] | None = None,
    width: int = 460,
) -> Markup:
    """Bars side by side in each bucket, one per series (class s{i}), e.g. backend beside browser.

    >>> chart = grouped_bars({"a": [1, 0], "b": [2, 3]}, ["x", "y"], label="g")
    >>> chart.count('class="s1"')
    2
    """
    top = max((v for values in groups.values() for v in values), default=0)
    frame = _Frame(width, 200, len(x_labels), top, "")
    body = frame.grid(x_labels)
    step = frame.plot_w / frame.n
    bar = (step - 4) / max(len(groups), 1)
    for k, (name, values) in enumerate(groups.items()):
        for i, v in enumerate(values):
            if v:
                y = frame.y(v)
                tip = f"{name} · {(tip_labels or x_labels)[i]}: {v}"
                body.append(
                    _rect(frame.x(i) + 2 + k * bar, y, bar - 1, frame.y(0) - y, f"s{k % 6}", tip)
                )
    return _svg(frame.width, frame.height, body, label, "wide")


def stacked_bars(
    stacks: dict[str, Sequence[int]], x_labels: Sequence[str], *, label: str, width: int = 940
) -> Markup:
    """Columns stacked by series (requests per endpoint over time); series i gets class s{i}."""
    n = len(x_labels)
    totals = [sum(s[i] for s in stacks.values()) for i in range(n)]
    frame = _Frame(width, 220, n, max(totals, default=0), "")
    body = frame.grid(x_labels)
    step = frame.plot_w / frame.n
    base = [0] * n
    for k, (name, values) in enumerate(stacks.items()):
        for i, v in enumerate(values):
            if v:
                y1, y0 = frame.y(base[i] + v), frame.y(base[i])
                tip = f"{name} · {x_labels[i]}: {v}"
                body.append(_rect(frame.x(i) + 1, y1, step - 2, y0 - y1, f"s{k % 6}", tip))
                base[i] += v
    return _svg(frame.width, frame.height, body, label, "wide")


def lines(
    series: dict[str, Series],
    x_labels: Sequence[str],
    *,
    label: str,
    unit: str = "",
    width: int = 460,
) -> Markup:
    """Lines over time (p50 / p95 / p99); gaps where a value is None; series i gets s{i}.

    >>> "polyline" in lines({"p50": [1.0, None, 2.0]}, ["a", "b", "c"], label="l")
    True
    """
    values = [v for s in series.values() for v in s if v is not None]
    frame = _Frame(width, 200, len(x_labels), max(values, default=0), unit)
    body = frame.grid(x_labels)
    for k, (name, points) in enumerate(series.items()):
        for run in _runs(points):
            coords = " ".join(f"{_num(frame.x(i + 0.5))},{_num(frame.y(v))}" for i, v in run)
            body.append(f'<polyline class="line s{k % 6}" points="{coords}"/>')
            for i, v in run:
                tip = f"{name} · {x_labels[i]}: {_label(v, unit)}"
                body.append(
                    f'<circle class="dot s{k % 6}" cx="{_num(frame.x(i + 0.5))}"'
                    f' cy="{_num(frame.y(v))}" r="2.5"><title>{escape(tip)}</title></circle>'
                )
    return _svg(frame.width, frame.height, body, label, "wide")


def _runs(points: Series) -> list[list[tuple[int, float]]]:
    """Consecutive non-None points, so a line breaks where there is no data."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(points):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, v))
    return [r for r in runs if r]
