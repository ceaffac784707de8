"""Plotly figures for the pages: reshaping and drawing only, one colour-blind-safe palette."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from evidence_app import palette
from evidence_app.reconcile import OP_STATES
from evidence_app.reconcile.coverage import Totals
from evidence_app.reconcile.rules import REPLAY_STATES, OpState
from evidence_app.formatting import duration, percent
from evidence_app.ui.components import chart_text, shown
from evidence_app.ui.words import word

# Every new figure copies the default template; naming one per figure would copy a second one each time.
pio.templates.default = "plotly_white"
# The title sits at the top of the figure, the legend in one row between it and the plot (never over the title).
LAYOUT = dict(margin=dict(l=10, r=10, t=84, b=10), font=dict(size=13),
              title=dict(y=0.98, yanchor="top", yref="container", x=0.01, xanchor="left", xref="container"),
              legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0))
HEAT = [[stop, colour] for stop, colour in palette.HEAT_SCALE]


def daily_trend(by_day: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for col, name, colour in (("coverage_logged", "as logged", palette.BLUE),
                              ("coverage_after_replay", "after replay", palette.SKY)):
        fig.add_scatter(x=by_day["day"], y=by_day[col].astype(float) * 100, name=name, mode="lines",
                        line=dict(color=colour, width=2), customdata=by_day[["expected", OpState.LOGGED, "missing"]],
                        hovertemplate="%{x}<br>" + name + ": %{y:.2f}%<br>expected %{customdata[0]:,}"
                                      "<br>logged %{customdata[1]:,}<br>missing %{customdata[2]:,}<extra></extra>")
    fig.update_layout(yaxis=dict(title="coverage", ticksuffix="%", range=[0, 101]), **LAYOUT)
    fig.update_layout(title_text="Daily coverage")
    return fig


def states_bar(totals: Totals) -> go.Figure:
    states = list(OP_STATES)
    fig = go.Figure(go.Bar(x=[getattr(totals, s) for s in states], y=[word(s) for s in states], orientation="h",
                           marker_color=[palette.STATE_COLOURS[s] for s in states],
                           text=[f"{getattr(totals, s):,}" for s in states], textposition="auto",
                           hovertemplate="%{y}: %{x:,}<extra></extra>"))
    fig.update_layout(yaxis=dict(autorange="reversed"), **LAYOUT)
    fig.update_layout(title_text="Operations by state")
    return fig


def states_summary(totals: Totals) -> str:
    """The states bar in one sentence."""
    return "Operations by state: " + ", ".join(f"{word(s)} {getattr(totals, s):,}" for s in OP_STATES) + "."


def trend_summary(by_day: pd.DataFrame) -> str:
    """The daily trend in one sentence: its days, and the lowest day of each line."""
    if by_day.empty:
        return "Daily coverage: no days with operations."
    parts = []
    for col, name in (("coverage_logged", "as logged"), ("coverage_after_replay", "after replay")):
        values = by_day[col].astype(float)
        if values.notna().any():
            low = values.idxmin()
            parts.append(f"lowest {name} {percent(values[low])} on {by_day['day'][low]}")
    return (f"Daily coverage over {len(by_day):,} days with operations ({by_day['day'].iloc[0]} to "
            f"{by_day['day'].iloc[-1]}): " + "; ".join(parts) + ".")


HEAT_VALUES = {"coverage_logged": "Coverage as logged", "coverage_after_replay": "Coverage after replay"}
"""What a heat map may colour its cells by, with the words of its title."""


def heatmap(table: pd.DataFrame, rows: str, value: str = "coverage_logged", order: list | None = None,
            ordered_by: str | None = None) -> go.Figure:
    """Day × ``rows`` grid of ``value`` (:data:`HEAT_VALUES`), rows sorted or in ``order`` (a bounded view's: worst
    first, all others last, ``ordered_by`` saying how); blank where that combination had no operations."""
    order = sorted(table[rows].dropna().unique()) if order is None else order
    grid = table.pivot(index=rows, columns="day", values=value).astype(float).reindex(order) * 100
    expected = table.pivot(index=rows, columns="day", values="expected").reindex(order)
    missing = table.pivot(index=rows, columns="day", values="missing").reindex(order)
    stacked = [[[e, m] for e, m in zip(expected.loc[r].fillna(0), missing.loc[r].fillna(0))] for r in grid.index]
    labels = [chart_text(i) for i in grid.index]
    what = HEAT_VALUES[value]
    days = [str(d) for d in grid.columns]
    fig = go.Figure(go.Heatmap(z=grid.values, x=days, y=labels, colorscale=HEAT, zmin=0, zmax=100, xgap=1, ygap=1,
                               colorbar=dict(title=what.lower().replace(" ", "<br>", 1), ticksuffix="%"),
                               hoverinfo="skip"))
    fig.add_trace(_cell_targets(grid, days, labels, stacked, what))
    fig.update_layout(height=max(320, 28 * len(grid.index) + 140), yaxis=dict(autorange="reversed"),
                      xaxis=dict(type="category"), plot_bgcolor="#FFFFFF", showlegend=False, **LAYOUT)
    fig.update_layout(title_text=f"{what}, day × {rows}" + (" (worst first)" if ordered_by else ""))
    return fig


def _cell_targets(grid: pd.DataFrame, days: list[str], labels: list[str], stacked: list, what: str) -> go.Scatter:
    """One invisible marker on every cell with operations: Plotly selects points of a scatter, never of a heat
    map, so these carry the hover text and make a click select its cell (outlined once selected)."""
    xs, ys, z, custom = [], [], [], []
    for i, label in enumerate(labels):
        for j, day in enumerate(days):
            if not pd.isna(grid.iat[i, j]):
                xs.append(day), ys.append(label), z.append(grid.iat[i, j]), custom.append([*stacked[i][j], z[-1]])
    return go.Scatter(x=xs, y=ys, mode="markers", customdata=custom, name="cells",
                      marker=dict(symbol="square-open", size=3, color=palette.INK, opacity=0,
                                  line=dict(width=2, color=palette.INK)),
                      selected=dict(marker=dict(opacity=1, size=12)), unselected=dict(marker=dict(opacity=0)),
                      hovertemplate="%{y} · %{x}<br>" + what.lower() + " %{customdata[2]:.1f}%<br>expected "
                                    "%{customdata[0]:,}<br>missing %{customdata[1]:,}<extra></extra>")


def coverage_bars(table: pd.DataFrame, dim: str, ordered_by: str | None = None) -> go.Figure:
    """Coverage as logged and after replay per line of a (bounded) table, top to bottom as the table lists them."""
    fig = go.Figure()
    for col, name, colour in (("coverage_logged", "as logged", palette.BLUE),
                              ("coverage_after_replay", "after replay", palette.SKY)):
        fig.add_bar(y=table[dim].map(chart_text), x=table[col].astype(float) * 100, name=name, orientation="h",
                    marker_color=colour, customdata=table[["expected", "missing"]],
                    hovertemplate="%{y}<br>" + name + " %{x:.2f}%<br>expected %{customdata[0]:,}"
                                  "<br>missing %{customdata[1]:,}<extra></extra>")
    fig.update_layout(barmode="group", xaxis=dict(ticksuffix="%", range=[0, 100]),
                      yaxis=dict(autorange="reversed", type="category"),  # as listed: worst first, never by date
                      height=max(300, 34 * len(table) + 140), **LAYOUT)
    fig.update_layout(title_text=f"Coverage by {dim}" + (" (worst first)" if ordered_by else ""))
    return fig


def bars_summary(table: pd.DataFrame, dim: str) -> str:
    """The coverage bars in one sentence: the first (worst) lines."""
    first = "; ".join(f"{shown(r[dim])} {percent(r['coverage_after_replay'])} after replay, "
                      f"{percent(r['coverage_logged'])} as logged ({r['missing']:,} missing)"
                      for _, r in table.head(3).iterrows())
    return f"Coverage by {dim}, {len(table):,} lines, worst first: {first or 'none'}."


def failures_by_day(failures: pd.DataFrame) -> pd.DataFrame:
    """Failure events per day of the original operation (index ``day``) and replay state (a column each)."""
    day = failures["created_at"].dt.strftime("%Y-%m-%d").rename("day")
    return pd.crosstab(day, failures["state"]).reindex(columns=list(REPLAY_STATES), fill_value=0).rename_axis(
        columns=None)


def failures_over_time(counts: pd.DataFrame) -> go.Figure:
    """:func:`failures_by_day` as stacked bars, each state with its colour and its fill pattern."""
    fig = go.Figure()
    for state in REPLAY_STATES:
        fig.add_bar(x=counts.index, y=counts[state], name=word(state), marker_color=palette.STATE_COLOURS[state],
                    marker_pattern_shape=palette.STATE_PATTERNS[state],
                    hovertemplate="%{x}<br>" + word(state) + ": %{y}<extra></extra>")
    fig.update_layout(barmode="stack", **LAYOUT)
    fig.update_layout(title_text="Failure events by day and replay state")
    return fig


def failures_summary(counts: pd.DataFrame) -> str:
    """The failures-by-day chart in one sentence."""
    totals = ", ".join(f"{word(s)} {int(counts[s].sum()):,}" for s in REPLAY_STATES)
    return f"Failure events over {len(counts):,} days: {totals}."


def latency_histogram(failures: pd.DataFrame) -> go.Figure:
    hours = failures["latency_seconds"].dropna() / 3600
    fig = go.Figure(go.Histogram(x=hours, nbinsx=30, marker_color=palette.BLUE,
                                 hovertemplate="%{x} h: %{y} replays<extra></extra>"))
    fig.update_layout(xaxis_title="hours", yaxis_title="replays", **LAYOUT)
    fig.update_layout(title_text="Replay latency (hours)")
    return fig


def latency_summary(failures: pd.DataFrame) -> str:
    """The latency histogram in one sentence."""
    lat = failures["latency_seconds"].dropna()
    if lat.empty:
        return "Replay latency: no replayed failure event."
    return (f"Replay latency of {len(lat):,} replayed failure events: shortest {duration(lat.min())}, median "
            f"{duration(lat.median())}, longest {duration(lat.max())}.")


def error_classes_bar(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Bar(x=table["failures"], y=table["error_class"].map(chart_text), orientation="h",
                           marker_color=palette.ORANGE,
                           hovertemplate="%{y}: %{x:,}<extra></extra>"))
    fig.update_layout(yaxis=dict(autorange="reversed"), **LAYOUT)
    fig.update_layout(title_text="Error classes of failed inserts")
    return fig


def error_classes_summary(table: pd.DataFrame) -> str:
    """The error-classes chart in one sentence."""
    if table.empty:
        return "Error classes: no failed insert."
    return "Failed inserts by error class: " + ", ".join(
        f"{c} {int(n):,}" for c, n in zip(table["error_class"], table["failures"])) + "."


def route_progress(lines: pd.DataFrame) -> go.Figure:
    """Failure events per route by replay state, one bar per line of the (bounded) replay-by-route table."""
    fig = go.Figure()
    labels = [chart_text("(none)" if r is None else str(r)) for r in lines["route"]]
    for state in REPLAY_STATES:
        fig.add_bar(y=labels, x=lines[state], name=word(state), orientation="h",
                    marker_color=palette.STATE_COLOURS[state], marker_pattern_shape=palette.STATE_PATTERNS[state],
                    hovertemplate="%{y}<br>" + word(state) + ": %{x}<extra></extra>")
    fig.update_layout(barmode="stack", yaxis=dict(autorange="reversed"), height=max(320, 26 * len(lines) + 140),
                      **LAYOUT)
    fig.update_layout(title_text="Replay progress per route")
    return fig


def log_days(by_day: pd.DataFrame) -> go.Figure:
    """Invocations in the logs per day, and the operations no invocation traces (where the logs are silent)."""
    fig = go.Figure()
    fig.add_bar(x=by_day["day"], y=by_day["invocations"], name="invocations", marker_color=palette.BLUE,
                hovertemplate="%{x}: %{y:,} invocations<extra></extra>")
    if "untraced_operations" in by_day:
        fig.add_bar(x=by_day["day"], y=by_day["untraced_operations"], name="operations no invocation traces",
                    marker_color=palette.VERMILLION, hovertemplate="%{x}: %{y:,} untraced<extra></extra>")
    fig.update_layout(barmode="group", **LAYOUT)
    fig.update_layout(title_text="Worker logs per day")
    return fig


def log_days_summary(by_day: pd.DataFrame) -> str:
    """The Worker-logs-per-day chart in one sentence."""
    text = f"Worker logs over {len(by_day):,} days: {int(by_day['invocations'].sum()):,} invocations"
    if "untraced_operations" in by_day:
        text += f", {int(by_day['untraced_operations'].sum()):,} operations no invocation traces"
    return text + "."
