"""Access log (admins): who signed in, viewed, filtered, downloaded, built and verified what; and whether the
chain still holds."""

import json

import pandas as pd
import streamlit as st

from evidence_app.access import ACTIONS
from evidence_app.ui import data
from evidence_app.ui.access import download
from evidence_app.ui.components import LONGEST_MESSAGE, current_view, guarded, num, plain, shown_table

v = current_view()
st.title("Access log")
c1, c2, c3 = st.columns([2, 2, 3])
days = c1.date_input("Days (UTC)", value=(), key="log_days", format="YYYY-MM-DD")
start, end = (days[0], days[-1]) if isinstance(days, (tuple, list)) and days else (None, None)
actions = c2.multiselect("Actions", list(ACTIONS), key="log_actions")
who = c3.text_input("User (email or sub contains)", key="log_user").strip().casefold()

verdict, entries = guarded(lambda: data.access_log(v.config_path, start, end))
if verdict.ok:
    st.success(f"Chain intact: {num(verdict.entries)} entries; head entry {verdict.head_seq}, SHA-256 "
               f"`{verdict.head_hash}` (record it elsewhere to anchor the log).")
else:
    st.error(f"Chain broken at entry {verdict.broken_seq}: {plain(verdict.reason, LONGEST_MESSAGE)}")

shown = [e for e in entries if (not actions or e.action in actions)
         and (not who or who in (e.email or "").casefold() or who in (e.sub or "").casefold())]
table = pd.DataFrame([{"#": e.seq, "time (UTC)": e.at, "email": e.email, "sub": e.sub, "role": e.role,
                       "page": e.page, "action": e.action, "scope": json.dumps(e.scope, ensure_ascii=False),
                       "parameters": json.dumps(e.params, ensure_ascii=False),
                       "session": e.session} for e in reversed(shown)])
st.caption(f"{num(len(shown))} of {num(len(entries))} entries in the chosen days, newest first.")
st.dataframe(shown_table(table), hide_index=True, width="stretch")
download("Download these entries (CSV)", lambda: data.access_log_csv(shown), file_name="access-log.csv",
         mime="text/csv", key="dl_access_log", action="access_log_export", page="access_log", rows=len(shown))
