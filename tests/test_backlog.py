"""The engineer's open backlog: pending and retrying failure events with route, age, attempts and last error, and
the oldest of each against the pending-age limit in force."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from evidence_app.assess.backlog import BACKLOG_COLUMNS, open_backlog
from evidence_app.assess.pipeline import evaluate
from evidence_app.config.settings import load_config
from evidence_app.reconcile import Period
from evidence_app.reconcile.rules import ReplayOutcome, ReplayState

from scenario import T0


def backlog(scenario, as_of, controls=None):
    config = load_config(scenario.write())
    _, recon = evaluate(config, Period())
    return open_backlog(recon.failures, as_of, controls if controls is not None else config.controls)


def test_pending_and_retrying_events_are_listed_oldest_first_with_their_age(scenario):
    scenario.op("o1", T0).failure("f1", T0, route="/api/a")
    scenario.op("o2", T0 + timedelta(hours=1)).failure("f2", T0 + timedelta(hours=1), route="/api/b")
    scenario.replay("f2", 1, ReplayOutcome.FAILED, T0 + timedelta(hours=2), error="D1_ERROR: reset")
    b = backlog(scenario, T0 + timedelta(hours=30))
    assert tuple(b.table.columns) == BACKLOG_COLUMNS
    assert list(b.table["failure_id"]) == ["f1", "f2"]
    assert list(b.table["state"]) == [ReplayState.PENDING, ReplayState.RETRYING]
    assert list(b.table["age_seconds"]) == [30 * 3600.0, 29 * 3600.0]
    assert b.table["last_error"].iloc[1] == "D1_ERROR: reset" and b.table["attempts"].iloc[1] == 1
    assert (b.pending, b.retrying) == (1, 1)
    assert b.oldest_pending_age_seconds == 30 * 3600 and b.oldest_retrying_age_seconds == 29 * 3600


def test_the_oldest_pending_is_held_to_the_limit_in_force(scenario):
    scenario.op("o1", T0).failure("f1", T0)
    at_limit, past = T0 + timedelta(hours=24), T0 + timedelta(hours=24, seconds=1)
    assert backlog(scenario, at_limit).pending_over_limit is False
    assert backlog(scenario, past).pending_over_limit is True
    assert backlog(scenario, past, {"pending_age_met_hours": 48}).pending_over_limit is False
    assert backlog(scenario, past).headline() == ("1 open failure events (1 pending, 0 retrying); oldest pending "
                                                  "1 day (limit 1 day: over); none retrying")


def test_replayed_events_are_not_in_the_backlog(scenario):
    scenario.op("o1", T0).failure("f1", T0).row("a1", T0, origin="replay")
    b = backlog(scenario, T0 + timedelta(days=3))
    assert b.table.empty and b.oldest_pending_age_seconds is None and b.pending_over_limit is None
    assert b.headline() == "No open failure events: none pending, none retrying."


def test_the_sample_backlog_has_three_pending_and_three_retrying():
    config = load_config(None)
    _, recon = evaluate(config, Period())
    b = open_backlog(recon.failures, datetime(2026, 11, 30, tzinfo=timezone.utc), config.controls)
    assert (b.pending, b.retrying) == (3, 3) and b.pending_over_limit is True
    assert b.table["route"].notna().all() and (b.table["age_seconds"] > 0).all()
