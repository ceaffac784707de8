"""Overview: one glance says whether the audit trail is complete."""

import streamlit as st

from evidence_app.formatting import percent
from evidence_app.ui import charts, data
from evidence_app.ui.components import chart, current_view, empty_state, guarded, num, plain
from evidence_app.ui.words import RESULT_MARKS, for_people, result_text

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
st.caption(plain(s.log_completeness, None))  # our own sentence: whole, never shortened

if guarded(lambda: data.shows_whole_data(v)):  # the span counts every tenant's records
    if s.span_warning:
        st.warning(plain(s.span_warning, None), icon=":material/warning:")
    st.markdown(f"**Data in {v.start} – {v.end}:** {plain(s.span_text, None)}")

cols = st.columns(3)
cols[0].metric("Coverage as logged", percent(t.coverage_logged),
               help="Operations with a live audit row ÷ operations expected.")
cols[1].metric("Coverage after replay", percent(t.coverage_after_replay),
               help="Operations with a live, replayed or backfilled audit row ÷ operations expected.")
cols[2].metric("Operations expected", num(t.expected), help="Operations in the operations store in this period.")
cols = st.columns(3)
cols[0].metric("Missing", num(t.missing), help="Operations without any audit row.")
cols[1].metric("Orphan rows", num(s.orphans), help="Audit rows that match no operation.")
cols[2].metric("Duplicate rows", num(s.duplicates), help="Further audit rows for an operation already covered.")

left, right = st.columns([3, 2])
with left:
    chart(charts.daily_trend(s.by_day), plain(charts.trend_summary(s.by_day)),
          for_people(s.by_day, ratios=["coverage_logged", "coverage_after_replay"]), key="daily_trend")
with right:
    chart(charts.states_bar(t), plain(charts.states_summary(t)), key="states_bar")

st.header("Controls")
st.caption(f"Judged at {s.as_of:%Y-%m-%d %H:%M} UTC (ages and fixes in force). Each result carries its sign: "
           + ", ".join(result_text(r) for r in RESULT_MARKS) + ".")
controls = s.controls.assign(result=s.controls["result"].map(result_text))
st.table(for_people(controls).set_index("Control"))
