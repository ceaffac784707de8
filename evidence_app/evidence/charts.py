"""Vector charts for the PDF, drawn with reportlab's own graphics (no browser, no raster)."""

from __future__ import annotations

import pandas as pd
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors

from evidence_app import palette
from evidence_app.evidence.fonts import font_names

FONT = font_names()[0]


def _c(hex_colour: str) -> colors.Color:
    return colors.HexColor(hex_colour)


def _legend(d: Drawing, x_right: float, y: float, items: list[tuple[str, str]]) -> None:
    """A one-line legend ending at x_right: colour swatch + label per series."""
    x = x_right
    for colour, name in reversed(items):
        w = len(name) * 3.6 + 14
        x -= w
        d.add(Rect(x, y, 8, 8, fillColor=_c(colour), strokeColor=None))
        d.add(String(x + 11, y + 1, name, fontName=FONT, fontSize=7))


def operator_bars(table: pd.DataFrame, width: float) -> Drawing:
    """Coverage as logged and after replay per operator (horizontal bars, 0–100 %)."""
    n = max(len(table), 1)
    height = 40 + n * 16
    d = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 115, 22, width - 140, height - 40  # room for "all others (…)"
    rows = table.iloc[::-1]  # first operator at the top
    chart.data = [[(v or 0) * 100 for v in rows["coverage_logged"]],
                  [(v or 0) * 100 for v in rows["coverage_after_replay"]]]
    chart.categoryAxis.categoryNames = [str(o) for o in rows.iloc[:, 0]]
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = FONT, 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 10
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = FONT, 7
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.valueAxis.visibleGrid, chart.valueAxis.gridStrokeColor = True, colors.HexColor("#DDDDDD")
    chart.bars[0].fillColor, chart.bars[1].fillColor = _c(palette.BLUE), _c(palette.SKY)
    chart.bars.strokeColor = None
    chart.barSpacing, chart.groupSpacing = 1, 4
    d.add(chart)
    _legend(d, width - 10, height - 10, [(palette.BLUE, "as logged"), (palette.SKY, "after replay")])
    return d


def daily_trend(by_day: pd.DataFrame, width: float, height: float = 150) -> Drawing:
    """Daily coverage (as logged, after replay) across the period."""
    d = Drawing(width, height)
    if by_day.empty:  # a line needs points: say so instead
        d.add(String(width / 2, height / 2, "No operations in the period: no daily coverage to draw.",
                     fontName=FONT, fontSize=8, textAnchor="middle"))
        return d
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 28, width - 60, height - 50
    xs = list(range(len(by_day)))
    plot.data = [
        [(x, (v or 0) * 100) for x, v in zip(xs, by_day["coverage_logged"])],
        [(x, (v or 0) * 100) for x, v in zip(xs, by_day["coverage_after_replay"])],
    ]
    plot.lines[0].strokeColor, plot.lines[1].strokeColor = _c(palette.BLUE), _c(palette.SKY)
    plot.lines[0].strokeWidth = plot.lines[1].strokeWidth = 1.2
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 100, 20
    plot.yValueAxis.labelTextFormat = "%d%%"
    plot.yValueAxis.labels.fontName = plot.xValueAxis.labels.fontName = FONT
    plot.yValueAxis.labels.fontSize = plot.xValueAxis.labels.fontSize = 7
    plot.yValueAxis.visibleGrid, plot.yValueAxis.gridStrokeColor = True, colors.HexColor("#DDDDDD")
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, max(len(xs) - 1, 1)
    step = max(len(xs) // 6, 1)
    plot.xValueAxis.valueSteps = xs[::step]
    days = list(by_day["day"])
    plot.xValueAxis.labelTextFormat = lambda x: days[int(x)][5:] if 0 <= int(x) < len(days) else ""
    d.add(plot)
    _legend(d, width - 10, height - 12, [(palette.BLUE, "as logged"), (palette.SKY, "after replay")])
    return d


def heat_colour(value: float | None) -> colors.Color:
    """Map a coverage ratio onto the shared sequential scale; None (no operations) is white."""
    if value is None or pd.isna(value):
        return colors.white
    stops = palette.HEAT_SCALE
    for (lo, c_lo), (hi, c_hi) in zip(stops, stops[1:]):
        if value <= hi:
            f = 0 if hi == lo else (value - lo) / (hi - lo)
            return colors.linearlyInterpolatedColor(_c(c_lo), _c(c_hi), 0, 1, f)
    return _c(stops[-1][1])


def heatmap(table: pd.DataFrame, width: float, value: str = "coverage_logged",
            operators: list[str] | None = None) -> Drawing:
    """Day × operator grid of coverage; blank cells had no operations. ``operators`` gives the rows top to bottom
    (default: every operator, sorted)."""
    operators = sorted(table["operator"].dropna().unique()) if operators is None else operators
    days = sorted(table["day"].unique())
    label_w, top, bottom = 100, 14, 40  # room for "all others (4,985 operators)"
    cell_h = 11
    height = top + bottom + cell_h * len(operators)
    d = Drawing(width, height)
    if not days or not operators:
        return d
    cell_w = (width - label_w - 4) / len(days)
    lookup = {(r.day, r.operator): getattr(r, value) for r in table.itertuples()}
    for i, op in enumerate(operators):
        y = height - top - (i + 1) * cell_h
        d.add(String(label_w - 4, y + 3, str(op), fontName=FONT, fontSize=6.5, textAnchor="end"))
        for j, day in enumerate(days):
            v = lookup.get((day, op))
            d.add(Rect(label_w + j * cell_w, y, cell_w, cell_h, fillColor=heat_colour(v),
                       strokeColor=colors.white, strokeWidth=0.2))
    base = height - top - len(operators) * cell_h
    for j in range(0, len(days), max(len(days) // 6, 1)):
        x = label_w + j * cell_w
        d.add(Line(x, base, x, base - 3, strokeWidth=0.4))
        d.add(String(x, base - 11, days[j][5:], fontName=FONT, fontSize=6.5, textAnchor="middle"))
    # legend
    for k in range(11):
        v = k / 10
        d.add(Rect(label_w + k * 18, 4, 18, 8, fillColor=heat_colour(v), strokeColor=None))
    d.add(String(label_w - 4, 5, "coverage", fontName=FONT, fontSize=6.5, textAnchor="end"))
    d.add(String(label_w, 14, "0%", fontName=FONT, fontSize=6))
    d.add(String(label_w + 11 * 18, 14, "100%", fontName=FONT, fontSize=6, textAnchor="end"))
    d.add(String(label_w + 11 * 18 + 8, 5, "white: no operations that day", fontName=FONT, fontSize=6.5))
    return d
