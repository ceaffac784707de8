"""Entrypoint: page router and the shared sidebar (period and scope filters that persist across pages)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import streamlit as st

from evidence_app.masking import mask_logs
from evidence_app.reconcile import Scope
from evidence_app.ui import data
from evidence_app.ui.components import VIEW_KEY, View, guarded, plain

CONFIG_ENV = "EVIDENCE_APP_CONFIG"
HERE = Path(__file__).resolve().parent


def _sidebar(config_path: str | None) -> View:
    cfg = guarded(lambda: data.config(config_path))
    lo, hi = guarded(lambda: data.extent(config_path))
    st.sidebar.markdown(f"**{plain(cfg.organisation or 'evidence-app')}**")
    picked = st.sidebar.date_input("Period (UTC days)", value=(lo, hi), key="f_period", format="YYYY-MM-DD")
    start, end = _period(picked, lo, hi)
    _, recon = guarded(lambda: data.reconciled(config_path, start, end))
    ops = recon.operations

    def options(col: str) -> list[str]:
        return sorted(v for v in ops[col].dropna().unique()) if len(ops) else []

    scope = Scope(
        tenant=tuple(st.sidebar.multiselect("Tenant", options("tenant"), key="f_tenant")),
        operator=tuple(st.sidebar.multiselect("Operator", options("operator"), key="f_operator")),
        route=tuple(st.sidebar.multiselect("Route", options("route"), key="f_route")),
        action=tuple(st.sidebar.multiselect("Action", options("action"), key="f_action")),
    )
    st.sidebar.caption(f"{start} – {end} · {plain(scope.label())}")
    return View(config_path, start, end, scope)


def _period(picked: object, lo: date, hi: date) -> tuple[date, date]:
    """A date_input range may be half-chosen while the user clicks: fall back sensibly."""
    if isinstance(picked, (tuple, list)):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:
            return picked[0], picked[0]
    if isinstance(picked, date):
        return picked, picked
    return lo, hi


def main() -> None:
    mask_logs()  # Streamlit and the drivers log too: no credential in the server's log
    st.set_page_config(page_title="evidence-app", page_icon=":material/verified:", layout="wide")
    config_path = os.environ.get(CONFIG_ENV) or None
    pages = [
        st.Page(HERE / "app_pages" / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(HERE / "app_pages" / "coverage_gaps.py", title="Coverage gaps", icon=":material/grid_on:"),
        st.Page(HERE / "app_pages" / "replay.py", title="Replay & backfill", icon=":material/replay:"),
        st.Page(HERE / "app_pages" / "evidence_pack.py", title="Evidence pack", icon=":material/picture_as_pdf:"),
        st.Page(HERE / "app_pages" / "sources.py", title="Sources", icon=":material/database:"),
    ]
    nav = st.navigation(pages)
    st.session_state[VIEW_KEY] = _sidebar(config_path)
    nav.run()


main()
