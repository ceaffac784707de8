"""Did the fix work? Remediation per route (rules clause 9), for whole columns at once.

One row per route seen in the period (its operations' routes and its failure events' routes; a NULL route
is a route of its own, listed last): the effective fix time and its source, silent drops before and after
it, failure events and the replays that landed within the SLA, the ``audit_logged`` cross-checks, the
status. Operations take their route's fix time by integer code, so the per-operation work is vectorised;
only the (few) routes are walked in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Mapping

import numpy as np
import pandas as pd

from evidence_app.columns.order import micros, micros_at
from evidence_app.columns.text import codes_of
from evidence_app.config.monitoring import RemediationConfig
from evidence_app.formatting import iso_utc
from evidence_app.reconcile import rules
from evidence_app.reconcile.rules import LOGGED_STATES, OP_STATES
from evidence_app.reconcile.states import Reconciliation

REMEDIATION_FIELDS = (
    "route", "effective_fixed_at", "fix_source", "expected", "missing_silent_before_fix",
    "missing_silent_after_fix", "failures", "replayed_within_sla", "replay_sla_seconds", "audit_logged_false",
    "audit_logged_false_without_failure_event", "audit_logged_true_not_logged", "status",
)
"""The columns of :func:`remediation_table`, in the order of the CLI's JSON keys."""
_NO_FIX = np.iinfo(np.int64).max  # "no fix time": no operation lies at or after it
_SWEPT = rules.route_status(True, 0, 0)  # the statuses by their rule, so a renamed status is renamed here too
_NOT_SWEPT = rules.route_status(False, 1, 0)
_UNKNOWN = rules.route_status(False, 0, 0)


@dataclass(frozen=True)
class RemediationSummary:
    """Did the fix work: the per-route table users download, and the facts over every route that the controls,
    the CLI, the web app and the pack state, computed once here so none of them reads them back out of a row."""

    routes: pd.DataFrame
    """One row per route seen in the period, columns :data:`REMEDIATION_FIELDS` (the CLI's JSON, remediation.csv)."""
    replay_sla_seconds: int
    """The replay SLA in force (``[remediation] replay_sla_seconds``): a replay at most this late is on time."""
    judged_at: datetime
    """The moment fix times were judged at (``--as-of``): a fix or failure event later than it is not in force."""
    swept: int
    """Routes with an effective fix time and no silent drop after it."""
    not_swept: int
    """Routes with silent drops after their fix time, or silent drops and no fix time."""
    unknown: int
    """Routes with neither a fix time nor a silent drop."""
    silent_before_fix: int
    """Operations dropped silently before their route's effective fix time, over every route."""
    silent_after_fix: int
    """Operations dropped silently at or after their route's effective fix time, over every route."""
    failures: int
    """Failure events whose original time lies in the period, over every route."""
    replayed_within_sla: int
    """Of those, the ones whose row landed within :attr:`replay_sla_seconds`."""
    audit_logged_false: int
    """Operations whose API response said ``audit_logged: false``."""
    flag_false_without_failure_event: int
    """Of those, the ones no failure event was logged for (part 2 of the fix without part 1)."""
    flag_true_not_logged: int
    """Operations whose response said ``audit_logged: true`` but that no live row covers."""
    after_fix_operations: int = 0
    """Operations at or after their route's effective fix time, over every route: the fix's test population (none:
    no fix was in force in the period, so the period cannot show that it works)."""

    @property
    def route_count(self) -> int:
        """Routes seen in the period (the table's rows)."""
        return len(self.routes)

    @property
    def flag_mismatches(self) -> int:
        """``audit_logged`` flags the logs or the audit store contradict."""
        return self.flag_false_without_failure_event + self.flag_true_not_logged


def remediation_summary(recon: Reconciliation, settings: RemediationConfig,
                        first_failure_at: Mapping[str | None, pd.Timestamp], as_of: datetime) -> RemediationSummary:
    """:func:`remediation_table` with its facts over every route."""
    return summary_of_table(_full_table(recon, settings, first_failure_at, as_of), settings, as_of)


def summary_of_table(table: pd.DataFrame, settings: RemediationConfig, as_of: datetime) -> RemediationSummary:
    """:func:`remediation_summary` from the full table (:func:`table_of`)."""
    facts = _with_facts(table[list(REMEDIATION_FIELDS)], settings.replay_sla_seconds, as_of)
    after = int(pd.to_numeric(table[_AFTER_FIX]).sum()) if len(table) else 0
    return replace(facts, after_fix_operations=after)


def _with_facts(table: pd.DataFrame, replay_sla_seconds: int, judged_at: datetime) -> RemediationSummary:
    """The facts over every route of a remediation table (columns :data:`REMEDIATION_FIELDS`)."""
    def total(column: str) -> int:
        return int(pd.to_numeric(table[column]).sum()) if len(table) else 0

    def having(status: str) -> int:
        return int((table["status"] == status).sum())

    return RemediationSummary(
        routes=table, replay_sla_seconds=replay_sla_seconds, judged_at=judged_at,
        swept=having(_SWEPT), not_swept=having(_NOT_SWEPT), unknown=having(_UNKNOWN),
        silent_before_fix=total("missing_silent_before_fix"), silent_after_fix=total("missing_silent_after_fix"),
        failures=total("failures"), replayed_within_sla=total("replayed_within_sla"),
        audit_logged_false=total("audit_logged_false"),
        flag_false_without_failure_event=total("audit_logged_false_without_failure_event"),
        flag_true_not_logged=total("audit_logged_true_not_logged"),
    )


def first_failure_times(failures: pd.DataFrame) -> dict[str | None, pd.Timestamp]:
    """route named by the event (None for NULL) → log time of the first ``audit_log_insert_failed`` event in
    the logs (an event without a log time counts at its original time). Every event read counts, not only
    the period's: the fix's first visible trace may lie before the period."""
    if failures.empty:
        return {}
    logged = failures["logged_at"].where(failures["logged_at"].notna(), failures["created_at"])
    first = logged.groupby(failures["route"].astype(object), dropna=False).min()
    return {(None if pd.isna(route) else str(route)): ts for route, ts in first.items() if pd.notna(ts)}


def remediation_table(recon: Reconciliation, settings: RemediationConfig,
                      first_failure_at: Mapping[str | None, pd.Timestamp], as_of: datetime) -> pd.DataFrame:
    """One row per route seen in the period, columns :data:`REMEDIATION_FIELDS`."""
    return _full_table(recon, settings, first_failure_at, as_of)[list(REMEDIATION_FIELDS)]


_AFTER_FIX = "expected_after_fix"
"""Operations at or after the route's fix (the summary's population; not a column of the CLI's contract)."""


def _full_table(recon: Reconciliation, settings: RemediationConfig,
                first_failure_at: Mapping[str | None, pd.Timestamp], as_of: datetime) -> pd.DataFrame:
    """:func:`remediation_table` plus the column :data:`_AFTER_FIX`."""
    return table_of(route_counts(recon.operations, settings, first_failure_at, as_of), recon.failures, settings,
                    first_failure_at, as_of)


def route_counts(ops: pd.DataFrame, settings: RemediationConfig, first_failure_at: Mapping[str | None, pd.Timestamp],
                 as_of: datetime) -> pd.DataFrame:
    """Per route of these operations (sorted, NULL last): the table's operation counts (expected, silent drops
    before and after the fix, the flag cross-checks). A route's fix time is its own, so the counts of disjoint
    parts of the operations add up (:func:`summed_route_counts`)."""
    routes = _routes(ops["route"])
    fix_us = np.array([_NO_FIX if t is None else t for t, _ in _fixes(routes, settings, first_failure_at, as_of)],
                      dtype=np.int64)
    counts = _operation_counts(ops, _route_codes(ops["route"], routes), fix_us, len(routes))
    return pd.DataFrame({"route": pd.Series(routes, dtype=object), **counts})


def summed_route_counts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`route_counts` of disjoint parts of the operations → those of all of them (at least one part)."""
    summed: dict[str | None, np.ndarray] = {}
    columns = [c for c in parts[0].columns if c != "route"]
    for part in parts:
        values = part[columns].to_numpy(dtype=np.int64)
        for route, row in zip(part["route"], values):
            summed[route] = summed[route] + row if route in summed else row.copy()
    routes = sorted(r for r in summed if r is not None) + ([None] if None in summed else [])
    held = np.array([summed[r] for r in routes], dtype=np.int64).reshape(len(routes), len(columns))
    return pd.DataFrame({"route": pd.Series(routes, dtype=object),
                         **{c: held[:, i] for i, c in enumerate(columns)}})


def table_of(op_counts: pd.DataFrame, fe: pd.DataFrame, settings: RemediationConfig,
             first_failure_at: Mapping[str | None, pd.Timestamp], as_of: datetime) -> pd.DataFrame:
    """:func:`_full_table` from the operations' :func:`route_counts` and the failure events."""
    routes = _routes(op_counts["route"], fe["route"] if len(fe) else pd.Series([], dtype=object))
    if not routes:
        return pd.DataFrame({f: pd.Series(dtype=object) for f in (*REMEDIATION_FIELDS, _AFTER_FIX)})
    fixes = _fixes(routes, settings, first_failure_at, as_of)
    at = {route: i for i, route in enumerate(op_counts["route"])}
    names = [c for c in op_counts.columns if c != "route"]
    held = op_counts[names].to_numpy(dtype=np.int64)
    counts = {c: np.array([held[at[r], i] if r in at else 0 for r in routes], dtype=np.int64)
              for i, c in enumerate(names)}
    failures, within = _failure_counts(fe, routes, settings.replay_sla_seconds)
    table = pd.DataFrame({  # object columns: a NULL route, fix time or source stays None, not NaN
        "route": pd.Series(routes, dtype=object),
        "effective_fixed_at": pd.Series([None if t is None else iso_utc(pd.Timestamp(t, unit="us", tz="UTC"))
                                         for t, _ in fixes], dtype=object),
        "fix_source": pd.Series([source for _, source in fixes], dtype=object),
        **counts,
        "failures": failures,
        "replayed_within_sla": within,
        "replay_sla_seconds": settings.replay_sla_seconds,
    })
    table["status"] = [rules.route_status(t is not None, int(before + after), int(after)) for (t, _), before, after
                       in zip(fixes, table["missing_silent_before_fix"], table["missing_silent_after_fix"])]
    return table[[*REMEDIATION_FIELDS, _AFTER_FIX]].astype(object)


def _fixes(routes: list[str | None], settings: RemediationConfig,
           first_failure_at: Mapping[str | None, pd.Timestamp], as_of: datetime) -> list[tuple[int | None, str | None]]:
    """Each route's effective fix time (µs; None: none in force) and its source (:func:`rules.effective_fix`)."""
    as_of_us = micros_at(as_of)
    return [rules.effective_fix(micros_at(settings.configured_fix(r)), micros_at(first_failure_at.get(r)), as_of_us)
            for r in routes]


def _routes(*columns: pd.Series) -> list[str | None]:
    """Distinct routes, sorted, NULL last (when any record lacks one)."""
    named: set[str] = set()
    null = False
    for column in columns:
        null = null or bool(column.isna().any())
        named |= {str(v) for v in pd.unique(column.dropna())}
    return sorted(named) + ([None] if null else [])


def _route_codes(values: pd.Series, routes: list[str | None]) -> np.ndarray:
    """Each record's position in ``routes`` (a NULL route takes the last, None, position)."""
    codes = codes_of(values, tuple(r for r in routes if r is not None))
    return np.where(codes < 0, len(routes) - 1, codes)


def _operation_counts(ops: pd.DataFrame, code: np.ndarray, fix_us: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Per route: expected, silent drops before/after the fix (:func:`rules.after_fix`), the flag cross-checks."""
    state = codes_of(ops["state"], OP_STATES)
    silent = state == OP_STATES.index(rules.operation_state(None, None))
    after = micros(ops["occurred_at"]) >= fix_us[code] if len(ops) else np.zeros(0, dtype=bool)
    flag = ops["audit_logged"] if "audit_logged" in ops else pd.Series(pd.NA, index=ops.index, dtype="boolean")
    said_false = (flag == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712 - nullable boolean comparison
    said_true = (flag == True).fillna(False).to_numpy(dtype=bool)  # noqa: E712
    has_event = ops["failure_id"].notna().to_numpy()
    live = np.isin(state, [OP_STATES.index(s) for s in LOGGED_STATES])

    def per_route(mask: np.ndarray) -> np.ndarray:
        return np.bincount(code[mask], minlength=n).astype(np.int64)

    return {
        "expected": per_route(np.ones(len(ops), dtype=bool)),
        _AFTER_FIX: per_route(after),
        "missing_silent_before_fix": per_route(silent & ~after),
        "missing_silent_after_fix": per_route(silent & after),
        "audit_logged_false": per_route(said_false),
        "audit_logged_false_without_failure_event": per_route(said_false & ~has_event),
        "audit_logged_true_not_logged": per_route(said_true & ~live),
    }


def _failure_counts(fe: pd.DataFrame, routes: list[str | None], sla_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Per route (the route the event names): failure events in the period, and those whose row landed within
    the SLA (:func:`rules.replayed_within_sla`)."""
    n = len(routes)
    if fe.empty:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    code = _route_codes(fe["route"], routes)
    latency = pd.to_numeric(fe["latency_seconds"], errors="coerce")
    within = (latency.notna() & (latency <= sla_s)).to_numpy(dtype=bool)
    return np.bincount(code, minlength=n).astype(np.int64), np.bincount(code[within], minlength=n).astype(np.int64)

