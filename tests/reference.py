"""A plain, slow, obviously correct reconciliation built only from evidence_app.reconcile.rules.

Record by record, every operation against every row: no joins, no codes, no vectorised rounds. Tests
hold the fast kernel (reconcile.states + reconcile._kernel) to it on random scenarios.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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

    failure_state, failure_latency = {}, {}
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

    op_state, op_row = {}, {}
    for i, op in enumerate(O):
        j = op_to_row.get(i)
        linked_failure = op_to_failure.get(i)
        fstate = failure_state[F[linked_failure].id] if linked_failure is not None else None
        op_state[op.id] = rules.operation_state(R[j].origin if j is not None else None, fstate)
        op_row[op.id] = R[j].id if j is not None else None
    status = {r.id: rules.row_status(j in row_to_op, j in row_best) for j, r in enumerate(R)}
    return Outcome(op_state, op_row, status, failure_state,
                   {F[k].id: O[i].id for k, i in failure_to_op.items()} | {f.id: None for k, f in enumerate(F)
                                                                            if k not in failure_to_op},
                   failure_latency)
