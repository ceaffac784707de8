"""The open replay backlog an engineer works from: failure events still awaiting their row (pending, retrying),
oldest first, each with its age, attempts and last error; and the oldest of each state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from evidence_app.reconcile.rules import ReplayState

BACKLOG_STATES: tuple[str, ...] = (ReplayState.PENDING.value, ReplayState.RETRYING.value)
"""The states of a failure event whose row may still come: no attempt yet, or attempts failed with budget left."""
BACKLOG_COLUMNS = ("state", "route", "age_seconds", "attempts", "last_error", "created_at", "failure_id", "tenant",
                   "operator", "action", "operation_id")
"""The backlog table's columns, in the order a page shows them."""


@dataclass(frozen=True)
class Backlog:
    """The open failure events at one moment."""

    as_of: datetime
    """When the ages were measured."""
    events: pd.DataFrame
    """One row per open failure event (:data:`BACKLOG_COLUMNS`), oldest first (then by failure id)."""
    oldest_pending_age_seconds: float | None
    """Age of the oldest pending event (no attempt yet); None when none is pending."""
    oldest_retrying_age_seconds: float | None
    """Age of the oldest retrying event (attempts failed, budget left); None when none is retrying."""

    def count(self, state: str) -> int:
        """Open events in ``state``."""
        return int((self.events["state"] == state).sum())


def open_backlog(failures: pd.DataFrame, as_of: datetime) -> Backlog:
    """The pending and retrying events of ``failures`` (a reconciliation's failure frame), ages at ``as_of``."""
    open_ = failures[failures["state"].isin(BACKLOG_STATES)] if len(failures) else failures.head(0)
    events = pd.DataFrame({c: open_[c] if c in open_ else pd.Series(dtype=object) for c in BACKLOG_COLUMNS
                           if c != "age_seconds"}, index=open_.index)
    events.insert(2, "age_seconds", (pd.Timestamp(as_of) - open_["created_at"]).dt.total_seconds()
                  if len(open_) else pd.Series(dtype=float))
    events = events.sort_values(["age_seconds", "failure_id"], ascending=[False, True], kind="stable")
    return Backlog(as_of, events.reset_index(drop=True), _oldest(events, ReplayState.PENDING),
                   _oldest(events, ReplayState.RETRYING))


def _oldest(events: pd.DataFrame, state: str) -> float | None:
    ages = events.loc[events["state"] == state, "age_seconds"]
    return float(ages.max()) if len(ages) else None
