"""Coverage gaps: where and when rows are missing, down to the exact operations."""

import html

import streamlit as st

from evidence_app.formatting import counted, percent
from evidence_app.render import to_csv
from evidence_app.ui import charts, data
from evidence_app.ui.access import download
from evidence_app.ui.components import (
    chart,
    chart_text,
    current_view,
    empty_state,
    guarded,
    num,
    plain,
    shown,
    shown_table,
)
from evidence_app.ui.views import OFFERED
from evidence_app.ui.words import coverage_for_people, exceptions_for_people

# Charts and tables name this many worst operators, tenants, routes or days by default (the rest: one line).
WORST_SHOWN = 15
# A search by name shows this many matching lines (and how many match).
FOUND_SHOWN = 20
# The drill-down's table shows this many exceptions (the download holds every one).
EXCEPTIONS_SHOWN = 1_000
ALL_DAYS, ALL_OPERATORS = "(all days)", "(all operators)"
# The last heat-map click applied to the drill-down (a later pick by keyboard is not undone by the same click).
APPLIED_CLICK = "heat_operator_applied"
EMPTY_CELLS = ("A blank cell means that operator had no operation that day: nothing was expected, so there is no "
               "coverage to show (not a gap).")

v = current_view()
st.title("Coverage gaps")
views = guarded(lambda: data.overview(v))  # the scope's filter values and days, computed once per dataset
by_day_op = guarded(lambda: data.coverage(v, ("day", "operator")))
if by_day_op.empty:
    empty_state("No operations in this period and scope.")
    st.stop()

c1, c2 = st.columns(2)
limit = int(c1.number_input("Worst lines shown", min_value=1, max_value=200, value=WORST_SHOWN, step=5,
                            key="worst_limit", help="The rest is summed into one 'all others' line."))
order = c2.selectbox("Worst by", list(data.ORDERINGS), format_func=lambda o: data.ORDERINGS[o].removeprefix("by "),
                     key="worst_order", help="Every chart and table below lists its worst lines first this way.")
order_words = data.ORDERINGS[order]
# The heat maps colour what the ordering ranks: coverage as logged, else coverage after replay.
heat_value = "coverage_logged" if order == "coverage_logged" else "coverage_after_replay"


def caption(view: data.BoundedView, where: str | None) -> None:
    """What the chart or table shows, and where every line is."""
    text = view.caption(where)
    st.caption(plain(text[:1].upper() + text[1:]) + ".")


def heat_rows(view: data.BoundedView) -> list:
    """The heat map's rows top to bottom: worst first, all others last."""
    rows = list(dict.fromkeys(view.named[view.dimension].dropna()))
    return [*rows, view.others_label] if view.folded else rows


def heat_summary(view: data.BoundedView) -> str:
    """The heat map in one sentence: its worst cells."""
    cells = view.named.dropna(subset=[heat_value]).sort_values([heat_value, "missing"], ascending=[True, False])
    worst = "; ".join(f"{shown(r[view.dimension])} on {r['day']}: {percent(r[heat_value])} of {r['expected']:,}"
                      for _, r in cells.head(3).iterrows())
    return plain(f"{charts.HEAT_VALUES[heat_value]} by day and {view.dimension}; lowest cells: {worst or 'none'}.")


def apply_click(clicked: object, view: data.BoundedView) -> None:
    """A click on a heat-map cell picks its day and operator below (once per click; the all-others row is no
    operator and is ignored)."""
    points = (clicked.selection.points if clicked and clicked.selection else []) or []
    if not points:
        st.session_state.pop(APPLIED_CLICK, None)
        return
    cell = (str(points[0]["x"]), str(points[0]["y"]))
    if st.session_state.get(APPLIED_CLICK) == cell:
        return
    st.session_state[APPLIED_CLICK] = cell
    labels = {chart_text(n): n for n in view.named["operator"].dropna()}  # labels are chart_text, shortened
    st.session_state["drill_day"] = cell[0]
    st.session_state["drill_operator"] = labels.get(cell[1], html.unescape(cell[1]))


def drill_down() -> None:
    """The exceptions of one day and operator (or all of either), picked by a click on the map or here."""
    days = [ALL_DAYS] + sorted(str(d) for d in views.by_day["day"])
    everyone = views.facets["operator"]
    for key, ok in (("drill_day", lambda d: d in days),
                    ("drill_operator", lambda o: o == ALL_OPERATORS or o in everyone)):
        if not ok(st.session_state.get(key)):  # a stale choice, or the all-others row of the heat map
            st.session_state.pop(key, None)
    st.subheader("Drill down: one day and operator")
    st.caption("Click a cell of the heat map above, or pick the day and operator here (reachable by keyboard): "
               "the operations missing and the rows orphaned or duplicated there.")
    chosen = st.session_state.get("drill_operator")
    operators = [ALL_OPERATORS] + everyone.offered([chosen] if chosen and chosen != ALL_OPERATORS else [])
    c1, c2 = st.columns(2)
    day = c1.selectbox("Day", days, key="drill_day")
    operator = c2.selectbox("Operator", operators, key="drill_operator", format_func=shown, accept_new_options=True,
                            help=f"{num(everyone.count)} operators: the {OFFERED} with most operations are listed, "
                                 "type any other exactly as it is named.")
    ex = guarded(lambda: data.exceptions(v))
    selection = ex
    if day != ALL_DAYS:
        selection = selection[selection["day"] == day]
    if operator != ALL_OPERATORS:
        selection = selection[selection["operator"] == operator]
    cell = guarded(lambda: data.cell_totals(v, None if day == ALL_DAYS else day,
                                             None if operator == ALL_OPERATORS else operator))
    st.markdown(f"**{plain(operator)} · {plain(day)}: {counted(len(selection), 'exception')}** in this selection · "
                f"{num(cell.expected)} operations expected, {num(cell.logged)} logged ({percent(cell.coverage_logged)} "
                "as logged)")
    if len(selection) > EXCEPTIONS_SHOWN:
        st.caption(f"The first {num(EXCEPTIONS_SHOWN)} of {num(len(selection))} are shown; the download below holds "
                   "every one.")
    st.dataframe(shown_table(exceptions_for_people(selection.head(EXCEPTIONS_SHOWN))), hide_index=True,
                 width="stretch", key="drill_table")
    download("Download these exceptions (CSV)", lambda: to_csv(selection).encode("utf-8"),
             file_name=f"exceptions_{v.start}_{v.end}.csv", mime="text/csv", key="dl_exceptions",
             action="csv_download", page="coverage_gaps", rows=len(selection), day=day, operator=operator)


st.header("By day")
tab_op, tab_route = st.tabs(["Day × operator", "Day × route"])
with tab_op:
    heat_op = guarded(lambda: data.worst(v, ("day", "operator"), "operator", limit, order))
    caption(heat_op, "the download below")
    clicked = chart(charts.heatmap(heat_op.lines, "operator", heat_value, heat_rows(heat_op), order_words),
                    heat_summary(heat_op), key="heat_operator", on_select="rerun", selection_mode="points")
    st.caption(EMPTY_CELLS)
    apply_click(clicked, heat_op)
    drill_down()
with tab_route:
    heat_route = guarded(lambda: data.worst(v, ("day", "route"), "route", limit, order))
    caption(heat_route, None)
    chart(charts.heatmap(heat_route.lines, "route", heat_value, heat_rows(heat_route), order_words),
          heat_summary(heat_route), key="heat_route")
    st.caption(EMPTY_CELLS.replace("that operator", "that route"))

st.header("Worst operators, tenants, routes and days")
for tab, dim in zip(st.tabs(["Operators", "Tenants", "Routes", "Days"]), ("operator", "tenant", "route", "day")):
    with tab:
        view = guarded(lambda dim=dim: data.worst(v, (dim,), dim, limit, order))
        full = guarded(lambda dim=dim: data.coverage(v, (dim,)))
        caption(view, f"coverage_by_{dim}.csv")
        lines = view.lines.assign(**{dim: view.lines[dim].astype(str)}) if dim == "day" else view.lines
        chart(charts.coverage_bars(lines, dim, order_words), plain(charts.bars_summary(lines, dim)),
              key=f"bars_{dim}")
        st.dataframe(shown_table(coverage_for_people(view.lines, dim)),
                     hide_index=True, width="stretch", key=f"worst_{dim}")
        query = st.text_input(f"Find {dim}s", key=f"find_{dim}", placeholder=f"Search {num(len(full))} {dim}s by name")
        if query:
            hit = full[full[dim].notna() & full[dim].astype(str).str.contains(query, case=False, regex=False)]
            st.caption(f"{counted(len(hit), dim)} match{'es' if len(hit) == 1 else ''}" + (f"; the first {FOUND_SHOWN} are shown (every one is in "
                                                           "the download)" if len(hit) > FOUND_SHOWN else "") + ".")
            st.dataframe(shown_table(coverage_for_people(hit.head(FOUND_SHOWN), dim)),
                         hide_index=True, width="stretch", key=f"found_{dim}")
        download(f"Download every {dim} (CSV)", lambda full=full: to_csv(full).encode("utf-8"),
                 file_name=f"coverage_by_{dim}.csv", mime="text/csv", key=f"dl_by_{dim}", action="csv_download",
                 page="coverage_gaps", rows=len(full))

download("Download every day × operator cell (CSV)", lambda: to_csv(by_day_op).encode("utf-8"),
         file_name="coverage_by_day_operator.csv", mime="text/csv", key="dl_by_day_operator", action="csv_download",
         page="coverage_gaps", rows=len(by_day_op))
