"""Sources: where the numbers come from, how they were read, and what could not be read."""

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import streamlit as st

from evidence_app.ui import data
from evidence_app.ui.components import current_view, guarded, hours, mask_secrets, num, plain

v = current_view()
st.title("Sources")
dataset, recon = guarded(lambda: data.reconciled(v.config_path, v.start, v.end))
now = datetime.now(timezone.utc)

for s in dataset.sources:
    with st.container(border=True):
        st.markdown(f"#### {plain(s.key)} · table {plain(s.table)}")
        st.code(s.display_url, language=None)
        c = st.columns(4)
        c[0].metric("Rows in table", num(s.rows_total))
        c[1].metric("Rows loaded for the period", num(s.rows_loaded))
        c[2].metric("Rows rejected", num(s.rows_rejected))
        fresh = (now - s.time_max).total_seconds() if s.time_max is not None else None
        c[3].metric("Newest record age", hours(fresh))
        st.markdown(f"**Read-only:** {plain(s.read_only_mode)}  \n"
                    f"**Time range loaded:** {plain(s.time_min)} – {plain(s.time_max)}  \n"
                    f"**Columns present:** {plain(', '.join(s.columns_present))}")
        if s.finding:
            st.warning(f"Finding: {plain(s.finding)}. Use a SELECT-only role.")

logs = dataset.logs
with st.container(border=True):
    st.markdown("#### Worker logs (Logpush)")
    c = st.columns(5)
    c[0].metric("Files", num(len(logs.files)))
    c[1].metric("Files skipped", num(len(logs.skipped_files)))
    c[2].metric("Lines read", num(logs.lines_read))
    c[3].metric("Skipped log lines", num(logs.skipped_log_lines))
    c[4].metric("Failure events", num(len(logs.failures)))

st.subheader("Input problems (counted, never dropped)")
issues = dataset.issues + recon.issues
if issues:
    st.dataframe(pd.DataFrame([{"source": i.source, "problem": i.kind, "column": i.column, "count": i.count,
                                "examples": ", ".join(i.examples), "effect": i.effect} for i in issues]),
                 hide_index=True, width="stretch")
else:
    st.success("No unparseable values, unknown actions or broken log lines.")

st.subheader("Active configuration")
cfg = data.config(v.config_path)
st.caption(plain(cfg.path))
st.code(mask_secrets(Path(cfg.path).read_text(encoding="utf-8")), language="toml")
