"""Config + period → every source loaded read-only into canonical frames, then reconciled."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import partial
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from evidence_app.columns.memory import release_freed
from evidence_app.columns.order import micros, micros_at, order_by_time_then_id
from evidence_app.columns.text import concat_rows, take_rows, text_in, text_set
from evidence_app.config.settings import Config
from evidence_app.ingest.canonical import (
    REPETITIVE_COLUMNS,
    Canonical,
    DataIssue,
    canonical_audit,
    canonical_operations,
)
from evidence_app.ingest.extraction import QueryRecord
from evidence_app.ingest.logpush import LogScan, scan_logs
from evidence_app.ingest.sources import (
    Store,
    TenantFilter,
    Window,
    count_rows,
    open_store,
    select_frame,
    select_outside,
)
from evidence_app.reconcile.rules import window_margin_seconds
from evidence_app.reconcile.window import Period

Progress = Callable[[str, int], None]
"""Called as progress(stage, units_done_since_last_call)."""

_FAR_PAST = datetime(1900, 1, 1, tzinfo=timezone.utc)
_FAR_FUTURE = datetime(9000, 1, 1, tzinfo=timezone.utc)
"""The span a windowed read covers: a period reaching past it (``--start 0001-01-01``) reads as unbounded
on that side, the same as giving no date (and the window's margins stay within what a date can hold)."""


@dataclass(frozen=True)
class SourceReport:
    """What one store looked like when read: for the Sources page and the pack's methodology."""

    key: str
    display_url: str
    dialect: str
    table: str
    read_only_mode: str
    write_capable: bool | None
    rows_total: int
    rows_loaded: int
    rows_rejected: int
    time_min: pd.Timestamp | None
    time_max: pd.Timestamp | None
    columns_present: tuple[str, ...]

    @property
    def finding(self) -> str | None:
        if self.write_capable:
            return ("connected with a role that can write to the audited table (INSERT, UPDATE, DELETE, TRUNCATE or "
                    "TRIGGER, on the table or a column, directly or through a role)")
        return None


@dataclass(frozen=True)
class Dataset:
    """Everything read for one period, canonical and typed."""

    config: Config
    period: Period
    operations: pd.DataFrame
    audit: pd.DataFrame
    logs: LogScan
    sources: tuple[SourceReport, ...]
    rejected: dict[str, pd.DataFrame]
    issues: tuple[DataIssue, ...]
    queries: tuple[QueryRecord, ...] = ()
    """Every SELECT sent to the stores, as sent, with the rows it returned (re-performable extraction)."""
    partitioning: str | None = None
    """How the period was split into partitions, in words for the methodology (evidence_app.compute); None: one
    pass."""


def open_stores(config: Config) -> tuple[Store, Store]:
    """(operations, audit), both read-only; callers may keep them (the UI caches them)."""
    return open_store(config.operations), open_store(config.audit)


def load_dataset(config: Config, period: Period, progress: Progress | None = None,
                 stores: tuple[Store, Store] | None = None,
                 tenants: tuple[TenantFilter, TenantFilter] | None = None,
                 logs: LogScan | None = None, top_up: tuple[bool, bool] = (True, True)) -> Dataset:
    """Fetch the period plus the matching margin from both stores (opened here unless given), read the logs.
    A partition (evidence_app.compute) passes its (operations, audit) ``tenants``, pushed into the window's
    SELECTs, its share of the ``logs`` read once for all partitions, and whether the request-id top-up of
    (operations, audit) can find anything (the routing pre-pass knows)."""
    ops_tenants, audit_tenants = tenants or (None, None)
    window = read_window(config, period)
    ops_store, audit_store = stores or open_stores(config)
    queries: list[QueryRecord] = []
    audit_queries: list[QueryRecord] = []
    # A list of stores reports rows held by an entry that does not name their tenant; one list per side, so the
    # thread reading the audit table never hands its findings to the operations.
    ops_outside: list[DataIssue] = []
    audit_outside: list[DataIssue] = []
    # The audit table is read while the operations are read and canonicalised (the drivers and Arrow leave the
    # GIL: two cores read at once); each store is still canonicalised and sorted on its own, and every
    # intermediate frame is given up as soon as its successor exists.
    with _beside(concurrent_reads(ops_store, audit_store), partial(select_frame, report=audit_outside.append),
                 audit_store, "created_at", window, _stage(progress, "audit rows"), audit_queries.append,
                 REPETITIVE_COLUMNS, audit_tenants) as audit_raw:
        ops_c = canonical_operations(
            select_frame(ops_store, "occurred_at", window, _stage(progress, "operations"), queries.append,
                         REPETITIVE_COLUMNS, ops_tenants, report=ops_outside.append), config.matching
        )
        ops_c = _with_issues(ops_c, ops_outside)
        ops, ops_c = _trim(ops_c, "occurred_at", window)
        release_freed()
        audit_c = _with_issues(canonical_audit(audit_raw()), audit_outside)
    queries += audit_queries
    audit, audit_c = _trim(audit_c, "created_at", window)
    release_freed()
    if window is not None:
        ops, audit = _request_id_top_up(ops_store, audit_store, ops, audit, period, window, config, queries.append,
                                        top_up)
    if logs is None:
        logs = scan_logs(config.log_paths, config.matching, _file_progress(progress), config.worker_logs)
    sources = (
        _report(ops_store, ops, len(ops_c.rejected), "occurred_at"),
        _report(audit_store, audit, len(audit_c.rejected), "created_at"),
    )
    return Dataset(
        config=config,
        period=period,
        operations=ops,
        audit=audit,
        logs=logs,
        sources=sources,
        rejected={"operations": ops_c.rejected, "audit": audit_c.rejected},
        issues=ops_c.issues + audit_c.issues + logs.issues,
        queries=tuple(queries),
    )


def concurrent_reads(*stores: Store) -> bool:
    """Whether these stores may be read at the same time, each on its own thread: no D1 dump, alone or in a list
    (one private in-memory connection, with its read clock and memory cap)."""
    return all(store.config.d1_dump is None and all(s.d1_dump is None for s in store.config.stores)
               for store in stores)


@contextmanager
def _beside(concurrent: bool, read: Callable[..., pd.DataFrame], *args: object) -> Iterator[Callable[[], pd.DataFrame]]:
    """``read(*args)`` started on a thread of its own when ``concurrent`` (else run when asked for): yields the
    function that hands its frame over (raising what it raised), keeping no reference to it. Leaving the block
    waits for the thread, whatever happened inside it: no read outlives the load."""
    if not concurrent:
        yield lambda: read(*args)
        return
    held: list[pd.DataFrame] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-read") as pool:
        future = pool.submit(lambda: held.append(read(*args)))

        def handed_over() -> pd.DataFrame:
            future.result()
            return held.pop()

        yield handed_over


def _with_issues(loaded: Canonical, found: list[DataIssue]) -> Canonical:
    """``loaded`` with the issues its read reported (``found``, emptied) counted before its duplicate ids, where the
    partitions' merge puts a kind of its own."""
    if not found:
        return loaded
    issues = list(loaded.issues)
    at = next((i for i, x in enumerate(issues) if x.kind == "duplicate_id"), len(issues))
    issues[at:at] = found
    found.clear()
    return replace(loaded, issues=tuple(issues))


def _window(period: Period, margin_s: int) -> Window | None:
    if period.start is None and period.end is None:
        return None
    start = max(period.start_ts, pd.Timestamp(_FAR_PAST)) if period.start_ts is not None else _FAR_PAST
    end = min(period.end_ts, pd.Timestamp(_FAR_FUTURE)) if period.end_ts is not None else _FAR_FUTURE
    return Window(pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime()).widened(margin_s)


def _trim(loaded: Canonical, field: str, window: Window | None) -> tuple[pd.DataFrame, Canonical]:
    """Exact window filter after parsing (the SQL filter is a deliberate superset), sorted by
    (time, id) once here so every later view of the period is a slice, not a copy. Consumes ``loaded``'s
    frame column by column (each unsorted column goes once its sorted copy exists); returns the frame and
    ``loaded`` without it (its rejected rows and issues stay)."""
    frame = loaded.frame
    rest = replace(loaded, frame=frame.iloc[:0].copy())
    t = micros(frame[field])
    if window is None:
        inside = np.arange(len(frame))
    else:
        inside = np.flatnonzero((t >= micros_at(window.start)) & (t < micros_at(window.end)))
    ids = frame["id"] if len(inside) == len(frame) else frame["id"].take(inside)
    positions = inside[order_by_time_then_id(t[inside], ids)]
    del ids, t
    if len(positions) == len(frame) and bool(np.all(np.diff(positions) == 1)):
        return frame, rest  # loaded in order already: nothing to copy
    out = {}
    for name in list(frame.columns):
        out[name] = take_rows(frame.pop(name), positions)
        release_freed()  # the unsorted column's pages go back now, not after the last copy is made
    return pd.DataFrame(out, copy=False), rest


def _request_id_top_up(
    ops_store: Store,
    audit_store: Store,
    ops: pd.DataFrame,
    audit: pd.DataFrame,
    period: Period,
    window: Window,
    config: Config,
    record: Callable[[QueryRecord], None] | None = None,
    fetch: tuple[bool, bool] = (True, True),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A shared request id matches whatever the clocks say: fetch counterparts outside the window (of the
    (operations, audit) sides ``fetch`` allows)."""
    want_rows = _absent(ops["request_id"][period.contains(ops["occurred_at"])], audit["request_id"])
    want_ops = _absent(audit["request_id"][period.contains(audit["created_at"])], ops["request_id"])
    if want_rows and fetch[1] and "request_id" in audit_store.present:
        raw = select_outside(audit_store, "created_at", window, "request_id", want_rows, record)
        extra = canonical_audit(raw).frame
        audit = concat_rows([audit, _outside(extra, "created_at", window)])
    if want_ops and fetch[0] and "request_id" in ops_store.present:
        raw = select_outside(ops_store, "occurred_at", window, "request_id", want_ops, record)
        extra = canonical_operations(raw, config.matching).frame
        ops = concat_rows([ops, _outside(extra, "occurred_at", window)])
    return ops, audit


def _absent(wanted: pd.Series, present: pd.Series) -> list[str]:
    """Sorted distinct non-null values of ``wanted`` that ``present`` lacks."""
    w = wanted.dropna()
    return sorted(pd.unique(w[~text_in(w, text_set(present))]))


def _outside(frame: pd.DataFrame, field: str, window: Window) -> pd.DataFrame:
    t = frame[field]
    return frame[(t < pd.Timestamp(window.start)) | (t >= pd.Timestamp(window.end))]


def _report(store: Store, frame: pd.DataFrame, rejected: int, field: str) -> SourceReport:
    t = frame[field]
    return SourceReport(
        key=store.key,
        display_url=store.config.display_url,
        dialect=store.dialect,
        table=store.config.table,
        read_only_mode=store.read_only_mode,
        write_capable=store.write_capable,
        rows_total=count_rows(store),
        rows_loaded=len(frame),
        rows_rejected=rejected,
        time_min=t.min() if len(t) else None,
        time_max=t.max() if len(t) else None,
        columns_present=tuple(sorted(store.present)),
    )


def _stage(progress: Progress | None, stage: str) -> Callable[[int], None] | None:
    if progress is None:
        return None
    return lambda n: progress(stage, n)


def _file_progress(progress: Progress | None) -> Callable[[str], None] | None:
    if progress is None:
        return None
    return lambda _path: progress("log files", 1)


def read_window(config: Config, period: Period) -> Window | None:
    """The window ``load_dataset`` reads for ``period`` (the period ± the matching margin); None: everything."""
    return _window(period, window_margin_seconds(config.matching.tolerance_seconds))
