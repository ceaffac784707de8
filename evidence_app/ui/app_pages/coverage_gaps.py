"""Coverage gaps: where and when rows are missing, down to the exact operations."""

import html

import streamlit as st

from evidence_app.formatting import percent
from evidence_app.render import to_csv
from evidence_app.ui import charts, data
from evidence_app.ui.access import download
from evidence_app.ui.components import chart_text, current_view, empty_state, guarded, num, plain, shown, shown_table
from evidence_app.ui.views import OFFERED

# Charts and tables name this many worst operators, tenants or routes by default (the rest: one all-others line).
WORST_SHOWN = 15

# A search by name shows this many matching lines (and how many match).
FOUND_SHOWN = 20
# The drill-down's table shows this many exceptions (the download holds every one).
EXCEPTIONS_SHOWN = 1_000

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
                     key="worst_order")


def caption(view: data.BoundedView, where: str | None) -> None:
    """What the chart or table shows, and where every line is."""
    text = view.caption(where)
    st.caption(plain(text[:1].upper() + text[1:]) + ".")


def heat_rows(view: data.BoundedView) -> list | None:
    """The heat map's rows top to bottom: worst first, all others last (None: every one, sorted)."""
    return [*dict.fromkeys(view.named[view.dimension].dropna()), view.others_label] if view.folded else None


tab_op, tab_route = st.tabs(["Day × operator", "Day × route"])
with tab_op:
    heat_op = guarded(lambda: data.worst(v, ("day", "operator"), "operator", limit, order))
    caption(heat_op, "the download below")
    clicked = st.plotly_chart(charts.heatmap(heat_op.lines, "operator", order=heat_rows(heat_op)), width="stretch",
                              key="heat_operator", on_select="rerun", selection_mode="points")
    points = (clicked.selection.points if clicked and clicked.selection else []) or []
    if points:  # a click on a cell drills down to it (the all-others row is no operator: ignored below)
        st.session_state["drill_day"] = str(points[0]["x"])
        labels = {chart_text(n): n for n in heat_op.lines["operator"].dropna()}  # labels are chart_text, shortened
        st.session_state["drill_operator"] = labels.get(str(points[0]["y"]), html.unescape(str(points[0]["y"])))
with tab_route:
    heat_route = guarded(lambda: data.worst(v, ("day", "route"), "route", limit, order))
    caption(heat_route, None)
    st.plotly_chart(charts.heatmap(heat_route.lines, "route", order=heat_rows(heat_route)), width="stretch",
                    key="heat_route")

st.subheader("By operator, tenant and route")
for tab, dim in zip(st.tabs(["Operators", "Tenants", "Routes"]), ("operator", "tenant", "route")):
    with tab:
        view = guarded(lambda dim=dim: data.worst(v, (dim,), dim, limit, order))
        full = guarded(lambda dim=dim: data.coverage(v, (dim,)))
        caption(view, f"coverage_by_{dim}.csv")
        st.plotly_chart(charts.coverage_bars(view.lines, dim), width="stretch", key=f"bars_{dim}")
        st.dataframe(shown_table(view.lines), hide_index=True, width="stretch", key=f"worst_{dim}")
        query = st.text_input(f"Find {dim}s", key=f"find_{dim}", placeholder=f"Search {num(len(full))} {dim}s by name")
        if query:
            hit = full[full[dim].notna() & full[dim].astype(str).str.contains(query, case=False, regex=False)]
            st.caption(f"{num(len(hit))} {dim}s match" + (f"; the first {FOUND_SHOWN} are shown (every one is in "
                                                           "the download)" if len(hit) > FOUND_SHOWN else "") + ".")
            st.dataframe(shown_table(hit.head(FOUND_SHOWN)), hide_index=True, width="stretch", key=f"found_{dim}")
        download(f"Download every {dim} (CSV)", lambda full=full: to_csv(full).encode("utf-8"),
                 file_name=f"coverage_by_{dim}.csv", mime="text/csv", key=f"dl_by_{dim}", action="csv_download",
                 page="coverage_gaps", rows=len(full))

st.subheader("Drill down")
st.caption("Click a cell of the day × operator heat map, or pick it here: the operations missing and the rows "
           "orphaned or duplicated there.")
c1, c2 = st.columns(2)
days = ["(all days)"] + sorted(str(d) for d in views.by_day["day"])
everyone = views.facets["operator"]
ALL_OPERATORS = "(all operators)"
for key, ok in (("drill_day", lambda d: d in days), ("drill_operator", lambda o: o == ALL_OPERATORS or o in everyone)):
    if not ok(st.session_state.get(key)):  # a stale choice, or the all-others row of the heat map
        st.session_state.pop(key, None)
chosen = st.session_state.get("drill_operator")
operators = [ALL_OPERATORS] + everyone.offered([chosen] if chosen and chosen != ALL_OPERATORS else [])
day = c1.selectbox("Day", days, key="drill_day")
operator = c2.selectbox("Operator", operators, key="drill_operator", format_func=shown, accept_new_options=True,
                        help=f"{num(everyone.count)} operators: the {OFFERED} with most operations are listed, "
                             "type any other exactly as it is named.")
ex = guarded(lambda: data.exceptions(v))
selection = ex
if day != days[0]:
    selection = selection[selection["day"] == day]
if operator != ALL_OPERATORS:
    selection = selection[selection["operator"] == operator]
cell = guarded(lambda: data.cell_totals(v, None if day == days[0] else day,
                                         None if operator == ALL_OPERATORS else operator))
st.markdown(f"**{num(len(selection))} exceptions** in this selection · {num(cell.expected)} operations expected, "
            f"{num(cell.logged)} logged ({percent(cell.coverage_logged)} as logged)")
if len(selection) > EXCEPTIONS_SHOWN:
    st.caption(f"The first {num(EXCEPTIONS_SHOWN)} of {num(len(selection))} are shown; the download below holds "
               "every one.")
st.dataframe(shown_table(selection.head(EXCEPTIONS_SHOWN)), hide_index=True, width="stretch")
download("Download these exceptions (CSV)", lambda: to_csv(selection).encode("utf-8"),
         file_name=f"exceptions_{v.start}_{v.end}.csv", mime="text/csv", key="dl_exceptions", action="csv_download",
         page="coverage_gaps", rows=len(selection), day=day, operator=operator)
download("Download every day × operator cell (CSV)", lambda: to_csv(by_day_op).encode("utf-8"),
         file_name="coverage_by_day_operator.csv", mime="text/csv", key="dl_by_day_operator", action="csv_download",
         page="coverage_gaps", rows=len(by_day_op))
