"""Geometry of horizontal bar charts drawn as inline SVG by the report templates.

One shape for every chart: rows of (label, [(series, value), ...]) stacked left to right, all
scaled to the longest row. A chart with one series (the analysis's counts) is the same chart
with one segment per bar; each bar then also carries that segment's ``width`` and ``value``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_COLOUR = "#1565c0"


def bar_chart(rows: Sequence[tuple[str, Sequence[tuple[str, int]]]], *,
              colours: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
              width: int = 640, label_width: int = 200, bar_height: int = 22,
              gap: int = 8) -> dict[str, Any]:
    """Geometry of a horizontal stacked bar chart: rows of (label, [(series, value)]).

    ``colours`` and ``labels``: colour and shown name per series (default: blue, the key)."""
    colours = colours or {}
    labels = labels or {}
    top = max((sum(v for _, v in parts) for _, parts in rows), default=0) or 1
    plot = width - label_width - 50
    bars = []
    for i, (label, parts) in enumerate(rows):
        y = i * (bar_height + gap) + gap
        x: float = label_width
        segments = []
        for series, value in parts:
            w = round(plot * value / top, 1)
            if value:
                segments.append({"x": x, "width": w, "colour": colours.get(series, DEFAULT_COLOUR),
                                 "series": labels.get(series, series), "value": value})
            x += w
        total = sum(v for _, v in parts)
        bars.append({"label": label, "y": y, "text_y": y + bar_height * 0.7,
                     "segments": segments, "total": total, "value": total,
                     "width": round(x - label_width, 1), "end": x + 6})
    height = len(rows) * (bar_height + gap) + gap
    return {"width": width, "height": height, "label_width": label_width,
            "bar_height": bar_height, "bars": bars}


def count_chart(rows: Sequence[tuple[str, int]], *, width: int = 640, label_width: int = 180,
                bar_height: int = 20, gap: int = 6) -> dict[str, Any]:
    """A one-series chart of (label, count) rows: `bar_chart` with one segment per bar."""
    return bar_chart([(label, [("count", value)]) for label, value in rows], width=width,
                     label_width=label_width, bar_height=bar_height, gap=gap)
