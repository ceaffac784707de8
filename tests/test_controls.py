"""Control results follow their documented, configurable rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from evidence_app.assess.controls import (
    EXCEPTIONS,
    MET,
    NOT_APPLICABLE,
    NOT_MET,
    evaluate_controls,
    load_catalogue,
)
from evidence_app.assess.pipeline import evaluate
from evidence_app.assess.summary import summarize
from evidence_app.config.settings import load_config
from evidence_app.errors import ConfigError
from evidence_app.reconcile import Period

from scenario import T0

AS_OF = datetime(2026, 10, 2, tzinfo=timezone.utc)


def results(scenario) -> dict[str, str]:
    config = load_config(scenario.write())
    data, recon = evaluate(config, Period())
    return {r.control.id: r.result for r in evaluate_controls(summarize(data, recon, AS_OF), recon, config.controls)}


def ops_with_rows(scenario, total: int, logged: int, action: str = "cache_purge") -> None:
    for i in range(total):
        scenario.op(f"o{i:03d}", T0 + timedelta(minutes=5 * i), operation=action)
        if i < logged:
            scenario.row(f"a{i:03d}", T0 + timedelta(minutes=5 * i, seconds=1), action=action)


def test_catalogue_maps_every_required_control():
    ids = {(c.framework, c.id) for c in load_catalogue()[0]}
    for cid in ("A.8.15", "A.8.16", "A.8.17", "A.8.5", "A.8.2", "A.5.28"):
        assert ("ISO/IEC 27001:2022", cid) in ids
    for cid in ("A.12.4.1", "A.12.4.2", "A.12.4.3", "A.12.4.4", "A.9.4.2", "A.9.2.3"):
        assert ("ISO/IEC 27001:2013", cid) in ids
    for cid in ("CC6.1", "CC7.2", "CC7.3", "CC4.1"):
        assert ("SOC 2", cid) in ids


def test_full_coverage_meets_logging(scenario):
    ops_with_rows(scenario, 20, 20)
    assert results(scenario)["A.8.15"] == MET


def test_coverage_above_95_percent_is_met_with_exceptions(scenario):
    ops_with_rows(scenario, 40, 39)
    assert results(scenario)["A.8.15"] == EXCEPTIONS


def test_coverage_below_95_percent_is_not_met(scenario):
    ops_with_rows(scenario, 20, 15)
    assert results(scenario)["A.12.4.1"] == NOT_MET


def test_thresholds_are_configurable(scenario):
    scenario.extra_config = "[controls]\ncoverage_met_at = 0.7\n"
    ops_with_rows(scenario, 20, 15)
    assert results(scenario)["A.8.15"] == MET


def test_unknown_control_setting_is_a_config_error(scenario):
    scenario.extra_config = "[controls]\ncoverage_threshold = 0.7\n"
    ops_with_rows(scenario, 2, 2)
    with pytest.raises(ConfigError, match="controls.coverage_threshold"):
        results(scenario)


def test_silent_drops_fail_monitoring(scenario):
    ops_with_rows(scenario, 10, 8)
    assert results(scenario)["A.8.16"] == NOT_MET


def test_logged_failures_satisfy_monitoring(scenario):
    ops_with_rows(scenario, 10, 9)
    scenario.failure("f9", T0 + timedelta(minutes=45))
    scenario.replay("f9", 1, "inserted", T0 + timedelta(hours=1))
    scenario.row("r9", T0 + timedelta(minutes=45), origin="replay")
    out = results(scenario)
    assert out["A.8.16"] == MET and out["CC7.3"] == MET


def test_unconfirmed_replay_is_an_exception(scenario):
    ops_with_rows(scenario, 10, 8)
    scenario.failure("f8", T0 + timedelta(minutes=40)).replay("f8", 1, "inserted", T0 + timedelta(hours=1))
    scenario.row("r8", T0 + timedelta(minutes=40), origin="replay")
    scenario.failure("f9", T0 + timedelta(minutes=45)).replay("f9", 1, "inserted", T0 + timedelta(hours=1))
    assert results(scenario)["CC7.3"] == EXCEPTIONS


def test_no_replay_ever_landing_is_not_met(scenario):
    ops_with_rows(scenario, 10, 9)
    scenario.failure("f9", T0 + timedelta(minutes=45)).replay("f9", 1, "failed", T0 + timedelta(hours=1))
    assert results(scenario)["CC7.3"] == NOT_MET


def test_clock_drift_beyond_a_minute_fails_clock_synchronisation(scenario):
    scenario.extra_config = "[matching]\ntolerance_seconds = 300\n"
    for i in range(10):
        scenario.op(f"o{i}", T0 + timedelta(minutes=10 * i)).row(f"a{i}", T0 + timedelta(minutes=10 * i, seconds=90))
    assert results(scenario)["A.8.17"] == NOT_MET


def test_privileged_rule_looks_only_at_privileged_actions(scenario):
    ops_with_rows(scenario, 10, 10, action="user_delete")
    scenario.op("x1", T0 + timedelta(days=1), operation="menu_publish")
    out = results(scenario)
    assert out["A.8.2"] == MET and out["A.8.15"] == NOT_MET


def test_catalogue_maps_the_remediation_controls():
    found = {(c.framework, c.id): c.check for c in load_catalogue()[0]}
    assert found[("ISO/IEC 27001:2022", "A.5.27")] == "remediation"
    assert found[("ISO/IEC 27001:2022", "A.8.16")] == "monitoring"
    assert found[("SOC 2", "CC4.2")] == "remediation"
    assert found[("SOC 2", "CC7.4")] == "incident_response"


def test_an_inaccurate_replay_is_a_finding_even_at_full_coverage(scenario):
    scenario.op("o1", operation="user_delete", request_id="q1")
    scenario.row("a1", action="user_delete", user="replay-bot", request_id="q1", origin="replay")
    out = results(scenario)
    assert out["A.8.15"] == EXCEPTIONS and out["CC6.1"] == EXCEPTIONS and out["A.12.4.1"] == EXCEPTIONS


def test_an_incomplete_row_is_a_finding_even_at_full_coverage(scenario):
    ops_with_rows(scenario, 3, 3)
    scenario.op("o9", T0 + timedelta(hours=5), request_id="q9").row("a9", T0 + timedelta(hours=5), target=None,
                                                                     request_id="q9")
    assert results(scenario)["A.8.15"] == EXCEPTIONS


def test_accurate_rows_at_full_coverage_meet_privileged_access_logging(scenario):
    ops_with_rows(scenario, 5, 5, action="user_delete")
    assert results(scenario)["CC6.1"] == MET


def test_inaccurate_rows_within_the_configured_limit_still_meet_logging(scenario):
    scenario.extra_config = "[controls]\ninaccurate_met_max = 1\n"
    scenario.op("o1", request_id="q1").row("a1", user="u9", request_id="q1")
    assert results(scenario)["A.8.15"] == MET


def test_a_silent_drop_after_the_fix_fails_monitoring_and_remediation(scenario):
    scenario.extra_config = '[remediation]\nfixed_at = "2026-10-01T00:00:00Z"\n'
    ops_with_rows(scenario, 10, 9)
    out = results(scenario)
    assert out["A.8.16"] == NOT_MET and out["A.5.27"] == NOT_MET and out["CC4.2"] == NOT_MET


def test_silent_drops_only_before_the_fix_leave_the_route_swept(scenario):
    scenario.extra_config = '[remediation]\nfixed_at = "2026-10-01T12:30:00Z"\n'
    ops_with_rows(scenario, 10, 10)
    scenario.op("early", T0 - timedelta(hours=2))
    assert results(scenario)["A.5.27"] == MET


def test_a_fix_after_every_operation_of_the_period_is_not_applicable_not_met(scenario):
    scenario.extra_config = '[remediation]\nfixed_at = "2026-10-01T13:00:00Z"\n'
    ops_with_rows(scenario, 10, 10)
    scenario.op("early", T0 - timedelta(hours=2))
    assert results(scenario)["A.5.27"] == NOT_APPLICABLE and results(scenario)["CC4.2"] == NOT_APPLICABLE


def test_a_route_without_evidence_of_the_fix_is_an_exception(scenario):
    ops_with_rows(scenario, 4, 4)
    assert results(scenario)["A.5.27"] == EXCEPTIONS


def test_an_audit_logged_flag_contradicting_the_logs_is_an_exception(scenario):
    scenario.extra_config = '[remediation]\nfixed_at = "2026-10-01T00:00:00Z"\n'
    scenario.op("o1", audit_logged=True).row("a1", origin="backfill")
    assert results(scenario)["A.5.27"] == EXCEPTIONS


def test_replays_within_the_sla_meet_incident_response(scenario):
    scenario.op("o1").failure("f1").row("a1", origin="replay", inserted_at=T0 + timedelta(minutes=30))
    assert results(scenario)["CC7.4"] == MET


def test_a_replay_past_the_sla_fails_incident_response(scenario):
    scenario.op("o1").failure("f1").row("a1", origin="replay", inserted_at=T0 + timedelta(hours=3))
    assert results(scenario)["CC7.4"] == NOT_MET


def test_one_replayed_and_one_retrying_failure_is_met_with_exceptions(scenario):
    ops_with_rows(scenario, 10, 8)
    scenario.failure("f8", T0 + timedelta(minutes=40)).replay("f8", 1, "inserted", T0 + timedelta(hours=1))
    scenario.row("r8", T0 + timedelta(minutes=40), origin="replay")
    scenario.failure("f9", T0 + timedelta(minutes=45)).replay("f9", 1, "failed", T0 + timedelta(hours=1))
    assert results(scenario)["CC7.3"] == EXCEPTIONS


def test_a_young_pending_failure_keeps_replay_from_being_met(scenario):
    ops_with_rows(scenario, 10, 8)
    scenario.failure("f8", T0 + timedelta(minutes=40)).replay("f8", 1, "inserted", T0 + timedelta(hours=1))
    scenario.row("r8", T0 + timedelta(minutes=40), origin="replay")
    scenario.failure("f9", AS_OF - timedelta(minutes=5))
    assert results(scenario)["CC7.3"] == EXCEPTIONS


def test_the_sample_q3_2026_verdicts_claim_nothing_that_was_not_tested():
    """Issue 25: Q3 2026 of the bundled sample — every fix time lies after the period and no failure event was
    logged in it, yet 185 operations were dropped silently."""
    from datetime import date

    config = load_config(None)
    data, recon = evaluate(config, Period(date(2026, 7, 1), date(2026, 9, 30)))
    as_of = datetime(2026, 11, 30, tzinfo=timezone.utc)  # every route's fix time has come (the last: 2026-10-08)
    found = {r.control.id: r for r in evaluate_controls(summarize(data, recon, as_of), recon, config.controls)}
    for control in ("CC7.3", "CC7.4", "A.5.27", "CC4.2"):
        assert found[control].result == NOT_APPLICABLE, control
    assert "no failure events in the period (185 operations dropped silently left none)" in found["CC7.4"].figures
    assert "no fix in force in the period" in found["A.5.27"].figures
    assert found["A.8.16"].result == NOT_MET and "oldest pending failure none" in found["A.8.16"].figures
    assert found["CC7.3"].population == "0 failure events" and found["A.8.15"].population == "2,704 operations"
    assert all(r.population for r in found.values())
