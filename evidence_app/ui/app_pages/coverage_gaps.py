"""Coverage gaps: where and when rows are missing, down to the exact operations."""

import html

import streamlit as st

from evidence_app.render import to_csv
from evidence_app.ui import charts, data
from evidence_app.ui.access import download
from evidence_app.ui.components import current_view, empty_state, guarded, num, pct

v = current_view()
st.title("Coverage gaps")
by_day_op = guarded(lambda: data.coverage(v, ("day", "operator")))
if by_day_op.empty:
    empty_state("No operations in this period and scope.")
    st.stop()

tab_op, tab_route = st.tabs(["Day × operator", "Day × route"])
with tab_op:
    clicked = st.plotly_chart(charts.heatmap(by_day_op, "operator"), width="stretch", key="heat_operator",
                              on_select="rerun", selection_mode="points")
    points = (clicked.selection.points if clicked and clicked.selection else []) or []
    if points:  # a click on a cell drills down to it
        st.session_state["drill_day"] = str(points[0]["x"])
        st.session_state["drill_operator"] = html.unescape(str(points[0]["y"]))  # labels are chart_text
with tab_route:
    by_day_route = guarded(lambda: data.coverage(v, ("day", "route")))
    st.plotly_chart(charts.heatmap(by_day_route, "route"), width="stretch", key="heat_route")

left, right = st.columns(2)
by_op = guarded(lambda: data.coverage(v, ("operator",)))
by_route = guarded(lambda: data.coverage(v, ("route",)))
left.plotly_chart(charts.coverage_bars(by_op, "operator"), width="stretch")
right.plotly_chart(charts.coverage_bars(by_route, "route"), width="stretch")

st.subheader("Drill down")
st.caption("Click a cell of the day × operator heat map, or pick it here: the operations missing and the rows "
           "orphaned or duplicated there.")
c1, c2 = st.columns(2)
days = ["(all days)"] + sorted(by_day_op["day"].unique())
operators = ["(all operators)"] + sorted(by_day_op["operator"].dropna().unique())
for key, allowed in (("drill_day", days), ("drill_operator", operators)):
    if st.session_state.get(key) not in allowed:  # a stale choice from another period or scope
        st.session_state.pop(key, None)
day = c1.selectbox("Day", days, key="drill_day")
operator = c2.selectbox("Operator", operators, key="drill_operator")
ex = guarded(lambda: data.exceptions(v))
shown = ex
if day != days[0]:
    shown = shown[shown["day"] == day]
if operator != operators[0]:
    shown = shown[shown["operator"] == operator]
cell = by_day_op
if day != days[0]:
    cell = cell[cell["day"] == day]
if operator != operators[0]:
    cell = cell[cell["operator"] == operator]
expected, logged = int(cell["expected"].sum()), int(cell["logged"].sum())
st.markdown(f"**{num(len(shown))} exceptions** in this selection · {num(expected)} operations expected, "
            f"{num(logged)} logged ({pct(logged / expected if expected else None)} as logged)")
st.dataframe(shown, hide_index=True, width="stretch")
download("Download these exceptions (CSV)", lambda: to_csv(shown).encode("utf-8"),
         file_name=f"exceptions_{v.start}_{v.end}.csv", mime="text/csv", key="dl_exceptions", action="csv_download",
         page="coverage_gaps", rows=len(shown), day=day, operator=operator)
with st.expander("Coverage table by operator"):
    st.dataframe(by_op, hide_index=True, width="stretch")
    download("Download (CSV)", lambda: to_csv(by_op).encode("utf-8"), file_name="coverage_by_operator.csv",
             mime="text/csv", key="dl_by_operator", action="csv_download", page="coverage_gaps", rows=len(by_op))
