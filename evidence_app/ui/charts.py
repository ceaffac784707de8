"""Plotly figures for the pages: reshaping and drawing only, one colour-blind-safe palette."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from evidence_app import palette
from evidence_app.reconcile import OP_STATES
from evidence_app.reconcile.coverage import Totals
from evidence_app.reconcile.rules import REPLAY_STATES, OpState
from evidence_app.ui.components import chart_text

# Every new figure copies the default template; naming one per figure would copy a second one each time.
pio.templates.default = "plotly_white"
LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), font=dict(size=13),
              legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1))
HEAT = [[stop, colour] for stop, colour in palette.HEAT_SCALE]


def daily_trend(by_day: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for col, name, colour in (("coverage_logged", "as logged", palette.BLUE),
                              ("coverage_after_replay", "after replay", palette.SKY)):
        fig.add_scatter(x=by_day["day"], y=by_day[col].astype(float) * 100, name=name, mode="lines",
                        line=dict(color=colour, width=2), customdata=by_day[["expected", OpState.LOGGED, "missing"]],
                        hovertemplate="%{x}<br>" + name + ": %{y:.2f}%<br>expected %{customdata[0]:,}"
                                      "<br>logged %{customdata[1]:,}<br>missing %{customdata[2]:,}<extra></extra>")
    fig.update_layout(title="Daily coverage", yaxis=dict(title="coverage", ticksuffix="%", range=[0, 101]), **LAYOUT)
    return fig


def states_bar(totals: Totals) -> go.Figure:
    states = list(OP_STATES)
    fig = go.Figure(go.Bar(x=[getattr(totals, s) for s in states], y=states, orientation="h",
                           marker_color=[palette.STATE_COLOURS[s] for s in states],
                           hovertemplate="%{y}: %{x:,}<extra></extra>"))
    fig.update_layout(title="Operations by state", yaxis=dict(autorange="reversed"), **LAYOUT)
    return fig


def heatmap(table: pd.DataFrame, rows: str, value: str = "coverage_logged", order: list | None = None) -> go.Figure:
    """Day × ``rows`` grid, rows sorted or in ``order`` (a bounded view's: worst first, all others last); blank
    where that combination had no operations."""
    order = sorted(table[rows].dropna().unique()) if order is None else order
    grid = table.pivot(index=rows, columns="day", values=value).astype(float).reindex(order) * 100
    expected = table.pivot(index=rows, columns="day", values="expected").reindex(order)
    missing = table.pivot(index=rows, columns="day", values="missing").reindex(order)
    stacked = [[[e, m] for e, m in zip(expected.loc[r].fillna(0), missing.loc[r].fillna(0))] for r in grid.index]
    labels = [chart_text(i) for i in grid.index]
    fig = go.Figure(go.Heatmap(z=grid.values, x=list(grid.columns), y=labels, colorscale=HEAT,
                               zmin=0, zmax=100, xgap=1, ygap=1, customdata=stacked,
                               colorbar=dict(title="coverage", ticksuffix="%"),
                               hovertemplate="%{y} · %{x}<br>coverage %{z:.1f}%<br>expected %{customdata[0]:,}"
                                             "<br>missing %{customdata[1]:,}<extra></extra>"))
    fig.update_layout(title=f"Coverage as logged: day × {rows}", height=max(320, 28 * len(grid.index) + 120),
                      yaxis=dict(autorange="reversed"), **LAYOUT)
    return fig


def coverage_bars(table: pd.DataFrame, dim: str) -> go.Figure:
    fig = go.Figure()
    for col, name, colour in (("coverage_logged", "as logged", palette.BLUE),
                              ("coverage_after_replay", "after replay", palette.SKY)):
        fig.add_bar(y=table[dim].map(chart_text), x=table[col].astype(float) * 100, name=name, orientation="h",
                    marker_color=colour, customdata=table[["expected", "missing"]],
                    hovertemplate="%{y}<br>" + name + " %{x:.2f}%<br>expected %{customdata[0]:,}"
                                  "<br>missing %{customdata[1]:,}<extra></extra>")
    fig.update_layout(title=f"Coverage by {dim}", barmode="group", xaxis=dict(ticksuffix="%", range=[0, 100]),
                      yaxis=dict(autorange="reversed"), height=max(300, 34 * len(table) + 120), **LAYOUT)
    return fig


def failures_over_time(failures: pd.DataFrame) -> go.Figure:
    day = failures["created_at"].dt.strftime("%Y-%m-%d")
    counts = pd.crosstab(day, failures["state"]).reindex(columns=list(REPLAY_STATES), fill_value=0)
    fig = go.Figure()
    for state in REPLAY_STATES:
        fig.add_bar(x=counts.index, y=counts[state], name=state, marker_color=palette.STATE_COLOURS[state],
                    hovertemplate="%{x}<br>" + state + ": %{y}<extra></extra>")
    fig.update_layout(title="Failure events by day of the original operation, by replay state", barmode="stack",
                      **LAYOUT)
    return fig


def latency_histogram(failures: pd.DataFrame) -> go.Figure:
    hours = failures["latency_seconds"].dropna() / 3600
    fig = go.Figure(go.Histogram(x=hours, nbinsx=30, marker_color=palette.BLUE,
                                 hovertemplate="%{x} h: %{y} replays<extra></extra>"))
    fig.update_layout(title="Replay latency (hours from the original operation to the row)",
                      xaxis_title="hours", yaxis_title="replays", **LAYOUT)
    return fig


def error_classes_bar(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Bar(x=table["failures"], y=table["error_class"].map(chart_text), orientation="h",
                           marker_color=palette.ORANGE,
                           hovertemplate="%{y}: %{x:,}<extra></extra>"))
    fig.update_layout(title="Error classes of failed inserts", yaxis=dict(autorange="reversed"), **LAYOUT)
    return fig


def route_progress(lines: pd.DataFrame) -> go.Figure:
    """Failure events per route by replay state, one bar per line of the (bounded) replay-by-route table."""
    fig = go.Figure()
    labels = [chart_text("(none)" if r is None else str(r)) for r in lines["route"]]
    for state in REPLAY_STATES:
        fig.add_bar(y=labels, x=lines[state], name=state, orientation="h",
                    marker_color=palette.STATE_COLOURS[state], hovertemplate="%{y}<br>" + state + ": %{x}<extra></extra>")
    fig.update_layout(title="Replay progress per route", barmode="stack", yaxis=dict(autorange="reversed"),
                      height=max(320, 26 * len(lines) + 120), **LAYOUT)
    return fig


def log_days(by_day: pd.DataFrame) -> go.Figure:
    """Invocations in the logs per day, and the operations no invocation traces (where the logs are silent)."""
    fig = go.Figure()
    fig.add_bar(x=by_day["day"], y=by_day["invocations"], name="invocations", marker_color=palette.BLUE,
                hovertemplate="%{x}: %{y:,} invocations<extra></extra>")
    if "untraced_operations" in by_day:
        fig.add_bar(x=by_day["day"], y=by_day["untraced_operations"], name="operations no invocation traces",
                    marker_color=palette.VERMILLION, hovertemplate="%{x}: %{y:,} untraced<extra></extra>")
    fig.update_layout(title="Worker logs per day", barmode="group", **LAYOUT)
    return fig
