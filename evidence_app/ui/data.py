"""All caching of the web app, and its one door to the data. Every public function takes the sidebar's View and
narrows it to the session's grant (tenants, days) before anything is computed, so no page can show more than
its user may see, whatever it asks for. Engines are resources, frames are data with a TTL, the narrowed
values are the cache keys (a cached frame is never shared across different scopes)."""

from __future__ import annotations

import functools
import os
import hashlib
import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Callable

import pandas as pd
import streamlit as st

from evidence_app.access import Entry, Verdict, may_see_connection_details, narrow
from evidence_app.access.export import entries_csv
from evidence_app.assess.backlog import LIMIT_KEY, Backlog, open_backlog
from evidence_app.assess.controls import ControlResult, evaluate_controls
from evidence_app.assess.log_health import LogHealth, log_health
from evidence_app.assess.summary import Summary, error_classes, summarize
from evidence_app.config.compute import COMPUTE_ENV, compute_from_env
from evidence_app.config.settings import Config, load_config
from evidence_app.errors import AccessDenied
from evidence_app.evidence.build import BuiltPack
from evidence_app.evidence.sign import SigningOptions
from evidence_app.evidence.trust import TrustAnchors
from evidence_app.evidence.verify import Verification
from evidence_app.ingest.canonical import DataIssue
from evidence_app.ingest.dataset import Dataset, SourceReport, open_stores
from evidence_app.ingest.logpush import LogScan
from evidence_app.ingest.sources import Store
from evidence_app.persistence.snapshot import Provenance, fingerprint, load_views, print_of, read_through, save_views
from evidence_app.reconcile import Period, Reconciliation, Scope, apply_scope
from evidence_app.reconcile.bounded import (
    ORDER_WORDS,
    BoundedView,
    bounded_remediation,
    bounded_replay_routes,
    bounded_view,
)
from evidence_app.reconcile.coverage import Totals, coverage_table, exceptions_table, totals_where
from evidence_app.reconcile.replay import replay_by_route
from evidence_app.ui import views as page_views
from evidence_app.ui.access import Visitor, visitor
from evidence_app.ui.components import LoadingBar, View
from evidence_app.ui.views import Facet, PageViews

TTL = timedelta(minutes=5)


# ---------------------------------------------------------------------------------------------- the bound


@dataclass(frozen=True)
class Bounded:
    """A View after the session's grant: what is really shown."""

    config_path: str | None
    start: date
    end: date
    scope: Scope
    refused: tuple[str, ...]
    """What the View asked for beyond the grant (dropped)."""

    @property
    def key(self) -> tuple:
        return (self.config_path, self.start, self.end, self.scope)


def bounded(v: View) -> Bounded:
    """The View ∩ the session's grant; fails closed when sign-in is on and this session has no grant."""
    found = _admitted(v.config_path)
    n = narrow(found.bound, Period(v.start, v.end), v.scope)
    return Bounded(v.config_path, n.period.start, n.period.end, n.scope, n.refused)


def _admitted(path: str | None) -> Visitor:
    found = visitor()
    if config(path).access is not None and found.grant is None:
        raise AccessDenied("you have no access grant")
    return found


# ---------------------------------------------------------------------------------------------- config & sources


@st.cache_resource(show_spinner=False)
def config(path: str | None) -> Config:
    loaded = load_config(path)
    given = os.environ.get(COMPUTE_ENV)  # ``serve --partitions/--scheduler``, as checked there
    return replace(loaded, compute=compute_from_env(given)) if given else loaded


@st.cache_resource(show_spinner="Opening the stores read-only…")
def _stores(path: str | None) -> tuple[Store, Store]:
    return open_stores(config(path))


def extent(path: str | None) -> tuple[date, date]:
    """First and last day with operations, within the grant's days."""
    lo, hi = _extent(path)
    bound = _admitted(path).bound
    if bound.period is None:
        return lo, hi
    first, last = bound.period
    lo, hi = max(lo, first), min(hi, last)
    return (lo, hi) if lo <= hi else (first, last)


@st.cache_data(ttl=TTL, show_spinner=False)
def _extent(path: str | None) -> tuple[date, date]:
    """First and last day with operations (falls back to the last 90 days); as ``serve`` found them at start
    while that is recent."""
    started = _started(path)
    if started is not None:
        return started.start, started.end
    return page_views.extent_days(_stores(path)[0])


def _started(path: str | None) -> page_views.Started | None:
    """What ``serve`` found as the server started, while younger than the data's cache life."""
    found = page_views.STARTED[0] if page_views.STARTED else None
    if found is None or found.config_path != path or datetime.now(timezone.utc) - found.taken_at >= TTL:
        return None
    return found


# ---------------------------------------------------------------------------------------------- numbers


# The period's whole reconciliation and its scoped views are resources, shared by every session as they are:
# st.cache_data would pickle a million-row reconciliation on every store and unpickle it on every hit (on every
# re-render). Nothing mutates them: pages get derived tables, or shallow copies (pandas copy-on-write).
@st.cache_resource(ttl=TTL, max_entries=4, show_spinner="Reconciling audit rows against operations…")
def _reconciled(path: str | None, start: date, end: date) -> tuple[Dataset, Reconciliation]:
    """Matching on the whole data of the period; only ever shown through _scoped. The data comes from the
    snapshot while the sources are unchanged (see evidence_app/persistence/snapshot.py), else from the sources, with a
    progress bar; where it came from is kept for ``provenance``."""
    cfg, period = config(path), Period(start, end)
    bar = LoadingBar()
    try:
        loaded = read_through(cfg, period, _stores(path), bar, refresh=_refresh_asked(path, start, end))
    finally:
        bar.close()
    _provenances()[(path, start, end)] = loaded.provenance
    _data_prints()[(path, start, end)] = loaded.print
    return loaded.dataset, loaded.reconciliation


@st.cache_resource(show_spinner=False)
def _data_prints() -> dict[tuple, str | None]:
    """(config, start, end) → the fingerprint print of the data ``_reconciled`` holds (views are kept under it)."""
    return {}


@st.cache_resource(show_spinner=False)
def _provenances() -> dict[tuple, Provenance]:
    """(config, start, end) → where the cached data of that period came from (shared by every session)."""
    return {}


@st.cache_resource(show_spinner=False)
def _refresh_requests() -> set[tuple]:
    """(config, start, end) whose next load must read the sources, whatever the snapshot holds."""
    return set()


def _refresh_asked(path: str | None, start: date, end: date) -> bool:
    asked = _refresh_requests()
    if (path, start, end) in asked:
        asked.discard((path, start, end))
        return True
    return False


def provenance(v: View) -> Provenance | None:
    """When and from where the view's data was read (None if this server has not recorded it)."""
    b = bounded(v)
    if (b.config_path, b.start, b.end) not in _provenances():  # views served from the snapshot record it too
        _reconciled(b.config_path, b.start, b.end)
    return _provenances().get((b.config_path, b.start, b.end))


def refresh(v: View) -> None:
    """Read the view's period from the sources again (replacing its snapshot): the stores are reopened and every
    cached number is dropped, for every visitor, so none is left computed from the older read."""
    b = bounded(v)
    _refresh_requests().add((b.config_path, b.start, b.end))
    _stores.clear()
    _reconciled.clear()
    _scoped.clear()
    _print.clear()
    _coverage_held.clear()
    _exceptions_held.clear()
    _views_held().views.clear()
    _views_held().tables.clear()
    _provenances().pop((b.config_path, b.start, b.end), None)
    st.cache_data.clear()


@st.cache_resource(ttl=TTL, max_entries=16, show_spinner=False)
def _scoped(path: str | None, start: date, end: date, scope: Scope) -> Reconciliation:
    return apply_scope(_reconciled(path, start, end)[1], scope)


def facet(v: View, column: str) -> Facet:
    """The values a sidebar filter may take: those present in the period within the grant's tenants, most
    operations first (the widget lists a few; :class:`Facet` knows them all)."""
    b = bounded(View(v.config_path, v.start, v.end, Scope()))
    return _page_views(*b.key).facets[column]


def overview(v: View) -> PageViews:
    """What the Overview shows of the view (totals, verdict, daily trend, controls): computed once per dataset
    and scope, kept with the snapshot; a render only reads it."""
    return _page_views(*bounded(v).key)


# ---------------------------------------------------------------------------------------------- page views


@dataclass
class _Held:
    """Views computed or restored by this server, by (config, start, end, scope, print)."""

    views: dict[tuple, PageViews]
    computed: int = 0
    """How many times a render computed views from a reconciliation (tests: a second visitor adds none)."""
    restored: int = 0
    """How many times views were read from beside the snapshot."""
    warmed: int = 0
    """How many views the background warm-up computed."""
    warming: set[tuple] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    tables: dict[tuple, tuple[str | None, pd.DataFrame]] = field(default_factory=dict)
    """(config, start, end, scope, :data:`WARM_TABLES` entry) → (the data's print, the core's table): the
    Coverage gaps page's tables of a whole scope, computed by the warm-up."""


@st.cache_resource(show_spinner=False)
def _views_held() -> _Held:
    return _Held({})


@st.cache_resource(ttl=TTL, show_spinner="Checking the sources…")
def _print(path: str | None, start: date, end: date) -> tuple[str | None, datetime]:
    """The sources' fingerprint print now (None when it cannot be taken), and when it was taken: rechecked as
    often as the data's cache life, shared by every session."""
    started = _started(path)
    if started is not None and (started.start, started.end) == (start, end):
        page_views.STARTED.clear()  # once: the next check takes the print afresh
        return started.print, started.taken_at
    now = datetime.now(timezone.utc)
    try:
        return print_of(fingerprint(config(path), Period(start, end), _stores(path))), now
    except Exception:  # noqa: BLE001 - no print: views are computed from the data, which reports its own errors
        return None, now


def _views_name(path: str | None, scope: Scope) -> str:
    """Which views beside a snapshot: the scope, the settings and the code that shape them."""
    return _views_name_of(config(path), scope)


def _views_name_of(cfg: Config, scope: Scope) -> str:
    doc = repr((sorted(scope.items()), sorted(cfg.controls.items()), cfg.remediation, _views_code()))
    return "views-" + hashlib.sha256(doc.encode()).hexdigest()[:32]


@functools.cache
def _views_code() -> str:
    from pathlib import Path

    from evidence_app.resources import control_catalogue

    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for f in [*sorted((root / "assess").glob("*.py")), root / "ui" / "views.py", control_catalogue()]:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _fresh_views(found: PageViews | None) -> bool:
    return found is not None and datetime.now(timezone.utc) - found.as_of < TTL


def _page_views(path: str | None, start: date, end: date, scope: Scope) -> PageViews:
    """Held views of the data as it is now (same print); else those kept beside the snapshot; else computed
    from the reconciliation (and kept). Views judged longer ago than the data's cache life are computed again."""
    held = _views_held()
    now_print, checked_at = _print(path, start, end)
    key = (path, start, end, scope, now_print)
    found = held.views.get(key)
    if now_print is not None and _fresh_views(found):
        return found
    if now_print is not None:
        saved = load_views(config(path), Period(start, end), now_print, _views_name(path, scope))
        if saved is not None:
            restored = page_views.from_files(saved.frames, saved.doc)
            if _fresh_views(restored):
                held.views[key] = restored
                held.restored += 1
                _provenances().setdefault((path, start, end), Provenance(
                    saved.read_at, True, checked_at, "sources unchanged since the snapshot was taken"))
                return restored
    data, recon = _reconciled(path, start, end)
    data_print = _data_prints().get((path, start, end))
    found = held.views.get((path, start, end, scope, data_print))
    if _fresh_views(found):  # the sources could not be fingerprinted just now: the held data's views
        return found
    made = page_views.compute(config(path), data, _scoped(path, start, end, scope),
                              datetime.now(timezone.utc).replace(second=0, microsecond=0))
    held.computed += 1
    held.views[(path, start, end, scope, data_print)] = made
    if data_print is not None:
        save_views(config(path), Period(start, end), data_print, _views_name(path, scope), *page_views.to_files(made))
    if not (scope.operator or scope.route or scope.action) and len(scope.tenant) != 1:
        _warm_later(path, start, end, data_print, data, recon, scope, made)
    return made


WARMED = 3
"""After the views of a whole scope (everything, or a grant's tenants), those of its largest tenants are computed
in the background: the filter most often picked is then shown at once."""


def _warm_later(path: str | None, start: date, end: date, data_print: str | None, data: Dataset,
                recon: Reconciliation, scope: Scope, base: PageViews) -> None:
    """In a daemon thread, with the core's functions only (no Streamlit cache is touched off the script's
    thread), once per data and scope: the Coverage gaps page's tables of ``scope`` (:data:`WARM_TABLES`), then
    the views of its :data:`WARMED` largest tenants."""
    held = _views_held()
    cfg = config(path)
    scopes = [Scope(tenant=(t,)) for t in base.facets["tenant"].values[:WARMED]]
    wanted = [(path, start, end, s, data_print) for s in scopes]
    tables = [(path, start, end, scope, what) for what in WARM_TABLES]
    with held.lock:
        wanted = [k for k in wanted if k not in held.views and k not in held.warming]
        tables = [k for k in tables if k not in held.warming
                  and not (k in held.tables and held.tables[k][0] == data_print)]
        held.warming.update(wanted + tables)
    if not wanted and not tables:
        return

    def work() -> None:
        scoped = apply_scope(recon, scope) if tables else recon
        for key in tables:
            try:
                what = key[4]
                table = exceptions_table(scoped) if what == EXCEPTIONS else coverage_table(scoped, list(what))
                held.tables[key] = (data_print, table)
            except Exception:  # noqa: BLE001 - the page computes it (and reports a problem) itself
                pass
            finally:
                held.warming.discard(key)
        for key in wanted:
            try:
                made = page_views.compute(cfg, data, apply_scope(recon, key[3]), base.as_of)
                held.views[key] = made
                held.warmed += 1
                if data_print is not None:
                    save_views(cfg, Period(start, end), data_print, _views_name_of(cfg, key[3]),
                               *page_views.to_files(made))
            except Exception:  # noqa: BLE001 - a warm-up that fails leaves the render to compute (and report)
                pass
            finally:
                held.warming.discard(key)

    threading.Thread(target=work, name="evidence-views-warm-up", daemon=True).start()


def coverage(v: View, by: tuple[str, ...]) -> pd.DataFrame:
    return _coverage(*bounded(v).key, by)


def _coverage(path: str | None, start: date, end: date, scope: Scope, by: tuple[str, ...]) -> pd.DataFrame:
    warm = _warm_table(path, start, end, scope, by)
    found = warm if warm is not None else _coverage_held(path, start, end, scope, by)
    return found.copy(deep=False)  # the held frame stays as it is


def _warm_table(path: str | None, start: date, end: date, scope: Scope, what: tuple[str, ...]) -> pd.DataFrame | None:
    """A table the warm-up computed from the data this server holds now (None: not warmed, or other data)."""
    found = _views_held().tables.get((path, start, end, scope, what))
    if found is None or (path, start, end) not in _data_prints() or found[0] != _data_prints()[(path, start, end)]:
        return None
    return found[1]


# Tables that can hold a line per day × operator (or per exception) are resources: st.cache_data would pickle
# them on every hit, a cost proportional to the rows at every render.
@st.cache_resource(ttl=TTL, max_entries=32, show_spinner=False)
def _coverage_held(path: str | None, start: date, end: date, scope: Scope, by: tuple[str, ...]) -> pd.DataFrame:
    return coverage_table(_scoped(path, start, end, scope), list(by))


def cell_totals(v: View, day: str | None, operator: str | None) -> Totals:
    """The day × operator drill-down's figures (None: every day or operator), from the cached coverage table."""
    return totals_where(coverage(v, ("day", "operator")), day=day, operator=operator)


ORDERINGS = ORDER_WORDS
"""The orderings a page may ask :func:`worst` for, with their words (pages import no core module)."""


def worst(v: View, by: tuple[str, ...], dimension: str, limit: int, order: str) -> BoundedView:
    """The coverage table by ``by``, bounded to its ``limit`` worst values of ``dimension`` (core: bounded_view)."""
    return _worst(*bounded(v).key, by, dimension, limit, order)


@st.cache_data(ttl=TTL, show_spinner=False)
def _worst(path: str | None, start: date, end: date, scope: Scope, by: tuple[str, ...], dimension: str, limit: int,
           order: str) -> BoundedView:
    return bounded_view(_coverage(path, start, end, scope, by), dimension, limit, order)


def exceptions(v: View) -> pd.DataFrame:
    return _exceptions(*bounded(v).key)


def _exceptions(path: str | None, start: date, end: date, scope: Scope) -> pd.DataFrame:
    warm = _warm_table(path, start, end, scope, EXCEPTIONS)
    return (warm if warm is not None else _exceptions_held(path, start, end, scope)).copy(deep=False)


EXCEPTIONS = ("exceptions",)
WARM_TABLES = (("day", "operator"), ("day", "route"), ("operator",), ("tenant",), ("route",), ("day",), EXCEPTIONS)
"""What the Coverage gaps page reads of a whole scope: warmed in the background with its views."""


@st.cache_resource(ttl=TTL, max_entries=16, show_spinner=False)
def _exceptions_held(path: str | None, start: date, end: date, scope: Scope) -> pd.DataFrame:
    return exceptions_table(_scoped(path, start, end, scope))


def failures(v: View) -> pd.DataFrame:
    """Failure events (with their replay state) in the view."""
    return _scoped(*bounded(v).key).failures.copy(deep=False)  # the shared frame stays as it is


PENDING_LIMIT_KEY = LIMIT_KEY
"""The ``[controls]`` key of the limit the oldest pending failure is held to (pages import no core module)."""


def backlog(v: View) -> Backlog:
    """The open failure events (pending, retrying) of the view, oldest first, ages at the view's minute, against
    the pending-age limit in force (core: assess/backlog.py)."""
    return open_backlog(failures(v), v.as_of, config(v.config_path).controls)


def shows_whole_data(v: View) -> bool:
    """Whether this session may see figures of the sources as a whole (records of every tenant): not under a grant
    limited to some tenants or days."""
    return not _admitted(v.config_path).bound.limited


def summary(v: View) -> Summary:
    return _summary(*bounded(v).key, v.as_of)


@st.cache_data(ttl=TTL, show_spinner=False)
def _summary(path: str | None, start: date, end: date, scope: Scope, as_of: datetime) -> Summary:
    data, _ = _reconciled(path, start, end)
    return summarize(data, _scoped(path, start, end, scope), as_of)


def worst_remediation_routes(v: View, limit: int) -> BoundedView:
    """The ``limit`` routes most in need of remediation (the pack's order), the rest in one line whose counts are
    exact sums (core: bounded_remediation of the summary's per-route remediation table)."""
    return _worst_remediation(*bounded(v).key, v.as_of, limit)


@st.cache_data(ttl=TTL, show_spinner=False)
def _worst_remediation(path: str | None, start: date, end: date, scope: Scope, as_of: datetime,
                       limit: int) -> BoundedView:
    return bounded_remediation(_summary(path, start, end, scope, as_of).remediation.routes, limit)


def controls(v: View) -> list[ControlResult]:
    return _controls(*bounded(v).key, v.as_of)


@st.cache_data(ttl=TTL, show_spinner=False)
def _controls(path: str | None, start: date, end: date, scope: Scope, as_of: datetime) -> list[ControlResult]:
    return evaluate_controls(_summary(path, start, end, scope, as_of), _scoped(path, start, end, scope),
                             config(path).controls)


def replay_routes(v: View) -> pd.DataFrame:
    """Failure events per route and replay state, every route (core: replay_by_route)."""
    return _replay_routes(*bounded(v).key)


@st.cache_data(ttl=TTL, show_spinner=False)
def _replay_routes(path: str | None, start: date, end: date, scope: Scope) -> pd.DataFrame:
    return replay_by_route(_scoped(path, start, end, scope).failures)


def worst_replay_routes(v: View, limit: int) -> BoundedView:
    """The routes with most failure events not yet replayed, the rest in one line (core: bounded_replay_routes)."""
    return bounded_replay_routes(replay_routes(v), limit)


def error_class_table(v: View) -> pd.DataFrame:
    return _error_classes(*bounded(v).key)


@st.cache_data(ttl=TTL, show_spinner=False)
def _error_classes(path: str | None, start: date, end: date, scope: Scope) -> pd.DataFrame:
    return error_classes(_scoped(path, start, end, scope))


# ---------------------------------------------------------------------------------------------- sources page


@dataclass(frozen=True)
class StoreFigures:
    """A store's whole-table figures (shown only to an unlimited grant: they count other tenants' rows)."""

    rows_total: int
    """Rows in the table, whatever their time."""
    rows_loaded: int
    """Rows read for the period (its days and the matching margin)."""
    rows_rejected: int
    """Rows read but set aside (an unparseable time …), each counted as an input problem."""
    first_record: pd.Timestamp | None
    """Time of the earliest record loaded; None when none was."""
    last_record: pd.Timestamp | None
    """Time of the latest record loaded (the page shows its age); None when none was."""


@dataclass(frozen=True)
class SourceFacts:
    """One store as the Sources page may show it to this user."""

    key: str
    """Which store: ``audit`` or ``operations``."""
    table: str
    """The table read, as named in the store."""
    read_only_mode: str
    """How read-only was enforced when the connection was opened."""
    columns_present: tuple[str, ...]
    """The canonical columns the table has (optional ones may be absent)."""
    finding: str | None
    """A problem with the connection itself (a role that can write); None when there is none."""
    location: str | None
    """The masked location (``display_url``); None for auditors."""
    figures: StoreFigures | None
    """Row counts and the loaded records' time range; None for a limited grant (whole-table figures)."""


@dataclass(frozen=True)
class LogFacts:
    """The Worker logs' whole-data figures (shown only to an unlimited grant: they count every tenant's events)."""

    files: int
    """Log files read."""
    skipped_files: int
    """Files not read in full: unreadable (with ``worker_logs.optional``) or cut at the size cap."""
    lines_read: int
    """Lines read from those files."""
    skipped_lines: int
    """Lines set aside (not JSON, cut off, too long), each counted, never dropped silently."""
    failure_events: int
    """``audit_log_insert_failed`` events read from those files (every one, not only the period's)."""


@dataclass(frozen=True)
class SourcesView:
    """What the Sources page may show this user."""

    sources: tuple[SourceFacts, ...]
    """Each store read, minus what this user may not see."""
    logs: LogFacts | None
    """The Worker logs' figures; None for a limited grant."""
    log_health: LogHealth | None
    """The log source's health for the period (``evidence-app logs``: invocations, gaps, per day); None for a
    limited grant."""
    issues: tuple[DataIssue, ...] | None
    """Input problems of the whole data; None for a limited grant (their examples name other tenants)."""
    config_file: str | None
    """The config's path: engineers, admins, or everyone when sign-in is off; else None."""
    config_text: str | None
    """The config's text, to the same users as :attr:`config_file`; else None."""


def sources(v: View) -> SourcesView:
    """Sources' facts, minus connection details for auditors and whole-data figures for limited grants."""
    found = _admitted(v.config_path)
    b = bounded(v)
    dataset, recon = _reconciled(b.config_path, b.start, b.end)
    whole = not found.bound.limited
    details = may_see_connection_details(found.role)
    cfg = config(v.config_path)
    return SourcesView(
        sources=tuple(_facts(s, whole, details) for s in dataset.sources),
        logs=_log_facts(dataset.logs) if whole else None,
        log_health=log_health(dataset, recon, Period(b.start, b.end)) if whole else None,
        issues=tuple(dataset.issues + recon.issues) if whole else None,
        config_file=str(cfg.path) if details else None,
        config_text=cfg.path.read_text(encoding="utf-8") if details else None,
    )


def _facts(s: SourceReport, whole: bool, details: bool) -> SourceFacts:
    return SourceFacts(key=s.key, table=s.table, read_only_mode=s.read_only_mode, columns_present=s.columns_present,
                       finding=s.finding, location=s.display_url if details else None,
                       figures=StoreFigures(s.rows_total, s.rows_loaded, s.rows_rejected, s.time_min, s.time_max)
                       if whole else None)


def _log_facts(logs: LogScan) -> LogFacts:
    return LogFacts(files=len(logs.files), skipped_files=len(logs.skipped_files), lines_read=logs.lines_read,
                    skipped_lines=logs.skipped_log_lines, failure_events=len(logs.failures))


# ---------------------------------------------------------------------------------------------- packs


def build_pack(v: View, signing: SigningOptions, generated_at: datetime,
               step: Callable[[str], None] | None = None) -> BuiltPack:
    """A signed pack of the bounded view; recorded (with its id) before it is offered."""
    from evidence_app.evidence.build import build_pack as build

    found = _admitted(v.config_path)
    b = bounded(v)
    who = found.identity
    limit = None
    if found.bound.limited:
        limit = (f"built by {who.email or who.sub if who else 'a signed-in user'} ({found.role}), whose access is "
                 f"limited to {found.bound.label()}: the pack shows nothing outside them")
    built = build(config(v.config_path), Period(b.start, b.end), b.scope, signing, generated_at, step=step,
                  stores=_stores(v.config_path), access_limit=limit)
    found.record("pack_build", "evidence_pack", pack_id=built.manifest["pack_id"], period=[b.start, b.end],
                 filters=dict(b.scope.items()), sha256=hashlib.sha256(built.data).hexdigest())
    return built


def pack_oscal(built: BuiltPack, file_name: str) -> bytes:
    """OSCAL Assessment Results of a pack just built, from its own contents (nothing recomputed), naming it."""
    from evidence_app.evidence import oscal

    ref = oscal.pack_ref(built.data, built.manifest, file_name)
    return oscal.dumps(oscal.assessment_results(oscal.assessment_of(built.contents, ref)))


def verify_pack(name: str, data: bytes, trust: TrustAnchors) -> Verification:
    """The same checks as ``evidence-app verify`` with ``trust`` as the trust anchors; the verdict is recorded
    before it is shown."""
    from evidence_app.evidence.verify import verify_pack as verify

    found = visitor()
    result = verify(data, trust)
    sha = hashlib.sha256(data).hexdigest()
    seen = st.session_state.setdefault("evidence_verified", set())
    if sha not in seen:  # a rerun shows the same verdict again: recorded once per session and file
        found.record("pack_verify", "evidence_pack", file=name, sha256=sha, ok=result.ok,
                     pack_id=(result.manifest or {}).get("pack_id"))
        seen.add(sha)
    return result


@st.cache_resource(show_spinner="Making a self-signed trial identity…")
def trial_identity() -> tuple[str, str]:
    """A throw-away self-signed key/cert for this server process (packs say so on their cover)."""
    import tempfile
    from pathlib import Path

    from evidence_app.evidence.sign import keygen

    key, cert = keygen(Path(tempfile.mkdtemp(prefix="evidence-app-trial-")))
    return str(key), str(cert)


# ---------------------------------------------------------------------------------------------- access log


def access_log(path: str | None, start: date | None, end: date | None) -> tuple[Verdict, list[Entry]]:
    """The access log's verdict and entries of the given days: admins only."""
    found = _admitted(path)
    if found.log is None or found.role != "admin":
        raise AccessDenied("the access log is for admins")
    return found.log.verify(), found.log.entries(start, end)


def access_log_csv(entries: list[Entry]) -> bytes:
    return entries_csv(entries).encode("utf-8")


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
