"""A plain, slow, obviously correct reconciliation built only from evidence_app.reconcile.rules.

Record by record, every operation against every row: no joins, no codes, no vectorised rounds. Tests
hold the fast kernel (reconcile.states + reconcile._kernel) to it on random scenarios.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from evidence_app.reconcile import rules
from evidence_app.reconcile.rules import Record


@dataclass(frozen=True)
class Outcome:
    """What the reference decides, keyed by id."""

    op_state: dict[str, str]
    op_row: dict[str, str | None]
    row_status: dict[str, str]
    failure_state: dict[str, str]
    failure_op: dict[str, str | None]
    failure_latency: dict[str, float | None]
    """Latency of failures linked to an operation (seconds), None when not replayed."""
    row_inaccurate: dict[str, str] = field(default_factory=dict)
    """Row id → :func:`rules.detail` of the fields it is inaccurate in ("" when accurate)."""
    row_incomplete: dict[str, str] = field(default_factory=dict)
    """Row id → :func:`rules.detail` of the fields it lacks ("" when complete)."""
    all_failure_latency: dict[str, float | None] = field(default_factory=dict)
    """Latency of every failure event (linked or not), None while no matching row exists."""
    op_failure: dict[str, str | None] = field(default_factory=dict)
    """Operation id → the failure event linked to it."""


def _none(value: object) -> object:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _micros(ts: pd.Timestamp) -> int:
    return int(ts.value // 1000)


def _records(frame: pd.DataFrame, id_col: str, time_col: str, with_origin: bool) -> list[Record]:
    out = []
    for r in frame.to_dict("records"):
        out.append(Record(id=_none(r[id_col]), time_us=_micros(r[time_col]), action=_none(r["action"]),
                          tenant=_none(r["tenant"]), operator=_none(r["operator"]), target=_none(r["target"]),
                          request_id=_none(r["request_id"]),
                          origin=rules.origin_of(_none(r["origin"])) if with_origin else rules.NULL_ORIGIN))
    return out


def match(ops: list[Record], rows: list[Record], tolerance_s: int) -> tuple[dict[int, int], dict[int, int]]:
    """(operation → row accepted, row → its best candidate operation), by list position."""
    op_rank, row_rank = rules.id_order([o.id for o in ops]), rules.id_order([r.id for r in rows])
    pairs = []
    for i, op in enumerate(ops):
        for j, row in enumerate(rows):
            tier = rules.candidate_tier(op, row, tolerance_s)
            if tier is not None:
                key = rules.priority(row.origin, tier, row.time_us - op.time_us, op_rank[i], row_rank[j])
                pairs.append((key, i, j))
    pairs.sort()
    best: dict[int, int] = {}
    for _, i, j in pairs:
        best.setdefault(j, i)
    return rules.accept_greedily((i, j) for _, i, j in pairs), best


def reconcile(ops: pd.DataFrame, rows: pd.DataFrame, failures: pd.DataFrame, replays: pd.DataFrame,
              tolerance_s: int, max_attempts: int) -> Outcome:
    O = _records(ops, "id", "occurred_at", with_origin=False)  # noqa: N806 - the reference's notation
    R = _records(rows, "id", "created_at", with_origin=True)  # noqa: N806
    F = _records(failures, "failure_id", "created_at", with_origin=False)  # noqa: N806
    op_to_row, row_best = match(O, R, tolerance_s)
    row_to_op = {j: i for i, j in op_to_row.items()}

    op_to_failure, _ = match(O, F, tolerance_s)
    failure_to_op = {k: i for i, k in op_to_failure.items()}
    _, row_best_failure = match(F, [Record(r.id, r.time_us, r.action, r.tenant, r.operator, r.target,
                                           r.request_id) for r in R], tolerance_s)
    chosen = {k: j for j, k in sorted(row_best_failure.items())}  # the last row choosing it, as rows are ordered

    failure_state, failure_latency, all_latency = {}, {}, {}
    for k, f in enumerate(F):
        numbers = [_none(a) for fid, a in zip(replays["failure_id"], replays["attempt"]) if fid == f.id]
        outcomes = [o for fid, o in zip(replays["failure_id"], replays["outcome"]) if fid == f.id]
        linked = k in failure_to_op
        covered = linked and failure_to_op[k] in op_to_row
        exists = rules.failure_row_exists(linked, covered, k in chosen)
        claimed = any(o in rules.CLAIMED_OUTCOMES for o in outcomes)
        failure_state[f.id] = rules.replay_state(exists, claimed, rules.attempts_made(numbers), max_attempts)
        if linked:
            row = rows.iloc[op_to_row[failure_to_op[k]]] if covered else None
            inserted = None if row is None else _none(row["inserted_at"])
            claims = [t for fid, o, t in zip(replays["failure_id"], replays["outcome"], replays["logged_at"])
                      if fid == f.id and o in rules.CLAIMED_OUTCOMES]
            claimed_at = min(claims) if claims else None
            latency = rules.replay_latency_seconds(failures.iloc[k]["created_at"], inserted, claimed_at)
            failure_latency[f.id] = latency if covered else None
        all_latency[f.id] = _latency(f.id, failures.iloc[k]["created_at"], exists,
                                     rows.iloc[op_to_row[failure_to_op[k]]] if covered else
                                     rows.iloc[chosen[k]] if not linked and k in chosen else None, replays)

    op_state, op_row = {}, {}
    for i, op in enumerate(O):
        j = op_to_row.get(i)
        linked_failure = op_to_failure.get(i)
        fstate = failure_state[F[linked_failure].id] if linked_failure is not None else None
        op_state[op.id] = rules.operation_state(R[j].origin if j is not None else None, fstate)
        op_row[op.id] = R[j].id if j is not None else None
    status = {r.id: rules.row_status(j in row_to_op, j in row_best) for j, r in enumerate(R)}
    inaccurate = {}
    for j, r in enumerate(R):
        i = row_to_op.get(j)
        tier = None if i is None else rules.candidate_tier(O[i], r, tolerance_s)
        inaccurate[r.id] = rules.detail(rules.inaccurate_fields(O[i], r, tier, tolerance_s) if i is not None else ())
    incomplete = {r.id: rules.detail(rules.incomplete_fields(r)) for r in R}
    return Outcome(op_state, op_row, status, failure_state,
                   {F[k].id: O[i].id for k, i in failure_to_op.items()} | {f.id: None for k, f in enumerate(F)
                                                                            if k not in failure_to_op},
                   failure_latency, inaccurate, incomplete, all_latency,
                   {O[i].id: (F[op_to_failure[i]].id if i in op_to_failure else None) for i in range(len(O))})


def _latency(failure_id: str, created: pd.Timestamp, exists: bool, row: pd.Series | None,
             replays: pd.DataFrame) -> float | None:
    """:func:`rules.replay_latency_seconds` of one failure event whose row exists (else None)."""
    if not exists or row is None:
        return None
    claims = [t for fid, o, t in zip(replays["failure_id"], replays["outcome"], replays["logged_at"])
              if fid == failure_id and o in rules.CLAIMED_OUTCOMES]
    return rules.replay_latency_seconds(created, _none(row["inserted_at"]), min(claims) if claims else None)


def remediation(ops: pd.DataFrame, failures: pd.DataFrame, outcome: Outcome, settings, as_of: datetime) -> list[dict]:  # noqa: ANN001
    """Clause 9 record by record: one dict per route of the operations and failure events given (all of them
    in the period), a NULL route last."""
    op_routes = [_none(r) for r in ops["route"]]
    fe_routes = [_none(r) for r in failures["route"]] if len(failures) else []
    named = sorted({r for r in op_routes + fe_routes if r is not None})
    routes = named + ([None] if None in op_routes + fe_routes else [])
    out = []
    for route in routes:
        logs = [_none(f["logged_at"]) or f["created_at"] for f in failures.to_dict("records")
                if _none(f["route"]) == route]
        configured = settings.configured_fix(route)
        fix, source = rules.effective_fix(None if configured is None else _micros(pd.Timestamp(configured)),
                                          _micros(min(logs)) if logs else None, _micros(pd.Timestamp(as_of)))
        mine = [o for o, r in zip(ops.to_dict("records"), op_routes) if r == route]
        silent = [o for o in mine if outcome.op_state[o["id"]] == "missing_silent"]
        after = sum(rules.after_fix(_micros(o["occurred_at"]), fix) for o in silent)
        flags = [(_flag(o["audit_logged"]), outcome.op_failure[o["id"]] is not None, outcome.op_state[o["id"]])
                 for o in mine]
        events = [f["failure_id"] for f, r in zip(failures.to_dict("records"), fe_routes) if r == route]
        out.append({
            "route": route,
            "effective_fixed_at": None if fix is None else pd.Timestamp(fix, unit="us", tz="UTC"),
            "fix_source": source,
            "expected": len(mine),
            "missing_silent_before_fix": len(silent) - after,
            "missing_silent_after_fix": after,
            "failures": len(events),
            "replayed_within_sla": sum(rules.replayed_within_sla(outcome.all_failure_latency[e],
                                                                 settings.replay_sla_seconds) for e in events),
            "replay_sla_seconds": settings.replay_sla_seconds,
            "audit_logged_false": sum(flag is False for flag, _, _ in flags),
            "audit_logged_false_without_failure_event": sum(rules.flag_false_without_failure_event(flag, event)
                                                            for flag, event, _ in flags),
            "audit_logged_true_not_logged": sum(rules.flag_true_not_logged(flag, state) for flag, _, state in flags),
            "status": rules.route_status(fix is not None, len(silent), after),
        })
    return out


def _flag(value: object) -> bool | None:
    value = _none(value)
    return None if value is None or value is pd.NA else bool(value)
