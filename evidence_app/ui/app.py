"""Entrypoint: the gate (sign-in, grant), the page router (pages by role), the shared sidebar (period and filters,
pre-filled from a shared link, bounded by the grant) and the central access-log entries (page views, filter
changes) written before any page runs."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import streamlit as st

from evidence_app.access import open_pages
from evidence_app.access.grants import Bound
from evidence_app.masking import mask_logs
from evidence_app.reconcile import Scope
from evidence_app.ui import access, data, links
from evidence_app.ui.components import VIEW_KEY, View, guarded, plain, shown
from evidence_app.ui.views import OFFERED, Facet

CONFIG_ENV = "EVIDENCE_APP_CONFIG"
HERE = Path(__file__).resolve().parent
_LOGGED_VIEW = "evidence_logged_view"



def _sidebar(config_path: str | None, bound: Bound, first_run: bool) -> tuple[View, tuple[str, ...]]:
    """The sidebar's view and what a shared link asked for beyond the grant (dropped)."""
    cfg = guarded(lambda: data.config(config_path))
    lo, hi = guarded(lambda: data.extent(config_path))
    st.sidebar.markdown(f"**{plain(cfg.organisation or 'evidence-app')}**")
    st.session_state.setdefault(links.PERIOD_KEY, (lo, hi))
    refused = _clamp_period(bound, first_run)
    picked = st.sidebar.date_input("Period (UTC days)", key=links.PERIOD_KEY, format="YYYY-MM-DD")
    start, end = _period(picked, lo, hi)
    probe = View(config_path, start, end, Scope())
    filters = {}
    for key, label in (("f_tenant", "Tenant"), ("f_operator", "Operator"), ("f_route", "Route"),
                       ("f_action", "Action")):
        column = key[2:]
        allowed = guarded(lambda: data.facet(probe, column))
        dropped = _keep_allowed(key, column, allowed)
        if first_run:
            refused += dropped
        elif dropped:  # typed by hand: said, not logged as a refusal
            st.sidebar.caption(f"Not in this period{' or your access' if bound.limited else ''}: "
                               + "; ".join(plain(d) for d in dropped))
        filters[column] = tuple(st.sidebar.multiselect(
            label, allowed.offered(st.session_state.get(key) or []), key=key, format_func=shown,
            accept_new_options=True, placeholder=f"Any of {allowed.count:,} — pick or type one",
            help=f"{allowed.count:,} {label.lower()} values in this period; the {min(allowed.count, OFFERED)} with "
                 f"most operations are listed, type any other exactly as it is named."))
    view = View(config_path, start, end, Scope(**filters))
    return view, tuple(refused) if first_run else ()


def _clamp_period(bound: Bound, first_run: bool) -> list[str]:
    """A period outside the grant's days is pulled inside before the widget is drawn."""
    picked = st.session_state.get(links.PERIOD_KEY)
    if bound.period is None or not isinstance(picked, (tuple, list)) or len(picked) != 2:
        return []
    lo, hi = bound.period
    start, end = picked
    if lo <= start <= end <= hi:
        return []
    inside = (max(start, lo), min(end, hi))
    st.session_state[links.PERIOD_KEY] = inside if inside[0] <= inside[1] else (lo, hi)
    return [f"days {start} – {end} (beyond {lo} – {hi})"] if first_run else []


def _keep_allowed(key: str, column: str, allowed: Facet) -> list[str]:
    """Drop values the filter may not take (outside the grant, or absent from the period) and name them."""
    chosen = st.session_state.get(key) or []
    kept = [v for v in chosen if v in allowed]
    if len(kept) != len(chosen):
        st.session_state[key] = kept
    return [f"{column} {v}" for v in chosen if v not in allowed]


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


def _data_read(view: View) -> None:
    """When and from where the data was read, and a button to read the sources again now."""
    found = guarded(lambda: data.provenance(view))
    if found is not None:
        st.sidebar.caption(found.describe())
    st.sidebar.button("Refresh data", key="refresh_data", on_click=data.refresh, args=(view,),
                      help="Read the sources again now (and replace the snapshot the server keeps of them).")


def _pages(role: str | None, signed_in: bool) -> dict[str, st.Page]:
    """The pages this role may open, as the registry declares them; the first one offered is the default."""
    return {p.stem: st.Page(HERE / "app_pages" / f"{p.stem}.py", title=p.title, icon=p.icon, default=i == 0)
            for i, p in enumerate(open_pages(role, signed_in))}


def _record_view(visitor: access.Visitor, page: str, view: View) -> None:
    """A page view when the page changes, a filter change when the view does: before the page shows anything."""
    cell = {k: v for k in links.CELL if isinstance(v := st.session_state.get(k), str) and not v.startswith("(all")}
    params = dict(period=[view.start, view.end], filters=dict(view.scope.items()), **cell)
    last = st.session_state.get(_LOGGED_VIEW)
    now = (page, repr(params))
    if last is None or last[0] != page:
        visitor.record("page_view", page, **params)
    elif last[1] != now[1]:
        visitor.record("filter_change", page, **params)
    st.session_state[_LOGGED_VIEW] = now


def main() -> None:
    mask_logs()  # Streamlit and the drivers log too: no credential in the server's log
    st.set_page_config(page_title="evidence-app", page_icon=":material/verified:", layout="wide")
    config_path = os.environ.get(CONFIG_ENV) or None
    cfg = guarded(lambda: data.config(config_path))
    visitor = guarded(lambda: access.admit(cfg))
    st.session_state[access.VISITOR_KEY] = visitor
    pages = _pages(visitor.role, cfg.access is not None)
    nav = st.navigation(list(pages.values()))
    page = next(stem for stem, p in pages.items() if p is nav or p.title == nav.title)
    first_run = links.seed_once()
    view, refused = _sidebar(config_path, visitor.bound, first_run)
    shown = guarded(lambda: data.bounded(view))
    view = View(config_path, shown.start, shown.end, shown.scope)
    if refused:
        guarded(lambda: visitor.record("link_refused", page, refused=list(refused)))
        st.warning("Left out of the link you opened (outside your access, or not in this period): "
                   + "; ".join(plain(r) for r in refused))
    st.sidebar.caption(f"{view.start} – {view.end} · {plain(view.scope.label())}")
    _data_read(view)
    access.sign_out_button(visitor)
    st.session_state[VIEW_KEY] = view
    links.write(view.start, view.end)
    guarded(lambda: _record_view(visitor, page, view))
    try:
        nav.run()
    finally:
        links.write(view.start, view.end)  # a drill-down click changes the cell during the page's run


main()
