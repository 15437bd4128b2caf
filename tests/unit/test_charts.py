"""`reports.charts`: one bar-chart geometry for the monthly report and the analysis."""

from __future__ import annotations

from letterbox.reports.charts import DEFAULT_COLOUR, bar_chart, count_chart


def test_stacked_bars_scale_to_the_longest_row() -> None:
    chart = bar_chart([("甲", [("on_time", 2), ("late", 2)]), ("乙", [("on_time", 1)])], width=450,
                      label_width=100, colours={"late": "#c62828"}, labels={"late": "逾期"})
    first, second = chart["bars"]
    assert [(s["x"], s["width"]) for s in first["segments"]] == [(100, 150.0), (250.0, 150.0)]
    assert [s["colour"] for s in first["segments"]] == [DEFAULT_COLOUR, "#c62828"]
    assert [s["series"] for s in first["segments"]] == ["on_time", "逾期"]
    assert (first["total"], first["width"], first["end"]) == (4, 300.0, 406.0)
    assert (second["total"], second["width"]) == (1, 75.0)
    assert chart["height"] == 2 * (22 + 8) + 8


def test_count_chart_is_one_series() -> None:
    chart = count_chart([("区城市管理局", 4), ("区教育局", 0)])
    big, empty = chart["bars"]
    assert (big["value"], big["width"], big["y"]) == (4, 640 - 180 - 50, 6)
    assert (empty["value"], empty["width"], empty["segments"]) == (0, 0.0, [])
    assert chart["height"] == 6 + 2 * (20 + 6)
