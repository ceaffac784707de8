"""Sources: where the numbers come from, how they were read, and what could not be read."""

from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from evidence_app.formatting import counted, duration, timestamp
from evidence_app.ui import charts, data
from evidence_app.ui.components import chart, current_view, guarded, mask_secrets, num, plain, shown, shown_table
from evidence_app.ui.words import for_people

v = current_view()
st.title("Sources")
facts = guarded(lambda: data.sources(v))
now = datetime.now(timezone.utc)
if facts.logs is None:
    st.info("Your access is limited to some tenants or days, so figures about the whole stores (row counts, time "
            "ranges, input problems) are not shown here.", icon=":material/lock:")

st.header("Stores and logs")
for s in facts.sources:
    with st.container(border=True):
        st.subheader(f"{plain(s.key).capitalize()} store · table {plain(s.table)}")
        if s.location is not None:
            st.code(shown(s.location, None), language=None)
        if (f := s.figures) is not None:
            last = f.last_record
            c = st.columns(4)
            c[0].metric("Rows in table", num(f.rows_total))
            c[1].metric("Rows loaded for the period", num(f.rows_loaded))
            c[2].metric("Rows rejected", num(f.rows_rejected))
            c[3].metric("Newest record age", duration((now - last).total_seconds() if last is not None else None))
            st.markdown(f"**Time range loaded:** {timestamp(f.first_record)} – {timestamp(last)}")
        st.markdown(f"**Read-only:** {plain(s.read_only_mode)}  \n"
                    f"**Columns present:** {plain(', '.join(s.columns_present))}")
        if s.finding:
            st.warning(f"Finding: {plain(s.finding)}. Use a SELECT-only role.")

if (logs := facts.logs) is not None:
    with st.container(border=True):
        st.subheader("Worker logs (Logpush)")
        c = st.columns(5)
        c[0].metric("Files", num(logs.files))
        c[1].metric("Files skipped", num(logs.skipped_files))
        c[2].metric("Lines read", num(logs.lines_read))
        c[3].metric("Skipped log lines", num(logs.skipped_lines))
        c[4].metric("Failure events", num(logs.failure_events))

if (health := facts.log_health) is not None:
    with st.container(border=True):
        st.subheader("Log completeness")
        st.caption(plain(data.summary(v).log_completeness, None))
        c = st.columns(5)
        c[0].metric("Invocations in the period", num(health.invocations))
        c[1].metric("Truncated invocations", num(health.truncated_invocations))
        c[2].metric("Duplicates dropped", num(health.duplicates_dropped),
                    help="Log deliveries dropped as duplicates of one already read (Logpush delivers at least once).")
        c[3].metric("Operations traced", "—" if health.traced_operations is None else num(health.traced_operations))
        c[4].metric("Operations untraced", "—" if health.untraced_operations is None
                    else num(health.untraced_operations))
        if not health.by_day.empty:
            chart(charts.log_days(health.by_day), plain(charts.log_days_summary(health.by_day)),
                  health.by_day, key="log_days")
        if health.gaps:
            st.markdown(f"**{counted(len(health.gaps), 'gap')}** where operations happened and no invocation of theirs is "
                        "in the logs (a lost or undelivered batch, a job that was off):")
            st.dataframe(for_people(pd.DataFrame([{"start": g.start, "end": g.end, "operations": g.operations}
                                                  for g in health.gaps]), times=["start", "end"]),
                         hide_index=True, width="stretch")

if facts.issues is not None:
    st.header("Input problems (counted, never dropped)")
    if facts.issues:
        st.dataframe(shown_table(for_people(pd.DataFrame([{"source": i.source, "problem": i.kind, "column": i.column,
                                                "count": i.count, "examples": ", ".join(i.examples),
                                                "effect": i.effect} for i in facts.issues]),
                                               states=["source", "problem"])),
                     hide_index=True, width="stretch")
    else:
        st.success("No unparseable values, unknown actions or broken log lines.")

if facts.config_text is not None:
    st.header("Active configuration")
    st.caption(plain(facts.config_file))
    st.code("\n".join(shown(line, None) for line in mask_secrets(facts.config_text).splitlines()), language="toml")
