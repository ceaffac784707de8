"""Names for people: every state, status, verdict, column and control check as the web app and the pack show it.

The machine names (``missing_silent``, ``coverage_after_replay``) stay in CSV, JSON and the CLI's contracts; screens
and the PDF say these instead. One mapping, so every view says the same words; a name without an entry is shown as
itself with its underscores made spaces, never dropped.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from evidence_app.reconcile.rules import (
    ErrorClass,
    FixSource,
    OpState,
    Origin,
    ReplayOutcome,
    ReplayState,
    RouteStatus,
    RowStatus,
    Trace,
    Verdict,
)

__all__ = ["CHECK_NAMES", "COLUMN_NAMES", "STATE_NAMES", "check_name", "column_name", "for_people", "state_name"]

STATE_NAMES: Mapping[str, str] = {
    OpState.LOGGED: "Logged live",
    OpState.REPLAYED: "Replayed",
    OpState.BACKFILLED: "Backfilled",
    OpState.MISSING_PENDING: "Missing, pending replay",
    OpState.MISSING_ABANDONED: "Missing, replay abandoned",
    OpState.MISSING_SILENT: "Missing, silent drop",
    OpState.MISSING_UNPROVABLE: "Missing, unprovable from the logs",
    ReplayState.PENDING: "Pending",
    ReplayState.RETRYING: "Retrying",
    ReplayState.ABANDONED: "Abandoned",
    ReplayState.UNCONFIRMED: "Unconfirmed",
    ReplayOutcome.INSERTED: "Inserted",
    ReplayOutcome.FAILED: "Failed",
    RowStatus.MATCHED: "Matched",
    RowStatus.DUPLICATE: "Duplicate",
    RowStatus.ORPHAN: "Orphan",
    RouteStatus.SWEPT: "Swept",
    RouteStatus.NOT_SWEPT: "Not swept",
    RouteStatus.UNKNOWN: "Unknown",
    Verdict.MET: "Met",
    Verdict.EXCEPTIONS: "Met with exceptions",
    Verdict.NOT_MET: "Not met",
    Verdict.NOT_APPLICABLE: "Not applicable",
    Origin.LIVE: "Live",
    Origin.BACKFILL: "Backfill",
    FixSource.CONFIG: "Configuration",
    FixSource.FIRST_FAILURE_EVENT: "First failure event",
    Trace.COMPLETE: "Complete invocation",
    Trace.TRUNCATED: "Truncated invocation",
    Trace.NOT_IN_LOGS: "Not in the logs",
    ErrorClass.OVERLOADED: "Overloaded",
    ErrorClass.RESET: "Connection reset",
    ErrorClass.NETWORK: "Network",
    ErrorClass.CONSTRAINT: "Constraint",
    ErrorClass.OTHER: "Other",
    "inaccurate": "Inaccurate",
    "incomplete": "Incomplete",
}
"""Every state, status, outcome and verdict (``replayed`` is the same word for an operation and a failure event)."""

COLUMN_NAMES: Mapping[str, str] = {
    "day": "Day", "operator": "Operator", "route": "Route", "tenant": "Tenant", "action": "Action",
    "operation": "Operation", "expected": "Expected", OpState.LOGGED: "Logged live", OpState.REPLAYED: "Replayed",
    OpState.BACKFILLED: "Backfilled", "missing": "Missing",
    OpState.MISSING_PENDING: "Missing, pending", OpState.MISSING_ABANDONED: "Missing, abandoned",
    OpState.MISSING_SILENT: "Missing, silent", OpState.MISSING_UNPROVABLE: "Missing, unprovable",
    "coverage_logged": "Coverage as logged", "coverage_after_replay": "Coverage after replay",
    "kind": "Kind", "operation_id": "Operation id", "audit_id": "Audit row id", "occurred_at": "Time (UTC)",
    "detail": "Detail", "state": "State", "status": "Status", "failure_id": "Failure id",
    "created_at": "Original time (UTC)", "logged_at": "Logged at (UTC)", "age_seconds": "Age",
    "attempts": "Attempts", "last_error": "Last error", "error": "Error", "error_class": "Error class",
    "latency_seconds": "Replay latency", "request_id": "Request id", "target": "Target",
    "effective_fixed_at": "Effective fix (UTC)", "fix_source": "Fix source",
    "missing_silent_before_fix": "Silent drops before the fix",
    "missing_silent_after_fix": "Silent drops after the fix",
    "failures": "Failure events", "replayed_within_sla": "Replayed within the SLA", "replay_sla_seconds": "Replay SLA",
    "audit_logged_false": "audit_logged false",
    "audit_logged_false_without_failure_event": "audit_logged false, no failure event",
    "audit_logged_true_not_logged": "audit_logged true, no live row",
    "result": "Result", "figures": "Figures behind the result", "population": "Tested",
}
"""Column names of the core's tables as people read them."""

CHECK_NAMES: Mapping[str, str] = {
    "coverage": "Coverage", "logging": "Logging", "access_logging": "Access logging",
    "authentication": "Authentication", "privileged": "Privileged access", "monitoring": "Monitoring",
    "remediation": "Remediation", "incident_response": "Incident response", "clock": "Clock synchronisation",
    "evidence": "Evidence collection", "replay": "Replay",
}
"""The control checks (``reports/controls.toml``'s ``check``) by their names in the methodology."""


def _plain(name: str) -> str:
    text = str(name).replace("_", " ")
    return text[:1].upper() + text[1:]


def state_name(value: object) -> str:
    """A state, status, outcome or verdict for people; None/NaN as "—"."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return STATE_NAMES.get(str(value), _plain(str(value)))


def column_name(column: str) -> str:
    """A column's name for people."""
    return COLUMN_NAMES.get(column, _plain(column))


def check_name(check: str) -> str:
    """A control check's name for people."""
    return CHECK_NAMES.get(check, _plain(check))


STATE_COLUMNS = ("state", "status", "kind", "result", "fix_source", "error_class")
"""Columns whose values are states, statuses or verdicts (named by :func:`state_name` in :func:`for_people`)."""


def for_people(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` with its columns and its state values named for people (the numbers untouched)."""
    out = table.copy()
    for column in STATE_COLUMNS:
        if column in out:
            out[column] = out[column].map(state_name)
    return out.rename(columns={c: column_name(c) for c in out.columns})
