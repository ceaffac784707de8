"""Matching → per-operation states, duplicate and orphan rows, failure-event states.

Pure functions over canonical frames; nothing here reads a source or draws anything.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from evidence_app.columns.memory import release_freed
from evidence_app.columns.order import TextIds, in_order, micros
from evidence_app.columns.text import TEXT_DTYPE, codes_of, compact_labels, expanded, take_text
from evidence_app.config.settings import MatchingConfig
from evidence_app.issues import DataIssue, issue
from evidence_app.reconcile import rules
from evidence_app.reconcile._kernel import match
from evidence_app.reconcile.accuracy import inaccurate_details, incomplete_details
from evidence_app.reconcile.replay import failure_states
from evidence_app.reconcile.rules import OP_STATES, ORIGINS, REPLAY_STATES, ROW_STATUSES
from evidence_app.reconcile.tracing import TRACES, trace_operations
from evidence_app.reconcile.window import Period, Scope

# The rules' state functions as lookup tables, so millions of operations take their state by integer code.
_STATE_OF_ORIGIN = np.array([OP_STATES.index(rules.operation_state(o, None)) for o in ORIGINS], dtype=np.int64)
_SILENT = OP_STATES.index(rules.operation_state(None, None))
_MISSING_OF_FAILURE = np.array([OP_STATES.index(rules.operation_state(None, f)) for f in REPLAY_STATES],
                               dtype=np.int64)
_STATE_OF_TRACE = np.array([OP_STATES.index(rules.operation_state(None, None, t)) for t in TRACES], dtype=np.int64)
"""An uncovered operation without a failure event, by what the logs show of its invocation (clause 10)."""
_ROW_STATUS = np.array([[ROW_STATUSES.index(rules.row_status(serves, candidate)) for candidate in (False, True)]
                        for serves in (False, True)], dtype=np.int64)


@dataclass(frozen=True)
class Reconciliation:
    """Everything the views show, computed once."""

    operations: pd.DataFrame
    """In-window operations: canonical fields + day, state, audit_id, failure_id."""
    rows: pd.DataFrame
    """In-window audit rows: canonical fields + day, status, operation_id, and the fields each row is
    ``inaccurate`` / ``incomplete`` in (rules clause 8; missing where it is not)."""
    failures: pd.DataFrame
    """In-window failure events: fields + state, attempts, latency_seconds, error_class, operation_id."""
    issues: tuple[DataIssue, ...]
    period: Period
    tolerance_seconds: int


def reconcile(
    ops: pd.DataFrame,
    rows: pd.DataFrame,
    failures: pd.DataFrame,
    replays: pd.DataFrame,
    matching: MatchingConfig,
    period: Period = Period(),
    invocations: pd.DataFrame | None = None,
    text_ids: TextIds = TextIds(),
) -> Reconciliation:
    """Apply docs/DESIGN.md's rules. Inputs may extend past the period (the matching margin). ``invocations``
    (every invocation the logs hold, with ``[worker_logs] traces = "all"``) turns on clause 10: a silent drop
    must be traced by a complete invocation, else it is unprovable; None leaves it off."""
    ops = ops.reset_index(drop=True)
    rows = rows.reset_index(drop=True)
    failures = failures.reset_index(drop=True)
    tol = matching.tolerance_seconds
    origin_rank = _origin_ranks(rows["origin"])
    m = match(ops, "occurred_at", rows, "created_at", tol, row_rank=origin_rank,
              ids_as_text=(text_ids.operations, text_ids.audit))
    release_freed()  # the join's pair arrays

    fe = _failures_with_state(ops, rows, failures, replays, m.op_to_row, matching, text_ids)
    traced = None if invocations is None else trace_operations(ops, invocations, tol)
    op_frame = _operation_states(ops, rows, origin_rank, m.op_to_row, fe, traced)
    release_freed()
    row_frame = _row_statuses(ops, rows, m.row_to_op, m.row_candidate)
    row_frame["inaccurate"] = inaccurate_details(ops, rows, m.row_to_op, tol)
    row_frame["incomplete"] = incomplete_details(rows)
    issues = mapping_issues(ops, rows, matching)
    return Reconciliation(
        operations=_in(op_frame, "occurred_at", "id", period),
        rows=_in(row_frame, "created_at", "id", period),
        failures=_in(fe, "created_at", "failure_id", period),
        issues=issues,
        period=period,
        tolerance_seconds=tol,
    )


def _origin_ranks(origins: pd.Series) -> np.ndarray:
    """Each row's :func:`rules.origin_rank` (origins are canonical already: live, replay or backfill)."""
    rank = codes_of(origins, ORIGINS)
    rank[rank < 0] = rules.origin_rank(rules.UNKNOWN_ORIGIN)
    return rank


def apply_scope(recon: Reconciliation, scope: Scope) -> Reconciliation:
    """The same reconciliation seen through dimension filters (matching itself is unaffected)."""
    if not scope.items():
        return recon
    pick = lambda f: f[scope.mask(f)].reset_index(drop=True) if len(f) else f  # noqa: E731
    return replace(recon, operations=pick(recon.operations), rows=pick(recon.rows), failures=pick(recon.failures))


def _in(frame: pd.DataFrame, time_field: str, id_field: str, period: Period) -> pd.DataFrame:
    """The period's records in a stable order (time, then id), whatever order the source gave."""
    if frame.empty:
        return frame.reset_index(drop=True)
    return in_order(frame, time_field, id_field, period.contains(frame[time_field]).to_numpy())


def _failures_with_state(
    ops: pd.DataFrame,
    rows: pd.DataFrame,
    failures: pd.DataFrame,
    replays: pd.DataFrame,
    op_to_row: np.ndarray,
    matching: MatchingConfig,
    text_ids: TextIds = TextIds(),
) -> pd.DataFrame:
    if failures.empty:
        out = failures.copy()
        for col in ("state", "attempts", "latency_seconds", "last_error", "error_class", "operation_id"):
            out[col] = pd.Series(dtype=object)
        return out
    tol = matching.tolerance_seconds
    failures = failures.assign(id=failures["failure_id"])
    link = match(ops, "occurred_at", failures, "created_at", tol,
                 ids_as_text=(text_ids.operations, text_ids.failures))
    linked_op = link.row_to_op
    linked = linked_op >= 0
    linked_row = np.full(len(failures), -1, dtype=np.int64)
    linked_row[linked] = op_to_row[linked_op[linked]]
    # rules.failure_row_exists: the linked operation's row; for an event whose operation is not in the store,
    # a row whose best candidate the event is.
    direct = match(failures, "created_at", rows, "created_at", tol,
                   ids_as_text=(text_ids.failures, text_ids.audit))
    chosen_row = np.full(len(failures), -1, dtype=np.int64)
    has = direct.row_candidate >= 0
    chosen_row[direct.row_candidate[has]] = np.flatnonzero(has)
    cover_row = np.where(linked, linked_row, chosen_row)
    covered = cover_row >= 0
    if len(rows):
        picked = rows["inserted_at"].iloc[np.maximum(cover_row, 0)].reset_index(drop=True)
        inserted_at = picked.where(pd.Series(covered))
    else:
        inserted_at = pd.Series(pd.NaT, index=range(len(failures)), dtype="datetime64[us, UTC]")
    out = failure_states(failures.drop(columns="id"), covered, inserted_at, replays, matching.max_replay_attempts)
    out["operation_id"] = take_text(ops["id"], linked_op).set_axis(out.index)
    out["linked_op"] = linked_op
    return out


def _operation_states(ops: pd.DataFrame, rows: pd.DataFrame, origin_rank: np.ndarray, op_to_row: np.ndarray,
                      fe: pd.DataFrame, traced: np.ndarray | None = None) -> pd.DataFrame:
    out = ops.copy(deep=False)  # copy-on-write: new columns never touch the caller's frame
    covered = op_to_row >= 0
    at = np.maximum(op_to_row, 0)
    missing = np.full(len(ops), _SILENT, dtype=np.int64)
    fe_at = np.full(len(ops), -1, dtype=np.int64)
    if len(fe):
        linked = fe["linked_op"].to_numpy()
        ok = linked >= 0
        failure_state = codes_of(fe["state"], REPLAY_STATES)
        missing[linked[ok]] = _MISSING_OF_FAILURE[failure_state[ok]]
        fe_at[linked[ok]] = np.flatnonzero(ok)
    if traced is not None:  # clause 10: silence stands only where a complete invocation traces the operation
        missing = np.where(missing == _SILENT, _STATE_OF_TRACE[traced], missing)
    state = np.where(covered, _STATE_OF_ORIGIN[origin_rank[at]] if len(rows) else _SILENT, missing)
    out["state"] = compact_labels(state, OP_STATES).set_axis(out.index)
    if traced is not None:
        out["trace"] = compact_labels(traced, TRACES).set_axis(out.index)
    out["audit_id"] = take_text(rows["id"], np.where(covered, op_to_row, -1)).set_axis(out.index)
    if len(rows) and len(ops):
        delta = micros(rows["created_at"])[at] - micros(out["occurred_at"])
        out["match_delta_seconds"] = np.where(covered, delta / 1e6, np.nan)
    else:
        out["match_delta_seconds"] = np.nan
    out["failure_id"] = take_text(fe["failure_id"] if len(fe) else pd.Series([], dtype=TEXT_DTYPE),
                                  fe_at).set_axis(out.index)
    out["day"] = out["occurred_at"].dt.floor("D")
    return out


def _row_statuses(ops: pd.DataFrame, rows: pd.DataFrame, row_to_op: np.ndarray, row_candidate: np.ndarray) -> pd.DataFrame:
    out = rows.copy(deep=False)
    matched = row_to_op >= 0
    status = _ROW_STATUS[matched.astype(np.int64), (row_candidate >= 0).astype(np.int64)]
    out["status"] = compact_labels(status, ROW_STATUSES).set_axis(out.index)
    target = np.where(matched, row_to_op, row_candidate)
    out["operation_id"] = take_text(ops["id"], target).set_axis(out.index)
    out["day"] = out["created_at"].dt.floor("D")
    return out


@dataclass(frozen=True)
class ActionsSeen:
    """What the action mapping's checks (:func:`mapping_issues`) need of the records loaded, or of a part of them
    (:func:`merged_actions` puts disjoint parts together): a few distinct values, never a record."""

    operation_actions: frozenset[str]
    """The operations' actions."""
    operations: frozenset[str]
    """The operations' names."""
    row_actions: tuple[tuple[str | None, int], ...]
    """The audit rows counted by action (None: none), one pair per action."""


def actions_seen(ops: pd.DataFrame, rows: pd.DataFrame) -> ActionsSeen:
    """:class:`ActionsSeen` of these operations and audit rows."""
    counts = expanded(rows["action"]).value_counts(dropna=False, sort=False)
    return ActionsSeen(frozenset(pd.unique(ops["action"].dropna())), frozenset(pd.unique(ops["operation"].dropna())),
                       tuple((None if pd.isna(a) else str(a), int(n)) for a, n in counts.items() if n))


def merged_actions(parts: list[ActionsSeen]) -> ActionsSeen:
    """:class:`ActionsSeen` of disjoint parts of the records, as one."""
    counts: dict[str | None, int] = {}
    for part in parts:
        for action, n in part.row_actions:
            counts[action] = counts.get(action, 0) + n
    return ActionsSeen(frozenset().union(*(p.operation_actions for p in parts)),
                       frozenset().union(*(p.operations for p in parts)), tuple(counts.items()))


def mapping_issues(ops: pd.DataFrame, rows: pd.DataFrame, matching: MatchingConfig) -> tuple[DataIssue, ...]:
    """Audit actions no operation has, and mapped operations that never occur, among everything loaded."""
    return mapping_issues_of(actions_seen(ops, rows), matching)


def mapping_issues_of(seen: ActionsSeen, matching: MatchingConfig) -> tuple[DataIssue, ...]:
    """:func:`mapping_issues` from what was seen of the records (:func:`actions_seen`)."""
    known = set(seen.operation_actions) | set(matching.actions.values())
    counts: dict[str, int] = {}
    for action, n in seen.row_actions:
        if action is None or action not in known:  # a row without an action matches no operation's
            key = "<null>" if action is None else action
            counts[key] = counts.get(key, 0) + n
    unused = [op for op in matching.actions if op not in seen.operations]
    # most frequent first, ties by name: a function of the rows, not of the order they were read in
    named = [f"{a} (×{n})" for a, n in sorted(counts.items(), key=lambda an: (-an[1], an[0]))]
    found = [
        issue("audit", "unknown_action", "action", named,
              "no operation has this action; such rows can only be orphans"),
        issue("config", "unused_action_mapping", "matching.actions", unused,
              "mapped operation does not occur in the operations loaded"),
    ]
    if found[0] is not None:
        found[0] = DataIssue("audit", "unknown_action", "action", sum(counts.values()),
                             tuple(named[:len(found[0].examples)]), found[0].effect)
    return tuple(i for i in found if i is not None)
