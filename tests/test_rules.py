"""The rules module states docs/DESIGN.md's reconciliation rules; one behaviour per test, boundaries included."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from evidence_app.reconcile import rules
from evidence_app.reconcile.rules import TIER_KEYS, TIER_REQUEST_ID, Record

from scenario import T0

S = 1_000_000  # one second in microseconds


def rec(t: int = 0, request_id: str | None = None, **keys) -> Record:
    base = dict(action="cache_purge", tenant="r1", operator="u1", target='["m-1"]')
    base.update(keys)
    return Record(id="x", time_us=t, request_id=request_id, **base)


# ------------------------------------------------------------------ candidates


def test_equal_keys_within_the_tolerance_are_a_key_candidate():
    assert rules.candidate_tier(rec(0), rec(119 * S), 120) == TIER_KEYS


def test_exactly_the_tolerance_apart_still_matches():
    assert rules.candidate_tier(rec(0), rec(120 * S), 120) == TIER_KEYS
    assert rules.candidate_tier(rec(0), rec(-120 * S), 120) == TIER_KEYS


def test_one_microsecond_past_the_tolerance_does_not_match():
    assert rules.candidate_tier(rec(0), rec(120 * S + 1), 120) is None


def test_zero_tolerance_needs_the_same_instant():
    assert rules.candidate_tier(rec(5), rec(5), 0) == TIER_KEYS
    assert rules.candidate_tier(rec(5), rec(6), 0) is None


@pytest.mark.parametrize("field", rules.KEY_FIELDS)
def test_every_key_field_must_be_equal(field):
    assert rules.candidate_tier(rec(0), rec(0, **{field: "other"}), 120) is None


def test_a_missing_key_equals_only_a_missing_key():
    assert rules.candidate_tier(rec(0, tenant=None), rec(0, tenant=None), 120) == TIER_KEYS
    assert rules.candidate_tier(rec(0, tenant=None), rec(0), 120) is None


def test_same_request_id_matches_whatever_the_time():
    assert rules.candidate_tier(rec(0, "q1"), rec(10 ** 12, "q1"), 120) == TIER_REQUEST_ID


def test_same_request_id_still_needs_the_same_action():
    assert rules.candidate_tier(rec(0, "q1"), rec(0, "q1", action="refund_create"), 120) is None


def test_request_id_match_ignores_tenant_operator_and_target():
    """(Those differences make the row inaccurate, not unmatched.)"""
    assert rules.candidate_tier(rec(0, "q1"), rec(0, "q1", tenant="r2", operator="u9", target="t"), 120) == TIER_REQUEST_ID


def test_two_different_request_ids_never_match_even_with_equal_keys_and_time():
    assert rules.candidate_tier(rec(0, "q1"), rec(0, "q2"), 120) is None


def test_a_request_id_on_one_side_only_falls_back_to_the_keys():
    assert rules.candidate_tier(rec(0, "q1"), rec(5 * S), 120) == TIER_KEYS
    assert rules.candidate_tier(rec(0), rec(5 * S, "q1"), 120) == TIER_KEYS
    assert rules.candidate_tier(rec(0, "q1"), rec(500 * S), 120) is None


# ------------------------------------------------------------------ priority


def test_priority_puts_origin_first_then_tier_then_distance_then_ids():
    assert rules.PRIORITY == ("origin", "tier", "time_distance", "operation_id", "row_id")
    live_far = rules.priority("live", TIER_KEYS, 100 * S, 5, 5)
    replay_near = rules.priority("replay", TIER_REQUEST_ID, 0, 0, 0)
    assert live_far < replay_near
    assert rules.priority("live", TIER_REQUEST_ID, 100 * S, 5, 5) < rules.priority("live", TIER_KEYS, 0, 0, 0)
    assert rules.priority("live", TIER_KEYS, -3 * S, 5, 5) < rules.priority("live", TIER_KEYS, 4 * S, 0, 0)
    assert rules.priority("live", TIER_KEYS, S, 0, 9) < rules.priority("live", TIER_KEYS, -S, 1, 0)


def test_origin_ranks_live_replay_backfill_and_unknown_as_backfill():
    assert [rules.origin_rank(o) for o in ("live", "replay", "backfill", "weird")] == [0, 1, 2, 2]


def test_null_or_blank_origin_is_live_and_unknown_is_backfill():
    assert rules.origin_of(None) == rules.origin_of("  ") == "live"
    assert rules.origin_of(" Replay ") == "replay"
    assert rules.origin_of("manual") == "backfill"


def test_ids_that_are_all_whole_numbers_order_numerically():
    assert rules.id_order(["10", "9", "100"]) == [1, 0, 2]


def test_ids_order_by_code_point_when_any_is_not_a_whole_number():
    assert rules.id_order(["10", "9", "a"]) == [0, 1, 2]


def test_a_missing_id_sorts_first():
    assert rules.id_order(["b", None, "a"]) == [2, 0, 1]


def test_greedy_acceptance_is_one_to_one_in_priority_order():
    assert rules.accept_greedily([(0, 0), (1, 0), (0, 1), (1, 1)]) == {0: 0, 1: 1}
    assert rules.accept_greedily([(0, 0), (0, 1), (1, 1)]) == {0: 0, 1: 1}
    assert rules.accept_greedily([(0, 1), (1, 1), (0, 0)]) == {0: 1}


# ------------------------------------------------------------------ states


def test_row_statuses():
    assert rules.row_status(True, True) == "matched"
    assert rules.row_status(False, True) == "duplicate"
    assert rules.row_status(False, False) == "orphan"


def test_covered_operation_takes_its_rows_origin():
    assert [rules.operation_state(o, None) for o in rules.ORIGINS] == ["logged", "replayed", "backfilled"]


def test_covered_beats_any_failure_event():
    assert rules.operation_state("replay", "abandoned") == "replayed"


@pytest.mark.parametrize("failure, state", [(None, "missing_silent"), ("pending", "missing_pending"),
                                             ("retrying", "missing_pending"), ("unconfirmed", "missing_pending"),
                                             ("abandoned", "missing_abandoned")])
def test_uncovered_operation_takes_its_state_from_the_failure_event(failure, state):
    assert rules.operation_state(None, failure) == state


def test_state_sets_partition_the_operation_states():
    assert set(rules.COVERED_STATES) | set(rules.MISSING_STATES) == set(rules.OP_STATES)
    assert not set(rules.COVERED_STATES) & set(rules.MISSING_STATES)
    assert set(rules.LOGGED_STATES) < set(rules.COVERED_STATES)


def test_attempts_reaching_the_budget_are_abandoned_one_less_is_retrying():
    assert rules.replay_state(False, False, 24, 24) == "abandoned"
    assert rules.replay_state(False, False, 23, 24) == "retrying"


def test_no_attempt_is_pending_and_a_row_wins_over_everything():
    assert rules.replay_state(False, False, 0, 24) == "pending"
    assert rules.replay_state(True, True, 30, 24) == "replayed"


def test_a_claimed_success_without_a_row_is_unconfirmed_even_past_the_budget():
    assert rules.replay_state(False, True, 30, 24) == "unconfirmed"


def test_attempts_count_distinct_numbers_and_trust_the_highest():
    assert rules.attempts_made([1, 1, 2]) == 2  # a line delivered twice
    assert rules.attempts_made([1, 5]) == 5  # lines lost
    assert rules.attempts_made([None, None, 1]) == 3  # unnumbered events count one each
    assert rules.attempts_made([]) == 0


def test_failure_row_exists_through_its_operation_or_else_a_row_choosing_it():
    assert rules.failure_row_exists(True, True, False) is True
    assert rules.failure_row_exists(True, False, True) is False
    assert rules.failure_row_exists(False, False, True) is True


def test_latency_prefers_inserted_at_then_the_claimed_success():
    t = datetime(2026, 10, 1, tzinfo=timezone.utc)
    assert rules.replay_latency_seconds(t, t + timedelta(hours=1), t + timedelta(hours=2)) == 3600
    assert rules.replay_latency_seconds(t, None, t + timedelta(hours=2)) == 7200
    assert rules.replay_latency_seconds(t, None, None) is None


# ------------------------------------------------------------------ coverage, complete, window


def test_coverage_ratios_and_nothing_expected():
    assert rules.coverage_ratios(4, 2, 3) == (0.5, 0.75)
    assert rules.coverage_ratios(0, 0, 0) == (None, None)


def test_complete_needs_something_expected_nothing_missing_and_no_stray_rows():
    assert rules.complete(3, 0, 0, 0)
    assert not rules.complete(0, 0, 0, 0)
    assert not rules.complete(3, 1, 0, 0)
    assert not rules.complete(3, 0, 1, 0)
    assert not rules.complete(3, 0, 0, 1)


def test_period_includes_its_first_and_last_microsecond_not_the_next_midnight():
    start, end = 0, 86_400 * S
    assert rules.in_period(start, start, end) and rules.in_period(end - 1, start, end)
    assert not rules.in_period(end, start, end) and not rules.in_period(start - 1, start, end)
    assert rules.in_period(5, None, None) and not rules.in_period(None, None, None)


def test_sources_are_read_twice_the_tolerance_past_each_edge():
    assert rules.window_margin_seconds(120) == 240


def test_the_rules_in_words_state_the_values_in_force():
    text = " ".join(rules.describe(300, 7))
    assert "at most 300 s apart" in text and "600 s beyond each edge" in text and "reaching 7 attempts" in text


# ------------------------------------------------------------------ the same boundaries, end to end


def test_row_exactly_the_tolerance_after_the_operation_logs_it(scenario):
    scenario.op("o1").row("a1", T0 + timedelta(seconds=120))
    assert scenario.states() == {"o1": "logged"}


def test_row_one_second_past_the_tolerance_leaves_it_missing(scenario):
    scenario.op("o1").row("a1", T0 + timedelta(seconds=121))
    assert scenario.states() == {"o1": "missing_silent"}


def test_first_and_last_second_of_the_period_are_in_it(scenario):
    first = datetime(2026, 10, 1, 0, 0, 0, tzinfo=timezone.utc)
    last = datetime(2026, 10, 1, 23, 59, 59, tzinfo=timezone.utc)
    scenario.op("first", first).op("last", last).op("before", first - timedelta(seconds=1))
    scenario.op("after", last + timedelta(seconds=1))
    recon = scenario.recon(date(2026, 10, 1), date(2026, 10, 1))
    assert sorted(recon.operations["id"]) == ["first", "last"]


def test_failure_exactly_at_the_attempt_budget_is_abandoned(scenario):
    scenario.extra_config = "[matching]\nmax_replay_attempts = 3\n"
    scenario.op("o1").failure("f1")
    for attempt in (1, 2, 3):
        scenario.replay("f1", attempt, "failed", T0 + timedelta(hours=attempt))
    assert scenario.states() == {"o1": "missing_abandoned"}
