"""Remediation & accuracy: did the fix work on every route, and are the rows that landed right?"""

import streamlit as st

from evidence_app.reconcile.rules import RouteStatus
from evidence_app.render import to_csv
from evidence_app.ui import data
from evidence_app.ui.access import download
from evidence_app.ui.components import current_view, empty_state, guarded, num, plain, shown, shown_table
from evidence_app.ui.words import exceptions_for_people, routes_for_people

# Routes shown by name in the per-route table, most in need first; the rest are one line (every route in the
# search box and the CSV download).
ROUTES_SHOWN = 15
# Not-swept routes the error line names (the table's first, as not swept rank first; at most ROUTES_SHOWN); it
# states how many there are.
NOT_SWEPT_NAMED = 5

v = current_view()
st.title("Remediation & accuracy")
s = guarded(lambda: data.summary(v))
r = s.remediation
routes = r.routes

cols = st.columns(5)
cols[0].metric("Routes swept", num(r.swept))
cols[1].metric("Routes not swept", num(r.not_swept))
cols[2].metric("Routes unknown", num(r.unknown))
cols[3].metric("Silent drops after the fix", num(r.silent_after_fix))
cols[4].metric("Replayed within SLA", f"{num(r.replayed_within_sla)} of {num(r.failures)}")
cols = st.columns(5)
cols[0].metric("Inaccurate rows", num(s.inaccurate))
cols[1].metric("Incomplete rows", num(s.incomplete))
st.caption(f"Fix times judged at {r.judged_at:%Y-%m-%d %H:%M} UTC · a route is swept when it has an effective fix time "
           "and no operation after it was dropped silently.")

if routes.empty:
    empty_state("No operations or failure events in this period and scope.")
    st.stop()
if r.after_fix_operations == 0:
    st.warning(f"No fix was in force in this period: no operation lies at or after its route's fix time "
               f"({num(r.silent_before_fix)} operations were dropped silently before it), so the period cannot show "
               "that the fix works — a route counts as swept when no silent drop follows its fix time.",
               icon=":material/warning:")

worst = guarded(lambda: data.worst_remediation_routes(v, ROUTES_SHOWN))
not_swept = r.not_swept
if not_swept:
    named = [route for route, status in zip(worst.named["route"], worst.named["status"])
             if status == RouteStatus.NOT_SWEPT]
    listed = ", ".join(plain(route) if route is not None else "(no route)" for route in named[:NOT_SWEPT_NAMED])
    more = ", … (all in the CSV download)" if not_swept > NOT_SWEPT_NAMED else ""
    st.error(f"Not swept: {num(not_swept)} route{'s' if not_swept != 1 else ''} — {listed}{more}. Operations "
             "there were dropped silently after the fix time (or no fix time is known).")
st.header("Per route")
text = worst.caption("the CSV download below")
st.caption(plain(text[:1].upper() + text[1:]) + ".")
st.dataframe(shown_table(routes_for_people(worst.lines)), hide_index=True, width="stretch", key="remediation_routes")
names = routes["route"].tolist()
picked = st.selectbox("Find one route", range(len(names)), index=None, key="find_remediation_route",
                      format_func=lambda i: "(no route)" if names[i] is None else shown(names[i]),
                      placeholder=f"Type to search {num(len(names))} routes")
if picked is not None:
    st.dataframe(shown_table(routes_for_people(routes.iloc[[picked]])), hide_index=True, width="stretch",
                 key="found_remediation_route")
download("Download every route's remediation status (CSV)", lambda: to_csv(routes).encode("utf-8"),
         file_name="remediation.csv", mime="text/csv", key="dl_remediation_routes", action="csv_download",
         page="remediation", rows=len(routes))

st.header("Inaccurate and incomplete audit rows")
exceptions = guarded(lambda: data.exceptions(v))
findings = exceptions[exceptions["kind"].isin(["inaccurate", "incomplete"])]
if findings.empty:
    empty_state("Every audit row that landed is accurate and complete.")
else:
    st.dataframe(shown_table(exceptions_for_people(findings)), hide_index=True, width="stretch",
                 key="remediation_findings")
