"""Operation missing states and failure-event replay states, per docs/DESIGN.md."""

from __future__ import annotations

from datetime import timedelta

from scenario import T0

H = timedelta(hours=1)


def _fe(recon):
    return dict(zip(recon.failures["failure_id"], recon.failures["state"]))


def test_missing_without_failure_event_is_silent(scenario):
    scenario.op("o1")
    assert scenario.states() == {"o1": "missing_silent"}


def test_failure_event_without_attempt_is_pending(scenario):
    scenario.op("o1").failure("f1")
    recon = scenario.recon()
    assert scenario.states() == {"o1": "missing_pending"}
    assert _fe(recon) == {"f1": "pending"}


def test_failed_attempts_with_budget_left_are_retrying(scenario):
    scenario.op("o1").failure("f1")
    for i in range(1, 4):
        scenario.replay("f1", i, "failed", T0 + i * H, error="D1_ERROR: Network connection lost.")
    recon = scenario.recon()
    assert _fe(recon) == {"f1": "retrying"}
    assert scenario.states() == {"o1": "missing_pending"}


def test_attempts_reaching_the_budget_are_abandoned(scenario):
    scenario.extra_config = "[matching]\nmax_replay_attempts = 3\n"
    scenario.op("o1").failure("f1")
    for i in range(1, 4):
        scenario.replay("f1", i, "failed", T0 + i * H)
    recon = scenario.recon()
    assert _fe(recon) == {"f1": "abandoned"}
    assert scenario.states() == {"o1": "missing_abandoned"}


def test_default_budget_is_24_attempts(scenario):
    scenario.op("o1").failure("f1")
    for i in range(1, 24):
        scenario.replay("f1", i, "failed", T0 + i * H)
    assert _fe(scenario.recon()) == {"f1": "retrying"}
    scenario.replay("f1", 24, "failed", T0 + 24 * H)
    assert _fe(scenario.recon()) == {"f1": "abandoned"}


def test_a_replay_line_delivered_twice_counts_once(scenario):
    scenario.extra_config = "[matching]\nmax_replay_attempts = 3\n"
    scenario.op("o1").failure("f1")
    for i in (1, 2, 2):
        scenario.replay("f1", i, "failed", T0 + i * H)
    recon = scenario.recon()
    assert recon.failures.loc[0, "attempts"] == 2 and _fe(recon) == {"f1": "retrying"}


def test_the_highest_attempt_number_counts_even_if_lines_are_lost(scenario):
    scenario.extra_config = "[matching]\nmax_replay_attempts = 3\n"
    scenario.op("o1").failure("f1").replay("f1", 3, "failed", T0 + 3 * H)
    assert _fe(scenario.recon()) == {"f1": "abandoned"}


def test_claimed_insert_without_a_row_is_unconfirmed(scenario):
    scenario.op("o1").failure("f1").replay("f1", 1, "inserted", T0 + H)
    recon = scenario.recon()
    assert _fe(recon) == {"f1": "unconfirmed"}
    assert scenario.states() == {"o1": "missing_pending"}


def test_claimed_duplicate_without_a_row_is_unconfirmed(scenario):
    scenario.op("o1").failure("f1").replay("f1", 1, "duplicate", T0 + H)
    assert _fe(scenario.recon()) == {"f1": "unconfirmed"}


def test_replay_row_makes_the_failure_replayed(scenario):
    scenario.op("o1").failure("f1").replay("f1", 1, "inserted", T0 + H)
    scenario.row("a1", T0, origin="replay", inserted_at=T0 + H + timedelta(seconds=5))
    recon = scenario.recon()
    assert _fe(recon) == {"f1": "replayed"}
    assert scenario.states() == {"o1": "replayed"}


def test_any_matching_row_counts_as_replayed_even_a_live_one(scenario):
    scenario.op("o1").failure("f1").row("a1", T0 + timedelta(seconds=1))
    assert _fe(scenario.recon()) == {"f1": "replayed"}


def test_latency_uses_inserted_at_minus_original_time(scenario):
    scenario.op("o1").failure("f1").replay("f1", 1, "inserted", T0 + 2 * H)
    scenario.row("a1", T0, origin="replay", inserted_at=T0 + H)
    recon = scenario.recon()
    assert recon.failures.loc[0, "latency_seconds"] == 3600.0


def test_latency_falls_back_to_the_successful_attempt_time(scenario):
    scenario.op("o1").failure("f1").replay("f1", 1, "failed", T0 + H).replay("f1", 2, "inserted", T0 + 2 * H)
    scenario.row("a1", T0, origin="replay", inserted_at=None)
    recon = scenario.recon()
    assert recon.failures.loc[0, "latency_seconds"] == 7200.0


def test_replay_status_json_has_the_contract_keys(scenario):
    scenario.op("o1").failure("f1", T0)
    scenario.op("o2", tenant="r2").failure("f2", T0 + H, tenant="r2")
    out = scenario.json("replay-status", "--as-of", "2026-10-01T15:00:00Z")
    assert set(out) == {"states", "oldest_pending_age_seconds", "latency_seconds", "skipped_log_lines"}
    assert out["states"] == {"replayed": 0, "pending": 2, "retrying": 0, "abandoned": 0, "unconfirmed": 0}
    assert out["oldest_pending_age_seconds"] == 3 * 3600
    assert out["latency_seconds"] == {"p50": None, "p95": None, "max": None}


def test_replay_status_window_selects_failures_by_original_time(scenario):
    scenario.op("o1").failure("f1", T0)
    scenario.op("o2", T0 + timedelta(days=2)).failure("f2", T0 + timedelta(days=2))
    out = scenario.json("replay-status", "--start", "2026-10-03", "--end", "2026-10-03",
                        "--as-of", "2026-10-04T00:00:00Z")
    assert out["states"]["pending"] == 1


def test_error_classes_are_recognised():
    from evidence_app.reconcile.replay import error_class

    assert error_class("D1_ERROR: Database is overloaded. Requests queued for too long.") == "overloaded"
    assert error_class("D1_ERROR: Connection reset by peer") == "reset"
    assert error_class("D1_ERROR: Network connection lost.") == "network"
    assert error_class("something odd") == "other"
