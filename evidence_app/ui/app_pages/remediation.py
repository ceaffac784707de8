"""Remediation & accuracy: did the fix work on every route, and are the rows that landed right?"""

import streamlit as st

from evidence_app.ui import data
from evidence_app.ui.components import current_view, empty_state, guarded, num, plain

v = current_view()
st.title("Remediation & accuracy")
s = guarded(lambda: data.summary(v))
routes = s.remediation

cols = st.columns(5)
cols[0].metric("Routes swept", num(s.routes_with_status("swept")))
cols[1].metric("Routes not swept", num(s.routes_with_status("not_swept")))
cols[2].metric("Routes unknown", num(s.routes_with_status("unknown")))
cols[3].metric("Silent drops after the fix", num(s.silent_after_fix))
cols[4].metric("Replayed within SLA", f"{num(s.replayed_within_sla)} of {num(s.failures_in_period)}")
cols = st.columns(5)
cols[0].metric("Inaccurate rows", num(s.inaccurate))
cols[1].metric("Incomplete rows", num(s.incomplete))
st.caption(f"Fix times judged at {v.as_of:%Y-%m-%d %H:%M} UTC · a route is swept when it has an effective fix time "
           "and no operation after it was dropped silently.")

if routes.empty:
    empty_state("No operations or failure events in this period and scope.")
    st.stop()

not_swept = routes[routes["status"] == "not_swept"]
if len(not_swept):
    st.error(f"Not swept: {plain(', '.join(str(r) if r is not None else '(no route)' for r in not_swept['route']))} — "
             "operations there were dropped silently after the fix time (or no fix time is known).")
st.subheader("Per route")
st.dataframe(routes, hide_index=True, width="stretch", key="remediation_routes")

st.subheader("Inaccurate and incomplete audit rows")
exceptions = guarded(lambda: data.exceptions(v))
findings = exceptions[exceptions["kind"].isin(["inaccurate", "incomplete"])]
if findings.empty:
    empty_state("Every audit row that landed is accurate and complete.")
else:
    st.dataframe(findings, hide_index=True, width="stretch", key="remediation_findings")
