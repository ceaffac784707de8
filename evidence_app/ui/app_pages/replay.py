"""Replay & backfill: the open failures first (what an engineer acts on), then where every failed insert stands,
how fast replays land, what fails."""

import streamlit as st

from evidence_app.formatting import duration
from evidence_app.reconcile.rules import REPLAY_STATES, ReplayState
from evidence_app.render import to_csv
from evidence_app.ui import charts, data
from evidence_app.ui.access import download
from evidence_app.ui.components import chart, current_view, empty_state, guarded, num, plain, shown, shown_table
from evidence_app.ui.words import for_people, word

# Routes drawn by name in the replay chart; the rest are one line (every route in the CSV download).
ROUTES_SHOWN = 15

v = current_view()
st.title("Replay & backfill")
s = guarded(lambda: data.summary(v))
fe = guarded(lambda: data.failures(v))
backlog = guarded(lambda: data.backlog(v))
t = s.totals

st.header("Open failures")
open_events = backlog.table
pending, retrying = backlog.pending, backlog.retrying
cols = st.columns(4)
cols[0].metric("Open failures", num(len(open_events)), help="Failure events whose audit row has not landed yet "
               "and may still: pending (no attempt yet) plus retrying (attempts failed, budget left).")
cols[1].metric("Pending", num(pending), help="No replay attempt yet.")
cols[2].metric("Retrying", num(retrying), help="Replay attempts failed; attempts left before it is abandoned.")
cols[3].metric("Oldest retrying", duration(backlog.oldest_retrying_age_seconds),
               help="Age of the oldest retrying failure event (none: —).")
limit_text = (f"the {backlog.pending_age_limit_seconds / 3600:g} h limit in force ([controls] "
              f"{data.PENDING_LIMIT_KEY})")
oldest = backlog.oldest_pending_age_seconds
if oldest is None:
    st.success(f"No failure event is pending: nothing waits for a first replay attempt (against {limit_text}).")
elif backlog.pending_over_limit:
    st.error(f"Oldest pending failure: {duration(oldest)} old — over {limit_text}.")
else:
    st.success(f"Oldest pending failure: {duration(oldest)} old — within {limit_text}.")
st.caption(f"Ages measured at {backlog.as_of:%Y-%m-%d %H:%M} UTC.")

if len(open_events):
    c1, c2 = st.columns([1, 2])
    states = c1.multiselect("State", sorted(set(open_events["state"])), key="open_states", format_func=word,
                            placeholder="Pending and retrying")
    routes = sorted({r for r in open_events["route"] if r is not None and r == r})
    picked = c2.multiselect("Route", routes, key="open_routes", format_func=shown, placeholder="Every route")
    chosen = open_events
    if states:
        chosen = chosen[chosen["state"].isin(states)]
    if picked:
        chosen = chosen[chosen["route"].isin(picked)]
    st.caption(f"{num(len(chosen))} of {num(len(open_events))} open failure events, oldest first.")
    shown_events = chosen[["state", "route", "age_seconds", "attempts", "last_error", "created_at", "failure_id",
                           "tenant", "operator", "action", "operation_id"]]
    st.dataframe(shown_table(for_people(shown_events, durations=["age_seconds"], times=["created_at"],
                                        states=["state"])),
                 hide_index=True, width="stretch", key="open_failures")
    download("Download the open failures (CSV)", lambda: to_csv(chosen).encode("utf-8"),
             file_name="open_failures.csv", mime="text/csv", key="dl_open_failures", action="csv_download",
             page="replay", rows=len(chosen))
elif len(fe) == 0:
    empty_state("No failure events in the period: the Worker logs record no failed audit insert (an insert dropped "
                "silently leaves none — Coverage gaps counts those).")
else:
    empty_state("No open failure events: every failed insert has been replayed, abandoned or is unconfirmed.")

st.header("Every failure event")
cols = st.columns(5)
for col, state in zip(cols, REPLAY_STATES):
    col.metric(f"Failures {word(state).lower()}", num(s.replay.states[state]),
               help=f"Failure events {word(state).lower()}.")
cols = st.columns(4)
cols[0].metric("Latency p50", duration(s.replay.latency_p50), help="Median time from the original operation to "
               "its replayed row.")
cols[1].metric("Latency p95", duration(s.replay.latency_p95), help="95th percentile of the same times.")
cols[2].metric("Backfilled", num(t.backfilled), help="Operations covered by a backfilled audit row.")
cols[3].metric("Skipped log lines", num(s.replay.skipped_log_lines),
               help="Log lines that could not be read (each counted on the Sources page).")

if fe.empty:
    empty_state("No failure events in this period and scope: nothing awaits replay.")
    st.stop()

unconfirmed = s.replay.states[ReplayState.UNCONFIRMED]
if unconfirmed:
    st.error(f"{unconfirmed} unconfirmed replays: the replay job logged success but no such "
             "audit row exists. Each is an integrity finding.")
    claimed = fe[fe["state"] == ReplayState.UNCONFIRMED]
    st.dataframe(shown_table(for_people(claimed[["failure_id", "created_at", "operation_id", "tenant", "operator",
                                                 "action", "attempts"]], times=["created_at"])),
                 hide_index=True, width="stretch")

by_day = charts.failures_by_day(fe)
chart(charts.failures_over_time(by_day), plain(charts.failures_summary(by_day)), for_people(by_day.reset_index()),
      key="failures_by_day")
left, right = st.columns(2)
with left:
    chart(charts.latency_histogram(fe), plain(charts.latency_summary(fe)), key="latency")
errors = guarded(lambda: data.error_class_table(v))
with right:
    chart(charts.error_classes_bar(errors), plain(charts.error_classes_summary(errors)), for_people(errors),
          key="error_classes")
routes = guarded(lambda: data.worst_replay_routes(v, ROUTES_SHOWN))
text = routes.caption()
chart(charts.route_progress(routes.lines), plain(text[:1].upper() + text[1:]) + ".", for_people(routes.lines),
      key="route_progress")
every = guarded(lambda: data.replay_routes(v))
download("Download every route's replay progress (CSV)", lambda: to_csv(every).encode("utf-8"),
         file_name="replay_by_route.csv", mime="text/csv", key="dl_replay_routes", action="csv_download",
         page="replay", rows=len(every))
with st.expander("All failure events"):
    st.dataframe(shown_table(for_people(fe[["failure_id", "created_at", "state", "attempts", "latency_seconds",
                                            "error_class", "route", "tenant", "operator", "action", "operation_id"]],
                                        durations=["latency_seconds"], times=["created_at"], states=["state"])),
                 hide_index=True, width="stretch")
