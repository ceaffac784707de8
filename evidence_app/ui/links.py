"""Shareable links: the period, the sidebar filters and the drill-down cell live in the URL (st.query_params).

A link only pre-fills the widgets; the router then drops what the user's grant does not cover and the data
layer narrows again, so a hand-edited link never shows more than its reader may see."""

from __future__ import annotations

from datetime import date

import streamlit as st

#: sidebar multiselect key → query parameter
FILTERS = {"f_tenant": "tenant", "f_operator": "operator", "f_route": "route", "f_action": "action"}
#: drill-down selectbox key (Coverage gaps) → query parameter
CELL = {"drill_day": "day", "drill_operator": "cell_operator"}
PERIOD_KEY = "f_period"
_SEEDED = "evidence_links_seeded"


def seed_once() -> bool:
    """On a session's first run, pre-fill the widgets from the URL; True on that run (so refusals get logged)."""
    if st.session_state.get(_SEEDED):
        return False
    st.session_state[_SEEDED] = True
    q = st.query_params
    for key, name in FILTERS.items():
        values = [v for v in q.get_all(name) if v]
        if values:
            st.session_state[key] = list(dict.fromkeys(values))
    for key, name in CELL.items():
        if q.get(name):
            st.session_state[key] = q.get(name)
    start, end = parse_day(q.get("start")), parse_day(q.get("end"))
    if start and end and start <= end:
        st.session_state[PERIOD_KEY] = (start, end)
    return True


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD from a URL, or None for anything else (a link is user input)."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def write(start: date, end: date) -> None:
    """Put the current period, filters and cell into the URL (replacing what was there)."""
    params: dict[str, str | list[str]] = {"start": str(start), "end": str(end)}
    for key, name in FILTERS.items():
        values = st.session_state.get(key) or []
        if values:
            params[name] = [str(v) for v in values]
    for key, name in CELL.items():
        value = st.session_state.get(key)
        if isinstance(value, str) and value and not value.startswith("(all"):
            params[name] = value
    st.query_params.from_dict(params)
