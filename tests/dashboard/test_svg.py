"""Charts drawn as SVG on the server: labels escaped, one mark per value, gaps where no data."""

from __future__ import annotations

from inferwatch.dashboard import _svg

HOSTILE = '</title><script>alert(1)</script>"'


def test_every_label_and_tooltip_is_escaped() -> None:
    charts = [
        _svg.sparkline([1, 2], [HOSTILE, HOSTILE], label=HOSTILE),
        _svg.bars([1, 2], [HOSTILE, "b"], label=HOSTILE, tips=[HOSTILE, HOSTILE]),
        _svg.stacked_bars({HOSTILE: [1, 2]}, [HOSTILE, "b"], label=HOSTILE),
        _svg.grouped_bars({HOSTILE: [1, 2]}, [HOSTILE, "b"], label=HOSTILE),
        _svg.lines({HOSTILE: [1.0, 2.0]}, [HOSTILE, "b"], label=HOSTILE, unit="ms"),
    ]
    for chart in charts:
        assert "<script>" not in chart and "&lt;script&gt;" in chart
        assert 'aria-label="&lt;/title&gt;' in chart


def test_a_sparkline_draws_one_bar_per_hour_with_events() -> None:
    chart = _svg.sparkline([0, 3, 0, 1], ["a", "b", "c", "d"], label="24h")
    assert chart.count('class="s0"') == 2
    assert "<title>b: 3</title>" in chart


def test_a_line_breaks_where_there_is_no_data() -> None:
    chart = _svg.lines({"p50": [1.0, None, 2.0, 3.0]}, ["a", "b", "c", "d"], label="l")
    assert chart.count("<polyline") == 2


def test_stacks_put_each_series_in_its_own_colour() -> None:
    chart = _svg.stacked_bars({"GET /a": [1, 0], "POST /b": [2, 2]}, ["t0", "t1"], label="s")
    assert chart.count('class="s0"') == 1 and chart.count('class="s1"') == 2
    assert "<title>POST /b · t1: 2</title>" in chart


def test_grouped_bars_put_each_series_beside_the_other() -> None:
    chart = _svg.grouped_bars({"backend": [1, 0], "browser": [2, 3]}, ["50ms", "1s"], label="h")
    assert chart.count('class="s0"') == 1 and chart.count('class="s1"') == 2
    assert "<title>browser · 1s: 3</title>" in chart


def test_an_axis_below_a_millisecond_is_labelled_in_microseconds() -> None:
    chart = _svg.lines({"p50": [0.012, 0.018]}, ["a", "b"], label="l", unit="ms")
    assert "µs</text>" in chart and "0.0" not in chart.split("<polyline")[0]
