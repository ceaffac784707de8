"""Overview: one glance says whether the audit trail is complete."""

import streamlit as st

from evidence_app import palette
from evidence_app.formatting import percent
from evidence_app.ui import charts, data
from evidence_app.ui.components import current_view, empty_state, guarded, num, plain

v = current_view()
st.title("Audit-trail completeness")
s = guarded(lambda: data.overview(v))  # computed once per dataset and scope: this page only reads it
t = s.totals
if t.expected == 0:
    empty_state("No operations in this period and scope. Widen the period or clear a filter in the sidebar.")
    st.stop()

if s.complete:
    st.success(f"Complete: all {num(t.expected)} operations have an audit row, and every row belongs to one.")
else:
    st.error(f"Not complete: {num(t.missing)} of {num(t.expected)} operations have no audit row "
             f"({num(t.missing_silent)} silent, {num(t.missing_unprovable)} unprovable from the logs, "
             f"{num(t.missing_pending)} pending replay, "
             f"{num(t.missing_abandoned)} abandoned); {num(s.orphans)} orphan and {num(s.duplicates)} "
             "duplicate rows.")
st.caption(plain(s.log_completeness))

cols = st.columns(6)
cols[0].metric("Coverage as logged", percent(t.coverage_logged))
cols[1].metric("Coverage after replay", percent(t.coverage_after_replay))
cols[2].metric("Operations expected", num(t.expected))
cols[3].metric("Missing", num(t.missing))
cols[4].metric("Orphan rows", num(s.orphans))
cols[5].metric("Duplicate rows", num(s.duplicates))

left, right = st.columns([2, 1])
left.plotly_chart(charts.daily_trend(s.by_day), width="stretch")
right.plotly_chart(charts.states_bar(t), width="stretch")

st.subheader("Controls")
st.caption(f"Judged at {s.as_of:%Y-%m-%d %H:%M} UTC (ages and fixes in force).")


def _colour(value: str) -> str:
    return f"color: {palette.RESULT_COLOURS.get(value, palette.INK)}; font-weight: 600"


st.dataframe(s.controls.style.map(_colour, subset=["result"]), hide_index=True, width="stretch")
