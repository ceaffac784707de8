"""Replay & backfill: where every failed insert stands, how fast replays land, what fails."""

import streamlit as st

from evidence_app.formatting import duration
from evidence_app.reconcile.rules import REPLAY_STATES, ReplayState
from evidence_app.render import to_csv
from evidence_app.ui import charts, data
from evidence_app.ui.access import download
from evidence_app.ui.components import current_view, empty_state, guarded, num, plain, shown_table

# Routes drawn by name in the replay chart; the rest are one line (every route in the CSV download).
ROUTES_SHOWN = 15

v = current_view()
st.title("Replay & backfill")
s = guarded(lambda: data.summary(v))
fe = guarded(lambda: data.failures(v))
t = s.totals

cols = st.columns(5)
for col, state in zip(cols, REPLAY_STATES):
    col.metric(f"Failures {state}", num(s.replay.states[state]))
cols = st.columns(5)
cols[0].metric("Backlog (pending + retrying)", num(s.replay.backlog))
cols[1].metric("Oldest pending", duration(s.replay.oldest_pending_age_seconds))
cols[2].metric("Latency p50", duration(s.replay.latency_p50))
cols[3].metric("Latency p95", duration(s.replay.latency_p95))
cols[4].metric("Operations backfilled", num(t.backfilled))
st.caption(f"Skipped log lines: {num(s.replay.skipped_log_lines)} · ages measured at {v.as_of:%Y-%m-%d %H:%M} UTC")

if fe.empty:
    empty_state("No failure events in this period and scope: nothing awaits replay.")
    st.stop()

unconfirmed = s.replay.states[ReplayState.UNCONFIRMED]
if unconfirmed:
    st.error(f"{unconfirmed} unconfirmed replays: the replay job logged success but no such "
             "audit row exists. Each is an integrity finding.")
    claimed = fe[fe["state"] == ReplayState.UNCONFIRMED]
    st.dataframe(shown_table(claimed[["failure_id", "created_at", "operation_id", "tenant", "operator", "action",
                                      "attempts"]]),
                 hide_index=True, width="stretch")

st.plotly_chart(charts.failures_over_time(fe), width="stretch")
left, right = st.columns(2)
left.plotly_chart(charts.latency_histogram(fe), width="stretch")
right.plotly_chart(charts.error_classes_bar(guarded(lambda: data.error_class_table(v))), width="stretch")
routes = guarded(lambda: data.worst_replay_routes(v, ROUTES_SHOWN))
text = routes.caption()
st.caption(plain(text[:1].upper() + text[1:]) + ".")
st.plotly_chart(charts.route_progress(routes.lines), width="stretch")
every = guarded(lambda: data.replay_routes(v))
download("Download every route's replay progress (CSV)", lambda: to_csv(every).encode("utf-8"),
         file_name="replay_by_route.csv", mime="text/csv", key="dl_replay_routes", action="csv_download",
         page="replay", rows=len(every))
with st.expander("All failure events"):
    st.dataframe(shown_table(fe[["failure_id", "created_at", "state", "attempts", "latency_seconds", "error_class",
                                 "route", "tenant", "operator", "action", "operation_id"]]), hide_index=True,
                 width="stretch")
