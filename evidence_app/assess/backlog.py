"""The engineer's open backlog: failure events still awaiting their row (pending, retrying), each with its route,
age, attempts and last error, and the oldest of each against the pending-age limit in force — computed once for the
web app, the CLI and the pack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

import pandas as pd

from evidence_app.config.thresholds import parse_controls
from evidence_app.formatting import duration
from evidence_app.reconcile.rules import ReplayState

BACKLOG_STATES: tuple[str, ...] = (ReplayState.PENDING, ReplayState.RETRYING)
"""The states of a failure event whose row may still come: no attempt yet, or attempts failed with budget left."""
BACKLOG_COLUMNS = ("failure_id", "state", "route", "action", "tenant", "operator", "created_at", "age_seconds",
                   "attempts", "last_error", "error_class", "operation_id")
"""The columns of :attr:`Backlog.table` (machine names; :mod:`evidence_app.display` names them for people)."""
LIMIT_KEY = "pending_age_met_hours"
"""The ``[controls]`` threshold the oldest pending failure is held to (the monitoring check's)."""


@dataclass(frozen=True)
class Backlog:
    """Open failure events at ``as_of``."""

    table: pd.DataFrame
    """One row per pending or retrying failure event, oldest first, columns :data:`BACKLOG_COLUMNS`; ``age_seconds``
    is measured at :attr:`as_of` from the event's original time; ``last_error`` is the last failed attempt's error,
    else the failed INSERT's."""
    as_of: datetime
    """The moment ages are measured at."""
    pending: int
    """Failure events with no attempt yet."""
    retrying: int
    """Failure events whose attempts failed, budget left."""
    oldest_pending_age_seconds: float | None
    """Age of the oldest pending event; None when none is pending."""
    oldest_retrying_age_seconds: float | None
    """Age of the oldest retrying event; None when none is retrying."""
    pending_age_limit_seconds: float
    """The limit in force (``[controls] pending_age_met_hours``, in seconds)."""

    @property
    def pending_over_limit(self) -> bool | None:
        """Whether the oldest pending event is older than the limit; None when none is pending."""
        if self.oldest_pending_age_seconds is None:
            return None
        return self.oldest_pending_age_seconds > self.pending_age_limit_seconds

    def headline(self) -> str:
        """``6 open failure events (3 pending, 3 retrying); oldest pending 38 days 15 h (limit 24 h: over); oldest
        retrying 2 days 1 h`` — or that there is none."""
        if self.pending + self.retrying == 0:
            return "No open failure events: none pending, none retrying."
        limit = duration(self.pending_age_limit_seconds)
        pending = ("none pending" if self.oldest_pending_age_seconds is None else
                   f"oldest pending {duration(self.oldest_pending_age_seconds)} (limit {limit}: "
                   f"{'over' if self.pending_over_limit else 'within'})")
        retrying = ("none retrying" if self.oldest_retrying_age_seconds is None else
                    f"oldest retrying {duration(self.oldest_retrying_age_seconds)}")
        return (f"{self.pending + self.retrying:,} open failure events ({self.pending:,} pending, "
                f"{self.retrying:,} retrying); {pending}; {retrying}")


def open_backlog(failures: pd.DataFrame, as_of: datetime, controls: Mapping[str, Any]) -> Backlog:
    """:class:`Backlog` of a reconciliation's failure events (``recon.failures``) at ``as_of``, the limit from the
    ``[controls]`` overrides in force."""
    limit = float(getattr(parse_controls(controls), LIMIT_KEY)) * 3600
    table = _open_table(failures, as_of)
    states = table["state"]
    return Backlog(table=table, as_of=as_of,
                   pending=int((states == ReplayState.PENDING).sum()),
                   retrying=int((states == ReplayState.RETRYING).sum()),
                   oldest_pending_age_seconds=_oldest(table, ReplayState.PENDING),
                   oldest_retrying_age_seconds=_oldest(table, ReplayState.RETRYING),
                   pending_age_limit_seconds=limit)


def _open_table(failures: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    if failures.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in BACKLOG_COLUMNS})
    open_ = failures[failures["state"].isin(BACKLOG_STATES)].copy()
    open_["age_seconds"] = (pd.Timestamp(as_of) - open_["created_at"]).dt.total_seconds()
    open_["last_error"] = open_["last_error"].where(open_["last_error"].notna(), open_["error"])
    for column in BACKLOG_COLUMNS:
        if column not in open_:
            open_[column] = None
    ordered = open_.sort_values(["created_at", "failure_id"], kind="mergesort")
    return ordered[list(BACKLOG_COLUMNS)].reset_index(drop=True)


def _oldest(table: pd.DataFrame, state: str) -> float | None:
    ages = table.loc[table["state"] == state, "age_seconds"]
    return float(ages.max()) if len(ages) else None
