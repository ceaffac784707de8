"""Coverage tables by any combination of dimensions, and the exceptions list."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np
import pandas as pd

from evidence_app.columns.keys import joint_key, packed
from evidence_app.columns.text import codes_of, concat_rows, expanded
from evidence_app.errors import UsageError
from evidence_app.formatting import iso_utc_column
from evidence_app.reconcile.rules import COVERED_STATES, LOGGED_STATES, MISSING_STATES, OP_STATES, OpState, RowStatus
from evidence_app.reconcile.states import Reconciliation

DIMENSIONS = ("day", "operator", "route", "tenant", "action")
COUNT_FIELDS = ("expected", *COVERED_STATES, "missing", *MISSING_STATES)
RATIO_FIELDS = ("coverage_logged", "coverage_after_replay")
EXCEPTION_FIELDS = ("kind", "operation_id", "audit_id", "day", "operator", "tenant", "action", "route", "occurred_at",
                    "detail")
ROW_FINDINGS = ("inaccurate", "incomplete")
"""Exception kinds about a row's content (rules clause 8); ``detail`` names the fields, empty for other kinds."""


@dataclass(frozen=True)
class Totals:
    """Coverage of one population (the coverage table with no dimensions): counts, then ratios."""

    expected: int
    """Operations in the period and scope."""
    logged: int
    """Covered by a live row."""
    replayed: int
    """Covered by a replayed row (no live row)."""
    backfilled: int
    """Covered by a backfilled row (no live or replayed row)."""
    missing: int
    """Not covered: missing_pending + missing_abandoned + missing_silent + missing_unprovable."""
    missing_pending: int
    """A failure event was seen; no row yet, replay budget left."""
    missing_abandoned: int
    """The replay job gave up."""
    missing_silent: int
    """No row and no failure event: a silent drop (with every invocation in the logs: a complete one traces it)."""
    missing_unprovable: int
    """No row and no failure event, and the logs (holding every invocation) show no complete invocation of it: a
    lost batch or a truncated invocation; nobody can say whether a failure was logged."""
    coverage_logged: float | None
    """logged ÷ expected; None when nothing was expected."""
    coverage_after_replay: float | None
    """(logged + replayed + backfilled) ÷ expected; None when nothing was expected."""

    @property
    def covered(self) -> int:
        return self.logged + self.replayed + self.backfilled

    def share(self, field: str) -> float | None:
        """A count as a share of the expected operations (None when nothing was expected)."""
        return getattr(self, field) / self.expected if self.expected else None

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def totals(recon: Reconciliation) -> Totals:
    """The coverage of everything in the reconciliation (one row, no dimensions)."""
    return _totals_of(coverage_table(recon, []).iloc[0])


def totals_of_counts(counts: pd.DataFrame) -> Totals:
    """:func:`totals` from :func:`state_counts` without dimensions (of one run, or summed over parts)."""
    return _totals_of(coverage_of_counts(counts, []).iloc[0])


def totals_where(table: pd.DataFrame, **equal: object) -> Totals:
    """The coverage of a coverage table's lines whose columns hold the given values (None: any value), summed and
    its ratios recomputed from the sums: a drill-down selection's figures."""
    for column, value in equal.items():
        if value is not None:
            table = table[table[column] == value]
    summed = pd.DataFrame([{s: int(table[s].sum()) for s in OP_STATES}])
    return _totals_of(with_ratios(summed).iloc[0])


def _totals_of(row: pd.Series) -> Totals:
    """A coverage table's line as :class:`Totals`."""
    return Totals(**{f: int(row[f]) for f in COUNT_FIELDS},
                  **{f: (None if row[f] is None else float(row[f])) for f in RATIO_FIELDS})


def parse_dimensions(text: str | None) -> list[str]:
    """``day,operator`` → ['day', 'operator']; unknown or repeated names are a usage error."""
    if not text:
        return []
    dims = [d.strip() for d in text.split(",") if d.strip()]
    for d in dims:
        if d not in DIMENSIONS:
            raise UsageError(f"--by: unknown dimension {d!r} (choose from {', '.join(DIMENSIONS)})")
    if len(set(dims)) != len(dims):
        raise UsageError(f"--by: a dimension is repeated in {text!r}")
    return dims


def coverage_table(recon: Reconciliation, by: Sequence[str] = ()) -> pd.DataFrame:
    """One row per combination of ``by`` (all operations when empty) with counts and ratios."""
    return coverage_of_counts(state_counts(recon, by), by)


def state_counts(recon: Reconciliation, by: Sequence[str] = ()) -> pd.DataFrame:
    """One row per combination of ``by`` (in :func:`coverage_table`'s order) with its operations counted by state:
    the additive part of a coverage table (a partitioned run adds these up, :func:`summed_counts`)."""
    ops = recon.operations
    by = list(by)
    state = codes_of(ops["state"], OP_STATES)
    if not by:
        counts = np.bincount(state[state >= 0], minlength=len(OP_STATES))
        return pd.DataFrame([dict(zip(OP_STATES, counts.tolist()))])
    if not len(ops):
        return pd.DataFrame({**{d: expanded(ops[d]).iloc[:0] for d in by},
                             **{s: pd.Series(dtype=np.int64) for s in OP_STATES}})
    group, keys = _groups([ops[d] for d in by])
    counted = state >= 0
    counts = np.bincount(packed([group[counted], state[counted]], [len(keys[0]), len(OP_STATES)]),
                         minlength=len(keys[0]) * len(OP_STATES)).reshape(-1, len(OP_STATES))
    return pd.DataFrame({**dict(zip(by, keys)), **{s: counts[:, i] for i, s in enumerate(OP_STATES)}})


def summed_counts(parts: Sequence[pd.DataFrame], by: Sequence[str] = ()) -> pd.DataFrame:
    """:func:`state_counts` of disjoint parts of the operations (each operation in exactly one) → those of all of
    them: equal combinations' counts added, the combinations numbered as :func:`state_counts` numbers them. At least
    one part (a part without operations holds no combination, or a row of zeros without dimensions)."""
    by = list(by)
    held = [p for p in parts if len(p)]
    if not held:
        return parts[0]
    counts = np.concatenate([p[list(OP_STATES)].to_numpy(dtype=np.int64) for p in held])
    if not by:
        return pd.DataFrame([dict(zip(OP_STATES, counts.sum(axis=0).tolist()))])
    group, keys = _groups([concat_rows([pd.DataFrame({d: p[d]}) for p in held])[d] for d in by])
    summed = np.zeros((len(keys[0]), len(OP_STATES)), dtype=np.int64)
    np.add.at(summed, group, counts)
    return pd.DataFrame({**dict(zip(by, keys)), **{s: summed[:, i] for i, s in enumerate(OP_STATES)}})


def coverage_of_counts(counts: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """:func:`state_counts` (of one run, or summed over parts) → the coverage table: sums and ratios added."""
    return _with_ratios(counts, list(by))


def _groups(columns: list[pd.Series]) -> tuple[np.ndarray, list[pd.Series]]:
    """Each record's group (the distinct combinations of ``columns``' values, numbered in sorted order, missing
    last in each column: what ``groupby(sort=True, dropna=False)`` gives) and each group's values. One integer
    code per record, where a one-hot frame of states grouped by pandas held a column per state."""
    group, _ = pd.factorize(joint_key((_sorted_codes(column) for column in columns), sort=True), sort=True)
    first = np.empty(int(group.max()) + 1, dtype=np.int64)
    first[group[::-1]] = np.arange(len(group) - 1, -1, -1)  # each group's first record names its values
    return group.astype(np.int64), [expanded(column.take(first).reset_index(drop=True)) for column in columns]


def _sorted_codes(column: pd.Series) -> tuple[np.ndarray, int]:
    """Each value's rank among the column's distinct values, missing after every value; and how many ranks."""
    codes, names = pd.factorize(column, sort=True, use_na_sentinel=True)
    return np.where(codes < 0, len(names), codes).astype(np.int64), len(names) + 1


def _with_ratios(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Counts → the missing and expected sums and :func:`rules.coverage_ratios`, for every row at once."""
    t = with_ratios(table)
    if "day" in by:
        t["day"] = t["day"].dt.strftime("%Y-%m-%d")
    return t[by + list(COUNT_FIELDS) + list(RATIO_FIELDS)].reset_index(drop=True)


def with_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` (one column per operation state) with ``missing``, ``expected`` and both coverage
    ratios added: the one place a coverage table's derived columns are computed (also for summed lines)."""
    t = table.copy()
    t["missing"] = sum(t[s] for s in MISSING_STATES)
    covered = sum(t[s] for s in COVERED_STATES)
    t["expected"] = covered + t["missing"]
    expected = t["expected"].where(t["expected"] > 0)
    t["coverage_logged"] = (sum(t[s] for s in LOGGED_STATES) / expected).astype(object).where(expected.notna(), None)
    t["coverage_after_replay"] = (covered / expected).astype(object).where(expected.notna(), None)
    for field in COUNT_FIELDS:
        t[field] = t[field].astype(np.int64)
    return t


def exceptions_table(recon: Reconciliation) -> pd.DataFrame:
    """Every operation not covered, every orphan or duplicate row, and every inaccurate or incomplete row (a row
    may be listed under several kinds), oldest first."""
    ops = recon.operations
    missing = ops[ops["state"].isin(MISSING_STATES)]
    op_part = pd.DataFrame(
        {
            "kind": missing["state"],
            "operation_id": missing["id"],
            "audit_id": None,
            "day": missing["day"],
            "operator": missing["operator"],
            "tenant": missing["tenant"],
            "action": missing["action"],
            "route": missing["route"],
            "occurred_at": missing["occurred_at"],
            "detail": _trace_detail(missing),
        }
    )
    rows = recon.rows
    odd = rows[rows["status"] != RowStatus.MATCHED]
    parts = [op_part, _row_part(odd, odd["status"], "")]
    for kind in ROW_FINDINGS:
        found = rows[rows[kind].notna()] if kind in rows else rows.head(0)
        parts.append(_row_part(found, kind, found[kind] if len(found) else ""))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame({f: pd.Series(dtype=object) for f in EXCEPTION_FIELDS})
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["occurred_at", "kind", "operation_id", "audit_id"], na_position="first", kind="mergesort")
    out["day"] = out["day"].dt.strftime("%Y-%m-%d")
    out["occurred_at"] = iso_utc_column(out["occurred_at"])
    return out[list(EXCEPTION_FIELDS)].reset_index(drop=True).astype(object).where(lambda d: d.notna(), None)


def _trace_detail(missing: pd.DataFrame) -> pd.Series | str:
    """``not_in_logs`` or ``truncated`` for an unprovable operation (clause 10); empty for the other states."""
    if "trace" not in missing:
        return ""
    unprovable = (missing["state"] == OpState.MISSING_UNPROVABLE).to_numpy()
    return pd.Series(np.where(unprovable, expanded(missing["trace"]).astype(object), ""), index=missing.index)


def _row_part(rows: pd.DataFrame, kind: pd.Series | str, detail: pd.Series | str) -> pd.DataFrame:
    """Exceptions about audit rows: the row's own values, its time as ``occurred_at``."""
    return pd.DataFrame(
        {
            "kind": kind,
            "operation_id": rows["operation_id"],
            "audit_id": rows["id"],
            "day": rows["day"],
            "operator": rows["operator"],
            "tenant": rows["tenant"],
            "action": rows["action"],
            "route": rows["route"],
            "occurred_at": rows["created_at"],
            "detail": detail,
        }
    )
