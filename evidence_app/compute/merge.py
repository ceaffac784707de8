"""Partition results → the one ``Dataset`` and ``Reconciliation`` the unpartitioned run gives (same records, same
order, same states and issues), so every view (coverage, exceptions, replay, remediation, samples, the pack) reads
the same numbers.

Per-record results need no merging logic: no candidate pair, failure link or replay crosses a partition
(:mod:`evidence_app.compute.plan`), so each record's state is the one the single pass gives it. What is merged: the
frames (stacked, then put in the single pass's (time, id) order), the counts of input problems (added up; the
examples re-chosen), the checks that look across tenants (duplicate ids from the pre-pass; the action mapping over
everything loaded) and the source reports.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from evidence_app.columns.order import in_order, micros, micros_at, order_by_time_then_id
from evidence_app.columns.memory import release_freed
from evidence_app.columns.text import TEXT_DTYPE, codes_of, compact_labels, concat_rows
from evidence_app.compute.methodology import partitioning_sentence
from evidence_app.compute.partition import PartitionResult
from evidence_app.compute.routing import Routing
from evidence_app.config.settings import Config
from evidence_app.ingest.dataset import Dataset, SourceReport, read_window
from evidence_app.issues import DataIssue, issue, merged
from evidence_app.reconcile import Period, Reconciliation
from evidence_app.reconcile import rules
from evidence_app.reconcile.rules import OP_STATES, OpState, TraceMode
from evidence_app.reconcile.states import mapping_issues
from evidence_app.reconcile.tracing import TRACES, trace_operations

_ISSUE_ORDER = (
    "unrecognised_flag", "invalid_utf8", "blank_value", "unknown_origin", "unparseable_timestamp:inserted_at",
    "null_value:occurred_at", "null_value:created_at", "unparseable_timestamp:occurred_at",
    "unparseable_timestamp:created_at", "null_value:id", "null_value:operation", "null_value:action",
    "null_value:tenant", "null_value:operator", "duplicate_id",
)
"""The order in which ingest/canonical.py reports a store's problems (a test holds it to that module)."""
_UTF8_COLUMNS = ("id", "operation", "action", "route", "restaurant_id", "user_id", "target", "request_id", "origin")
_BLANK_COLUMNS = ("route", "target", "request_id")
DUPLICATE_EFFECT = "each row kept and reconciled separately"


def merge(config: Config, period: Period, routing: Routing,
          results: Iterable[PartitionResult]) -> tuple[Dataset, Reconciliation]:
    """Stack the partitions' frames in the single pass's order and add up what they counted. The loaded frames are
    consumed column by column (each partition's column given up once the merged one exists), and the reconciled
    frames are the merged loaded ones seen through the period with the partitions' computed columns beside them,
    sharing their columns as the single pass's do: memory holds the period once, not twice."""
    parts = list(results)
    window = read_window(config, period)
    sources = tuple(merged_source(tuple(p.sources[i] for p in parts)) for i in range(2))
    rejected = {k: stacked([p.rejected[k] for p in parts]) for k in ("operations", "audit")}
    issues = merged_issues([p.issues for p in parts], routing) + routing.logs.issues
    queries = routing.queries + tuple(q for p in parts for q in p.queries)
    ops, ops_at, op_cols = _merged_side([p.loaded_operations for p in parts], [p.operations for p in parts],
                                        "occurred_at", window, period)
    audit, _, row_cols = _merged_side([p.loaded_audit for p in parts], [p.rows for p in parts], "created_at",
                                      window, period)
    failures = [_relinked(p.failures, at) for p, at in zip(parts, ops_at)]
    del parts
    data = Dataset(config=config, period=period, operations=ops, audit=audit, logs=routing.logs, sources=sources,
                   rejected=rejected, issues=issues, queries=queries, partitioning=partitioning_sentence(routing.plan))
    operations = _reconciled(ops, op_cols, "occurred_at", period)
    if config.worker_logs.traces == TraceMode.ALL:
        operations = _traced(operations, ops, routing, period, config.matching.tolerance_seconds)
    recon = Reconciliation(
        operations=operations,
        rows=_reconciled(audit, row_cols, "created_at", period),
        failures=_ordered(failures, "created_at", "failure_id"),
        issues=mapping_issues(ops, audit, config.matching),
        period=period,
        tolerance_seconds=config.matching.tolerance_seconds,
    )
    return data, recon


def stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one under the other; with no records at all, the empty frame of the widest shape (a partition
    with no failure events at all has fewer columns than one whose events all lie outside the period)."""
    frames = [f for f in frames if len(f)] or sorted(frames, key=lambda f: -len(f.columns))[:1]
    return concat_rows(frames) if len(frames) > 1 else frames[0].reset_index(drop=True)


def _ordered(frames: list[pd.DataFrame], time_field: str, id_field: str) -> pd.DataFrame:
    """The partitions' in-period records in the single pass's order: by time, then id."""
    frame = stacked(frames)
    if frame.empty:
        return frame.reset_index(drop=True)
    return in_order(frame, time_field, id_field, np.ones(len(frame), dtype=bool))


def _in_period_order(frame: pd.DataFrame, field: str, period: Period) -> np.ndarray:
    """Positions of ``frame``'s in-period records in (time, id) order: the rows ``Reconciliation`` shows."""
    if frame.empty:
        return np.arange(0)
    inside = np.flatnonzero(period.contains(frame[field]).to_numpy())
    return inside[order_by_time_then_id(micros(frame[field].take(inside)), frame["id"].take(inside))]


def _merged_side(loaded: list[pd.DataFrame], computed: list[pd.DataFrame], field: str, window, period: Period,
                 ) -> tuple[pd.DataFrame, list[np.ndarray], pd.DataFrame]:  # noqa: ANN001
    """One store's loaded records as the single pass holds them (the window's by (time, id), then the request-id
    top-up beyond it); per partition, where each of its records went; and the partitions' computed columns in the
    merged frame's in-period (time, id) order."""
    shown = [_in_period_order(f, field, period) for f in loaded]  # where each computed row sits in its partition
    perm, at = _permutation(loaded, field, window)
    target = np.concatenate([a[s] for a, s in zip(at, shown)]) if shown else np.arange(0)
    merged = _consumed(loaded, perm)
    rank = np.full(len(merged), -1, dtype=np.int64)
    rank[target] = np.arange(len(target))
    return merged, at, _consumed(computed, rank[_in_period_order(merged, field, period)])


def _permutation(frames: list[pd.DataFrame], field: str, window) -> tuple[np.ndarray, list[np.ndarray]]:  # noqa: ANN001
    """The stacked frames' rows in the single pass's order (as positions into the stack), and per frame where each of
    its rows goes."""
    inside = [_inside(f, field, window) for f in frames]
    offsets = np.cumsum([0] + [len(f) for f in frames])
    win = np.concatenate([o + np.flatnonzero(m) for o, m in zip(offsets, inside)]) if frames else np.arange(0)
    beyond = np.concatenate([o + np.flatnonzero(~m) for o, m in zip(offsets, inside)]) if frames else np.arange(0)
    if len(win):
        times = np.concatenate([micros(f[field])[m] for f, m in zip(frames, inside)])
        ids = _joined([f["id"][m] for f, m in zip(frames, inside) if m.any()])
        win = win[order_by_time_then_id(times, ids)]
    perm = np.concatenate([win, beyond]).astype(np.int64)
    where = np.empty(len(perm), dtype=np.int64)
    where[perm] = np.arange(len(perm))
    return perm, [where[o:o + len(f)] for o, f in zip(offsets, frames)]


def _consumed(frames: list[pd.DataFrame], perm: np.ndarray) -> pd.DataFrame:
    """The frames stacked and put in ``perm`` order, column by column; each frame's column is given up as soon as the
    merged one exists, so the peak holds one column twice, not every column."""
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    nonempty = [f for f in frames if len(f)] or frames[:1]
    out = {}
    for name in list(frames[0].columns):
        pieces = [pd.DataFrame({name: f[name]}) for f in nonempty]
        for f in frames:
            del f[name]
        if all(p[name].dtype == TEXT_DTYPE for p in pieces):  # text: the pieces' buffers joined, not copied
            stacked = _joined([p[name] for p in pieces])
        else:
            stacked = concat_rows(pieces)[name] if len(pieces) > 1 else pieces[0][name].reset_index(drop=True)
        del pieces
        out[name] = stacked.take(perm).reset_index(drop=True)
        del stacked
        release_freed()
    return pd.DataFrame(out, copy=False)


def _joined(parts: list[pd.Series]) -> pd.Series:
    """Series one after another as one series; Arrow text is joined as chunks (no copy of the strings), anything
    else is concatenated."""
    if parts and all(p.dtype == TEXT_DTYPE for p in parts):
        chunks = [c for p in parts for c in pa.chunked_array(p.array._pa_array).chunks]
        joined = pa.chunked_array(chunks, type=parts[0].array._pa_array.type)
        return pd.Series(pd.arrays.ArrowStringArray(joined), dtype=TEXT_DTYPE)
    frames = [pd.DataFrame({"v": p.reset_index(drop=True)}) for p in parts]
    return concat_rows(frames)["v"] if len(frames) > 1 else frames[0]["v"]


def _reconciled(loaded: pd.DataFrame, computed: pd.DataFrame, field: str, period: Period) -> pd.DataFrame:
    """``Reconciliation``'s frame: the loaded records in the period, in (time, id) order (a slice sharing the loaded
    columns where it can, as the single pass's), with the computed columns beside them."""
    if loaded.empty:
        frame = loaded.reset_index(drop=True)
    else:
        frame = in_order(loaded, field, "id", period.contains(loaded[field]).to_numpy())
    out = frame.copy(deep=False)
    for name in computed.columns:
        out[name] = computed[name].set_axis(out.index)
    return out


def _inside(frame: pd.DataFrame, field: str, window) -> np.ndarray:  # noqa: ANN001
    if window is None or frame.empty:
        return np.ones(len(frame), dtype=bool)
    t = micros(frame[field])
    return (t >= micros_at(window.start)) & (t < micros_at(window.end))


def _traced(operations: pd.DataFrame, loaded: pd.DataFrame, routing: Routing, period: Period,
            tolerance_s: int) -> pd.DataFrame:
    """Clause 10 over the whole period: an invocation carries no tenant, so which operation it traces is decided
    here, over every operation loaded (as the single pass does), and the silent drops it leaves untraced become
    unprovable; the partitions reconciled without it."""
    traced = trace_operations(loaded, routing.logs.invocations, tolerance_s)
    keep = np.flatnonzero(period.contains(loaded["occurred_at"]).to_numpy())
    in_period = keep[order_by_time_then_id(micros(loaded["occurred_at"].take(keep)), loaded["id"].take(keep))]
    traced = traced[in_period]
    assert len(traced) == len(operations), "the merged operations are the period's"
    state = codes_of(operations["state"], OP_STATES)
    of_trace = np.array([OP_STATES.index(rules.operation_state(None, None, t)) for t in TRACES], dtype=np.int64)
    silent = state == OP_STATES.index(OpState.MISSING_SILENT)
    state = np.where(silent, of_trace[traced], state)
    out = operations.copy(deep=False)
    out["state"] = compact_labels(state, OP_STATES).set_axis(out.index)
    out.insert(out.columns.get_loc("state") + 1, "trace", compact_labels(traced, TRACES).set_axis(out.index))
    return out


def _relinked(failures: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    """A failure's ``linked_op`` re-pointed from its partition's operations to the merged ones."""
    if "linked_op" not in failures or failures.empty:
        return failures
    linked = failures["linked_op"].to_numpy()
    return failures.assign(linked_op=np.where(linked >= 0, at[np.maximum(linked, 0)] if len(at) else -1, -1))


def merged_source(parts: tuple[SourceReport, ...]) -> SourceReport:
    """One store's report: what every partition read of it, added up."""
    mins = [p.time_min for p in parts if p.time_min is not None]
    maxs = [p.time_max for p in parts if p.time_max is not None]
    return replace(parts[0], rows_loaded=sum(p.rows_loaded for p in parts),
                   rows_rejected=sum(p.rows_rejected for p in parts),
                   time_min=min(mins) if mins else None, time_max=max(maxs) if maxs else None)


def merged_issues(parts: list[tuple[DataIssue, ...]], routing: Routing) -> tuple[DataIssue, ...]:
    """The stores' input problems as the single pass counts them, from each partition's own: each kind added up
    over the partitions, in the order canonical.py reports them; duplicate ids from the pre-pass (they may lie in
    two partitions)."""
    out: list[DataIssue] = []
    for source in ("operations", "audit"):
        found: dict[tuple[str, str], list[DataIssue]] = {}
        for issues in parts:
            for i in issues:
                if i.source == source and i.kind != "duplicate_id":
                    found.setdefault((i.kind, i.column), []).append(i)
        issues = [merged(v) for v in found.values()]
        dup = issue(source, "duplicate_id", "id", routing.duplicate_ids.get(source, ()), DUPLICATE_EFFECT)
        out += sorted(issues, key=_issue_rank) + ([dup] if dup is not None else [])
    return tuple(out)


def _issue_rank(i: DataIssue) -> tuple[int, int]:
    key = f"{i.kind}:{i.column}"
    rank = _ISSUE_ORDER.index(key) if key in _ISSUE_ORDER else (
        _ISSUE_ORDER.index(i.kind) if i.kind in _ISSUE_ORDER else len(_ISSUE_ORDER))
    sub = (_UTF8_COLUMNS.index(i.column) if i.kind == "invalid_utf8" and i.column in _UTF8_COLUMNS else
           _BLANK_COLUMNS.index(i.column) if i.kind == "blank_value" and i.column in _BLANK_COLUMNS else 0)
    return rank, sub
