"""Failure events → replay states, attempts, latency and error classes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from evidence_app.reconcile import rules
from evidence_app.reconcile.rules import CLAIMED_OUTCOMES, REPLAY_STATES, ReplayOutcome, ReplayState, error_class


def attempt_summary(replays: pd.DataFrame) -> pd.DataFrame:
    """Per failure_id: attempts (:func:`rules.attempts_made`, computed for all failures at once), whether
    the cron claimed success, and when it first did."""
    if replays.empty:
        return pd.DataFrame(columns=["attempts", "claimed", "claimed_at", "last_error"]).rename_axis("failure_id")
    claimed = replays["outcome"].isin(CLAIMED_OUTCOMES)
    g = replays.assign(claimed=claimed, claimed_at=replays["logged_at"].where(claimed)).groupby("failure_id")
    numbered = replays.dropna(subset=["attempt"])
    distinct = numbered.groupby("failure_id")["attempt"].nunique()
    highest = numbered.groupby("failure_id")["attempt"].max()
    unnumbered = replays[replays["attempt"].isna()].groupby("failure_id").size()
    failed = replays[replays["outcome"] == ReplayOutcome.FAILED]
    failed_errors = failed.sort_values("logged_at").groupby("failure_id")["error"].last()
    index = g.size().index
    attempts = pd.concat([distinct.reindex(index).fillna(0) + unnumbered.reindex(index).fillna(0),
                          highest.reindex(index).fillna(0)], axis=1).max(axis=1).astype(int)
    out = pd.DataFrame(
        {
            "attempts": attempts,
            "claimed": g["claimed"].any(),
            "claimed_at": g["claimed_at"].min(),
        }
    )
    out["last_error"] = failed_errors.reindex(out.index)
    return out


def failure_states(
    failures: pd.DataFrame,
    covered: np.ndarray,
    cover_inserted_at: pd.Series,
    replays: pd.DataFrame,
    max_attempts: int,
) -> pd.DataFrame:
    """Each failure event's replay state and latency.

    ``covered[i]`` says whether a matching audit row exists now for failure i; its
    ``inserted_at`` (if known) dates the replay, else the cron's successful attempt does.
    """
    summary = attempt_summary(replays).reindex(failures["failure_id"])
    attempts = summary["attempts"].fillna(0).astype(int).to_numpy()
    claimed = summary["claimed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    state = [str(rules.replay_state(bool(c), bool(k), int(a), max_attempts))
             for c, k, a in zip(covered, claimed, attempts)]
    done_at = cover_inserted_at.reset_index(drop=True)
    claimed_at = summary["claimed_at"].reset_index(drop=True).astype("datetime64[us, UTC]")
    done_at = done_at.where(done_at.notna(), claimed_at)
    latency = (done_at - failures["created_at"].reset_index(drop=True)).dt.total_seconds()
    out = failures.reset_index(drop=True).copy()
    out["state"] = state
    out["attempts"] = attempts
    out["latency_seconds"] = latency.where(pd.Series(covered), np.nan)
    out["last_error"] = summary["last_error"].reset_index(drop=True)
    out["error_class"] = out["error"].map(error_class)
    return out


@dataclass(frozen=True)
class ReplayStatus:
    """The replay-status figures (the CLI's JSON contract)."""

    states: dict[str, int]
    """Failure events per replay state, every state listed (a zero too), in the contract's order."""
    oldest_pending_age_seconds: float | None
    """Age at ``as_of`` of the oldest ``pending`` failure event (no attempt yet); None when there is none."""
    latency_p50: float | None
    """Median replay latency (row written, else the successful attempt, − original time) over events whose row
    exists; None when none has one."""
    latency_p95: float | None
    """95th percentile of the same latencies."""
    latency_max: float | None
    """The longest of the same latencies."""
    skipped_log_lines: int
    """Log lines that could not be read, so the figures above may miss events."""

    @property
    def backlog(self) -> int:
        """Failure events still awaiting their row: pending (no attempt yet) plus retrying (budget left)."""
        return self.states.get(ReplayState.PENDING, 0) + self.states.get(ReplayState.RETRYING, 0)

    def as_json(self) -> dict:
        return {
            "states": dict(self.states),
            "oldest_pending_age_seconds": self.oldest_pending_age_seconds,
            "latency_seconds": {"p50": self.latency_p50, "p95": self.latency_p95, "max": self.latency_max},
            "skipped_log_lines": self.skipped_log_lines,
        }


def replay_status(failures: pd.DataFrame, as_of: datetime, skipped_log_lines: int) -> ReplayStatus:
    """Summarise failure states; ages are measured at ``as_of``."""
    counts = failures["state"].value_counts() if not failures.empty else pd.Series(dtype=int)
    states = {s: int(counts.get(s, 0)) for s in REPLAY_STATES}
    pending = failures[failures["state"] == ReplayState.PENDING] if not failures.empty else failures
    oldest = None
    if not pending.empty:
        oldest = float((pd.Timestamp(as_of) - pending["created_at"].min()).total_seconds())
    lat = failures["latency_seconds"].dropna() if not failures.empty else pd.Series(dtype=float)
    q = (lambda p: float(np.percentile(lat.to_numpy(), p, method="linear"))) if len(lat) else (lambda p: None)
    return ReplayStatus(
        states=states,
        oldest_pending_age_seconds=oldest,
        latency_p50=q(50),
        latency_p95=q(95),
        latency_max=float(lat.max()) if len(lat) else None,
        skipped_log_lines=skipped_log_lines,
    )


def replay_by_route(failures: pd.DataFrame) -> pd.DataFrame:
    """Failure events per route (None for events without one) and replay state: one row per route, a count
    column per state of :data:`REPLAY_STATES`, sorted by route name (None last)."""
    if failures.empty:
        return pd.DataFrame({"route": pd.Series(dtype=object), **{s: pd.Series(dtype=np.int64) for s in REPLAY_STATES}})
    route = failures["route"].astype(object).where(failures["route"].notna(), None)
    table = pd.crosstab(route.fillna("\0none"), failures["state"]).reindex(columns=list(REPLAY_STATES), fill_value=0)
    table = table.astype(np.int64).reset_index(names="route").rename_axis(columns=None)
    table["route"] = table["route"].astype(object).where(table["route"] != "\0none", None)
    named = table[table["route"].notna()].sort_values("route", kind="stable")
    return pd.concat([named, table[table["route"].isna()]], ignore_index=True)
