"""The open replay backlog (core: reconcile/backlog.py): pending and retrying events, oldest first, with ages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd

from evidence_app.reconcile.backlog import BACKLOG_COLUMNS, open_backlog
from evidence_app.reconcile.rules import ReplayState

AS_OF = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)


def failures(*events: tuple[str, str, float, int]) -> pd.DataFrame:
    """Failure events as (failure_id, state, hours before AS_OF, attempts)."""
    return pd.DataFrame({
        "failure_id": [e[0] for e in events], "state": [e[1] for e in events],
        "created_at": pd.Series([AS_OF - timedelta(hours=e[2]) for e in events], dtype="datetime64[us, UTC]"),
        "attempts": [e[3] for e in events], "route": ["/api/cache-purge"] * len(events),
        "last_error": ["D1_ERROR: busy" if e[3] else None for e in events], "tenant": ["t"] * len(events),
        "operator": ["o"] * len(events), "action": ["cache_purge"] * len(events),
        "operation_id": [f"op-{e[0]}" for e in events]})


def test_only_pending_and_retrying_events_are_open_oldest_first():
    b = open_backlog(failures(("f1", ReplayState.REPLAYED, 90, 1), ("f2", ReplayState.PENDING, 3, 0),
                              ("f3", ReplayState.RETRYING, 50, 4), ("f4", ReplayState.ABANDONED, 200, 24),
                              ("f5", ReplayState.UNCONFIRMED, 10, 1), ("f6", ReplayState.PENDING, 30, 0)), AS_OF)
    assert list(b.events["failure_id"]) == ["f3", "f6", "f2"]
    assert list(b.events.columns) == list(BACKLOG_COLUMNS)
    assert list(b.events["age_seconds"]) == [50 * 3600, 30 * 3600, 3 * 3600]
    assert b.count(ReplayState.PENDING) == 2 and b.count(ReplayState.RETRYING) == 1
    assert b.events.loc[0, "last_error"] == "D1_ERROR: busy" and b.events.loc[0, "attempts"] == 4


def test_the_oldest_of_each_state_is_its_own_figure():
    b = open_backlog(failures(("f2", ReplayState.PENDING, 3, 0), ("f3", ReplayState.RETRYING, 50, 4)), AS_OF)
    assert b.oldest_pending_age_seconds == 3 * 3600 and b.oldest_retrying_age_seconds == 50 * 3600


def test_nothing_open_is_no_age_not_zero():
    b = open_backlog(failures(("f1", ReplayState.REPLAYED, 90, 1)), AS_OF)
    assert b.events.empty and b.oldest_pending_age_seconds is None and b.oldest_retrying_age_seconds is None
    empty = open_backlog(failures().head(0), AS_OF)
    assert empty.events.empty and empty.oldest_pending_age_seconds is None
