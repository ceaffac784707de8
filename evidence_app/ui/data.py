"""All caching of the web app: engines as resources, frames as data with a TTL, widget values as keys."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd
import streamlit as st

from evidence_app.config import Config, load_config
from evidence_app.controls import ControlResult, evaluate_controls
from evidence_app.evidence.trust import TrustAnchors
from evidence_app.ingest.canonical import parse_timestamps
from evidence_app.ingest.dataset import Dataset, open_stores
from evidence_app.ingest.sources import Store, time_extent
from evidence_app.pipeline import evaluate
from evidence_app.reconcile import Period, Reconciliation, Scope, apply_scope
from evidence_app.reconcile.coverage import coverage_table, exceptions_table
from evidence_app.summary import Summary, error_classes, summarize

TTL = timedelta(minutes=5)


@st.cache_resource(show_spinner=False)
def config(path: str | None) -> Config:
    return load_config(path)


@st.cache_resource(show_spinner="Opening the stores read-only…")
def stores(path: str | None) -> tuple[Store, Store]:
    return open_stores(config(path))


@st.cache_data(ttl=TTL, show_spinner=False)
def extent(path: str | None) -> tuple[date, date]:
    """First and last day with operations (falls back to the last 90 days)."""
    lo, hi = time_extent(stores(path)[0], "occurred_at")
    ts = parse_timestamps(pd.Series([lo, hi], dtype=object))
    if ts.isna().any():
        today = datetime.now(timezone.utc).date()
        return today - timedelta(days=89), today
    return ts.iloc[0].date(), ts.iloc[1].date()


@st.cache_data(ttl=TTL, show_spinner="Reconciling audit rows against operations…")
def reconciled(path: str | None, start: date, end: date) -> tuple[Dataset, Reconciliation]:
    return evaluate(config(path), Period(start, end), stores=stores(path))


@st.cache_data(ttl=TTL, show_spinner=False)
def scoped(path: str | None, start: date, end: date, scope: Scope) -> Reconciliation:
    return apply_scope(reconciled(path, start, end)[1], scope)


@st.cache_data(ttl=TTL, show_spinner=False)
def coverage(path: str | None, start: date, end: date, scope: Scope, by: tuple[str, ...]) -> pd.DataFrame:
    return coverage_table(scoped(path, start, end, scope), list(by))


@st.cache_data(ttl=TTL, show_spinner=False)
def exceptions(path: str | None, start: date, end: date, scope: Scope) -> pd.DataFrame:
    return exceptions_table(scoped(path, start, end, scope))


@st.cache_data(ttl=TTL, show_spinner=False)
def summary(path: str | None, start: date, end: date, scope: Scope, as_of: datetime) -> Summary:
    data, _ = reconciled(path, start, end)
    return summarize(data, scoped(path, start, end, scope), as_of)


@st.cache_data(ttl=TTL, show_spinner=False)
def controls(path: str | None, start: date, end: date, scope: Scope, as_of: datetime) -> list[ControlResult]:
    return evaluate_controls(summary(path, start, end, scope, as_of), scoped(path, start, end, scope),
                             config(path).controls)


@st.cache_data(ttl=TTL, show_spinner=False)
def error_class_table(path: str | None, start: date, end: date, scope: Scope) -> pd.DataFrame:
    return error_classes(scoped(path, start, end, scope))


@st.cache_resource(show_spinner="Making a self-signed trial identity…")
def trial_identity() -> tuple[str, str]:
    """A throw-away self-signed key/cert for this server process (packs say so on their cover)."""
    import tempfile
    from pathlib import Path

    from evidence_app.evidence.sign import keygen

    key, cert = keygen(Path(tempfile.mkdtemp(prefix="evidence-app-trial-")))
    return str(key), str(cert)


KEY_ENV, CERT_ENV, CHAIN_ENV = "EVIDENCE_SIGNING_KEY", "EVIDENCE_SIGNING_CERT", "EVIDENCE_SIGNING_CHAIN"


def server_identity_configured() -> bool:
    """True when the server was started with its own signing key and certificate."""
    import os

    return bool(os.environ.get(KEY_ENV) and os.environ.get(CERT_ENV))


def server_trust() -> TrustAnchors:
    """What the verify page trusts without being told: the trial identity this server made, and the server's
    own certificate ($EVIDENCE_SIGNING_CERT) with its chain ($EVIDENCE_SIGNING_CHAIN)."""
    import os
    from pathlib import Path

    from evidence_app.evidence.trust import trust_from_files

    def named(path: str, label: str) -> TrustAnchors:
        return TrustAnchors(trust_from_files([Path(path)], label).certificates, sources=(label,))

    trust = named(trial_identity()[1], "this server's trial identity")
    if server_identity_configured():
        trust += named(os.environ[CERT_ENV], f"${CERT_ENV}")
        if os.environ.get(CHAIN_ENV):
            trust += named(os.environ[CHAIN_ENV], f"${CHAIN_ENV}")
    return trust
