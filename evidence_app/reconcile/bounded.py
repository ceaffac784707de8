"""Bounded views of long per-operator, per-tenant and per-route tables: the worst N by a stated ordering plus
one "all others" line whose counts are the exact sums of the rest, so the lines shown add up to the totals."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evidence_app.errors import UsageError
from evidence_app.reconcile.coverage import DIMENSIONS, with_ratios
from evidence_app.reconcile.rules import OP_STATES, OPEN_REPLAY_STATES, REPLAY_STATES, RouteStatus

ORDERINGS: dict[str, str] = {
    "coverage": "lowest coverage after replay first (then lowest coverage as logged, most missing, name)",
    "coverage_logged": "lowest coverage as logged first (then lowest coverage after replay, most missing, name)",
    "missing": "most missing operations first (then lowest coverage after replay, name)",
}
"""How "worst" is ranked; the words are what the pack and the web app print. A line with nothing expected
ranks after every line with a coverage figure; names break the last ties (a missing name after every name)."""
ORDER_WORDS: dict[str, str] = {"coverage": "by coverage after replay", "coverage_logged": "by coverage as logged",
                               "missing": "by missing operations"}
"""The words of :data:`ORDERINGS`, the orderings a coverage view may be asked for."""
CAPTION_WORDS: dict[str, str] = {**ORDER_WORDS, "remediation": "by remediation status",
                                 "not_replayed": "by failure events not yet replayed"}
"""What a caption says of any bounded view's order, the remediation and replay views' fixed ones too."""
PLURALS: dict[str, str] = {"operator": "operators", "tenant": "tenants", "route": "routes", "action": "actions",
                           "day": "days"}
ROUTE_STATUS_RANK: dict[str, int] = {RouteStatus.NOT_SWEPT: 0, RouteStatus.UNKNOWN: 1, RouteStatus.SWEPT: 2}
"""Remediation lines rank not swept first, then unknown, then swept (then most silent drops after the fix)."""
REMEDIATION_COUNTS = ("expected", "missing_silent_before_fix", "missing_silent_after_fix", "failures",
                      "replayed_within_sla", "audit_logged_false", "audit_logged_false_without_failure_event",
                      "audit_logged_true_not_logged")
"""The remediation columns that are counts: the all-others line holds their exact sums."""


@dataclass(frozen=True)
class BoundedView:
    """A table cut to its worst ``limit`` values of one dimension, the rest folded into an all-others line."""

    dimension: str
    """The dimension bounded (operator, tenant, route …)."""
    order: str
    """A key of :data:`ORDERINGS`."""
    limit: int
    """At most this many values are shown by name."""
    named: pd.DataFrame
    """The rows of the values shown by name, worst value first (a value keeps all its rows, e.g. one per day);
    every row of the table, worst first, when it has at most ``limit`` values."""
    others: pd.DataFrame
    """The all-others line(s), one per combination of the table's other dimensions (one line when it has none):
    counts are the exact sums of the folded rows, ratios recomputed from them, the dimension column holds
    :attr:`others_label`. No rows when nothing was folded."""
    total: int
    """How many distinct values of the dimension the whole table has."""

    @property
    def shown(self) -> int:
        """Values shown by name."""
        return self.total - self.folded

    @property
    def folded(self) -> int:
        """Values folded into the all-others line."""
        return max(self.total - self.limit, 0)

    @property
    def lines(self) -> pd.DataFrame:
        """The named rows, then the all-others line(s): what a chart or table shows."""
        return pd.concat([self.named, self.others], ignore_index=True) if len(self.others) else self.named

    @property
    def others_label(self) -> str:
        return others_label(self.dimension, self.folded)

    def caption(self, where: str | None = None) -> str:
        """One line saying what is shown: "15 worst of 5,000 operators by coverage after replay; every operator
        in coverage_by_operator.csv" (``where`` names the full list), or "all 12 operators, worst first by coverage
        after replay" when nothing folded."""
        noun = PLURALS.get(self.dimension, self.dimension)
        text = (f"{self.shown:,} worst of {self.total:,} {noun} {CAPTION_WORDS[self.order]}, all others in one line"
                if self.folded else f"all {self.total:,} {noun}, worst first {CAPTION_WORDS[self.order]}")
        return text + (f"; every {self.dimension} in {where}" if where else "")


def others_label(dimension: str, count: int) -> str:
    """The name of the all-others line: "all others (4,985 operators)"."""
    noun = PLURALS.get(dimension, dimension) if count != 1 else dimension
    return f"all others ({count:,} {noun})"


def bounded_view(table: pd.DataFrame, dimension: str, limit: int, order: str = "coverage") -> BoundedView:
    """Bound a coverage table (:func:`coverage_table`) by ``dimension``: its ``limit`` worst values by
    ``order`` (ranked on each value's sums over the other dimensions, e.g. over every day for day × operator)
    and one all-others line per combination of the other dimensions."""
    _check(limit, order)
    codes, values = _codes(table[dimension])
    per_value = with_ratios(table[list(OP_STATES)].groupby(codes, sort=True).sum())
    rank = _ranks([_coverage_key(order, r, v) for r, v in zip(per_value.itertuples(index=False), values)])
    return _fold(table, dimension, rank[codes], limit, len(values),
                 lambda rest, label: _summed_lines(rest, table, dimension, label), order)


def bounded_remediation(table: pd.DataFrame, limit: int) -> BoundedView:
    """Bound the remediation table (one row per route): not swept routes first, then unknown, then swept, each
    by most silent drops after the fix, then before it, then name; the rest summed into one line whose status
    counts the folded routes by status ("7 swept, 1 unknown")."""
    _check(limit, "coverage")
    keys = [(ROUTE_STATUS_RANK.get(r.status, 3), -int(r.missing_silent_after_fix), -int(r.missing_silent_before_fix),
             _name_key(r.route)) for r in table.itertuples(index=False)]
    return _fold(table, "route", _ranks(keys), limit, len(table), _remediation_line, "remediation")


def bounded_replay_routes(table: pd.DataFrame, limit: int) -> BoundedView:
    """Bound the replay table by route (:func:`replay.replay_by_route`): most failure events not yet replayed
    first (pending, retrying, abandoned, unconfirmed), then most events, then name; the rest summed into one
    line per state."""
    _check(limit, "coverage")
    open_ = table[list(OPEN_REPLAY_STATES)].sum(axis=1).to_numpy()
    every = table[list(REPLAY_STATES)].sum(axis=1).to_numpy()
    keys = [(-int(o), -int(e), _name_key(r)) for o, e, r in zip(open_, every, table["route"])]
    return _fold(table, "route", _ranks(keys), limit, len(table), _replay_line, "not_replayed")


def _replay_line(rest: pd.DataFrame, label: str) -> pd.DataFrame:
    """One line: the folded routes' failure events summed per replay state."""
    line = {"route": label, **{s: int(rest[s].sum()) for s in REPLAY_STATES}}
    return pd.DataFrame([line], columns=rest.columns)


def _check(limit: int, order: str) -> None:
    if limit < 1:
        raise UsageError(f"a bounded view shows at least one line (asked for {limit})")
    if order not in ORDERINGS:
        raise UsageError(f"unknown ordering {order!r} (choose from {', '.join(ORDERINGS)})")


def _codes(column: pd.Series) -> tuple[np.ndarray, list]:
    """Each row's value code, and the values by code (a missing value stays None, not NaN)."""
    codes, _ = pd.factorize(column.astype(object), use_na_sentinel=False)
    first = pd.Series(np.arange(len(codes))).groupby(codes, sort=True).first().to_numpy()
    raw = column.to_numpy(dtype=object)
    return codes, [None if _missing(raw[i]) else raw[i] for i in first]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _name_key(value: object) -> tuple[bool, str]:
    return (_missing(value), "" if _missing(value) else str(value))


def _ratio_key(value: object) -> float:
    return math.inf if _missing(value) else float(value)


def _coverage_key(order: str, r, value: object) -> tuple:
    after, logged = _ratio_key(r.coverage_after_replay), _ratio_key(r.coverage_logged)
    if order == "missing":
        return (-int(r.missing), after, _name_key(value))
    if order == "coverage_logged":
        return (logged, after, -int(r.missing), _name_key(value))
    return (after, logged, -int(r.missing), _name_key(value))


def _ranks(keys: Sequence[tuple]) -> np.ndarray:
    """Rank of each key (0 = worst); keys are unique because each ends with a distinct name."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return rank


def _fold(table: pd.DataFrame, dimension: str, row_rank: np.ndarray, limit: int, total: int,
          summed: Callable[[pd.DataFrame, str], pd.DataFrame], order: str) -> BoundedView:
    """Rows ranked below ``limit`` are shown (worst first, stable within a value, also when nothing is folded:
    "worst" always orders); the rest are ``summed``."""
    keep = row_rank < limit
    named = table[keep].iloc[np.argsort(row_rank[keep], kind="stable")].reset_index(drop=True)
    if total <= limit:
        return BoundedView(dimension, order, limit, named, table.head(0), total)
    label = others_label(dimension, total - limit)
    return BoundedView(dimension, order, limit, named, summed(table[~keep], label), total)


def _summed_lines(rest: pd.DataFrame, table: pd.DataFrame, dimension: str, label: str) -> pd.DataFrame:
    """The folded rows summed per combination of the other dimensions, ratios recomputed from the sums."""
    other = [c for c in table.columns if c in DIMENSIONS and c != dimension]
    counts = rest[list(OP_STATES)]
    if other:
        sums = counts.groupby([rest[c].astype(object) for c in other], dropna=False, sort=True).sum().reset_index()
        for c in other:
            sums[c] = sums[c].astype(object).where(sums[c].notna(), None)
    else:
        sums = pd.DataFrame([counts.sum().to_dict()])
    sums[dimension] = label
    return with_ratios(sums)[list(table.columns)].reset_index(drop=True)


def _remediation_line(rest: pd.DataFrame, label: str) -> pd.DataFrame:
    """One line: the folded routes' counts summed; the status says how many of them had each status."""
    line: dict[str, object] = {c: None for c in rest.columns}
    line.update({c: int(pd.to_numeric(rest[c]).sum()) for c in REMEDIATION_COUNTS if c in rest})
    statuses = rest["status"].value_counts()
    line["status"] = ", ".join(f"{int(statuses[s]):,} {s}" for s in sorted(statuses.index, key=_status_rank))
    line["route"] = label
    if "replay_sla_seconds" in rest and rest["replay_sla_seconds"].nunique() == 1:
        line["replay_sla_seconds"] = rest["replay_sla_seconds"].iloc[0]
    return pd.DataFrame([line], columns=rest.columns).astype(object)


def _status_rank(status: str) -> tuple[int, str]:
    return (ROUTE_STATUS_RANK.get(status, 3), status)
