"""Each control check's verdict and its methodology sentence come from one definition: walking every threshold's
boundary (just below, at, just above) gives the verdict the sentence states, with the threshold in force named."""

from __future__ import annotations

import pytest

from evidence_app.assess.controls import CHECKS, EXCEPTIONS, MET, NOT_APPLICABLE, NOT_MET, Measured
from evidence_app.config.thresholds import parse_controls
from evidence_app.reconcile.rules import RouteStatus

EPS = 1e-9
NEUTRAL = {
    "coverage": {"expected": 10, "after": 1.0},
    "logging": {"expected": 10, "after": 1.0, "inaccurate": 0, "incomplete": 0, "unprovable": 0},
    "access_logging": {"expected": 10, "after": 1.0, "inaccurate": 0, "incomplete": 0},
    "authentication": {"expected": 10, "after": 1.0},
    "privileged": {"expected": 10, "after": 1.0},
    "monitoring": {"missing": 3, "failures": 3, "share": 0.0, "age_h": 0.0, "after_fix": 0, "unprovable": 0},
    "remediation": {"routes": 3, RouteStatus.SWEPT: 3, RouteStatus.NOT_SWEPT: 0, RouteStatus.UNKNOWN: 0,
                    "after_fix_ops": 5, "mismatches": 0},
    "incident_response": {"failures": 4, "within": 1.0},
    "clock": {"p95": 1.0},
    "evidence": {"write_capable": 0, "skipped": 0, "odd_rows": 0},
    "replay": {"failures": 2, "done": 2, "open": 0},
}
"""Figures at which each check is met (every other figure of a case stays here)."""


def judge(name: str, overrides: dict, **values) -> tuple[str, str]:
    """(verdict, sentence) of check ``name`` for figures ``values`` (the rest neutral) under ``[controls]``."""
    t = parse_controls(overrides)
    check = CHECKS[name]
    return check.verdict(Measured({**NEUTRAL[name], **values}, ""), t), check.sentence(t)


def test_every_check_has_neutral_figures_at_which_it_is_met():
    assert set(NEUTRAL) == set(CHECKS)
    for name in CHECKS:
        assert judge(name, {})[0] == MET, name


COVERAGE_LIKE = ("coverage", "logging", "access_logging", "authentication", "privileged")
SET_COVERAGE = {"coverage_met_at": 0.9, "coverage_exceptions_at": 0.8}


@pytest.mark.parametrize("name", COVERAGE_LIKE)
@pytest.mark.parametrize(("after", "expected"), [
    (0.8 - EPS, NOT_MET), (0.8, EXCEPTIONS), (0.8 + EPS, EXCEPTIONS),
    (0.9 - EPS, EXCEPTIONS), (0.9, MET), (0.9 + EPS, MET),
])
def test_coverage_boundaries_give_the_verdict_the_sentence_states(name, after, expected):
    verdict, sentence = judge(name, SET_COVERAGE, after=after)
    assert verdict == expected
    assert ("met when coverage after replay (operations logged, replayed, backfilled ÷ expected) is at least 90.00% "
            "(set in [controls]; catalogue default 100.00%), met with exceptions when at least 80.00% (set in "
            "[controls]; catalogue default 95.00%)") in sentence
    assert sentence.endswith("otherwise not met (the first that holds decides).")


@pytest.mark.parametrize("name", COVERAGE_LIKE)
def test_nothing_in_scope_is_not_applicable_as_the_sentence_says(name):
    verdict, sentence = judge(name, {}, expected=0, after=None)
    assert verdict == NOT_APPLICABLE and "is not applicable when there are no operations in scope" in sentence


@pytest.mark.parametrize("name", COVERAGE_LIKE)
@pytest.mark.parametrize(("expected", "verdict"), [(0, NOT_APPLICABLE), (1, MET)])
def test_one_operation_is_enough_to_test_coverage(name, expected, verdict):
    assert judge(name, {}, expected=expected, after=1.0 if expected else None)[0] == verdict


@pytest.mark.parametrize(("values", "expected"), [
    ({"missing": 0, "failures": 0, "share": None, "age_h": None}, NOT_APPLICABLE),
    ({"missing": 1, "failures": 0, "share": 1.0, "age_h": None}, NOT_MET),
    ({"missing": 0, "failures": 1, "share": 0.0, "age_h": None}, MET),
])
def test_monitoring_without_missing_operations_or_failure_events_is_not_applicable(values, expected):
    verdict, sentence = judge("monitoring", {}, **values)
    assert verdict == expected
    assert sentence.startswith("Monitoring is not applicable when there are no missing operations and no failure "
                               "events")


@pytest.mark.parametrize(("values", "expected"), [
    ({"routes": 0}, NOT_APPLICABLE), ({"after_fix_ops": 0}, NOT_APPLICABLE), ({"after_fix_ops": 1}, MET),
    ({"after_fix_ops": 0, RouteStatus.NOT_SWEPT: 1}, NOT_MET), ({"after_fix_ops": 0, RouteStatus.UNKNOWN: 1},
                                                                EXCEPTIONS),
])
def test_remediation_without_a_fix_in_force_is_not_applicable(values, expected):
    verdict, sentence = judge("remediation", {}, **values)
    assert verdict == expected
    assert ("not applicable when no operations lie at or after their route's fix time (no fix in force in the "
            "period)") in sentence


@pytest.mark.parametrize("name", ("incident_response", "replay"))
@pytest.mark.parametrize(("failures", "expected"), [(0, NOT_APPLICABLE), (1, MET)])
def test_checks_of_failure_events_without_any_are_not_applicable(name, failures, expected):
    values = {"failures": failures} | ({"within": None} if name == "incident_response" and not failures else {})
    values |= {"done": failures} if name == "replay" else {}
    verdict, sentence = judge(name, {}, **values)
    assert verdict == expected
    assert "is not applicable when there are no failure events in the period" in sentence


@pytest.mark.parametrize("name", ("logging", "access_logging"))
@pytest.mark.parametrize(("figure", "key", "value", "expected"), [
    ("inaccurate", "inaccurate_met_max", 1, MET), ("inaccurate", "inaccurate_met_max", 2, MET),
    ("inaccurate", "inaccurate_met_max", 3, EXCEPTIONS),
    ("incomplete", "incomplete_met_max", 1, MET), ("incomplete", "incomplete_met_max", 2, MET),
    ("incomplete", "incomplete_met_max", 3, EXCEPTIONS),
])
def test_row_findings_beyond_their_limit_turn_met_into_exceptions(name, figure, key, value, expected):
    verdict, sentence = judge(name, {key: 2}, **{figure: value})
    assert verdict == expected
    assert (f"met with exceptions when coverage after replay (operations logged, replayed, backfilled ÷ expected) is "
            f"at least 100.00% and there are more than 2 (set in [controls]; catalogue default 0) {figure} audit rows"
            ) in sentence


@pytest.mark.parametrize(("name", "key"), [("authentication", "credential_actions"),
                                          ("privileged", "privileged_actions"),
                                          ("access_logging", "privileged_actions")])
def test_the_sentence_names_the_actions_counted(name, key):
    _, sentence = judge(name, {key: ["a", "b"]})
    assert f"(actions a, b (set in [controls]; catalogue default {', '.join(getattr(parse_controls({}), key))}))" \
        in sentence


@pytest.mark.parametrize(("values", "expected"), [
    ({"share": 0.1 - EPS}, MET), ({"share": 0.1}, MET), ({"share": 0.1 + EPS}, EXCEPTIONS),
    ({"share": 0.5}, EXCEPTIONS), ({"share": 0.5 + EPS}, NOT_MET),
    ({"age_h": 12.0}, MET), ({"age_h": 12.0 + EPS}, EXCEPTIONS), ({"share": 0.3, "age_h": 99.0}, EXCEPTIONS),
    ({"after_fix": 1}, MET), ({"after_fix": 2}, NOT_MET),
])
def test_monitoring_boundaries_give_the_verdict_the_sentence_states(values, expected):
    verdict, sentence = judge("monitoring", {"silent_share_met_at": 0.1, "pending_age_met_hours": 12,
                                             "silent_after_fix_met_max": 1}, **values)
    assert verdict == expected
    assert ("not met when more than 1 (set in [controls]; catalogue default 0) operations were dropped silently "
            "after their route's fix time") in sentence
    assert ("met with exceptions when the share of missing operations that left no failure event (missing_silent) "
            "is at most 10.00% (set in [controls]; catalogue default 0.00%) and the oldest pending failure event is "
            "more than 12 h (set in [controls]; catalogue default 24 h) old") in sentence
    assert "met with exceptions when at most 50.00%, otherwise not met" in sentence


@pytest.mark.parametrize(("values", "expected"), [
    ({"routes": 0}, NOT_APPLICABLE), ({RouteStatus.NOT_SWEPT: 1}, NOT_MET), ({RouteStatus.UNKNOWN: 1}, EXCEPTIONS),
    ({"mismatches": 1}, MET), ({"mismatches": 2}, EXCEPTIONS),
])
def test_remediation_boundaries_give_the_verdict_the_sentence_states(values, expected):
    verdict, sentence = judge("remediation", {"flag_mismatch_met_max": 1}, **values)
    assert verdict == expected
    assert ("not met when one or more routes are not swept, met with exceptions when one or more routes have an "
            "unknown status (fix not evidenced), not applicable when no operations lie at or after their route's fix "
            "time (no fix in force in the period)") in sentence
    assert "met with exceptions when more than 1 (set in [controls]; catalogue default 0) audit_logged" in sentence


@pytest.mark.parametrize(("values", "expected"), [
    ({"failures": 0, "within": None}, NOT_APPLICABLE), ({"within": 0.9 + EPS}, MET), ({"within": 0.9}, MET),
    ({"within": 0.9 - EPS}, EXCEPTIONS), ({"within": 0.8}, EXCEPTIONS), ({"within": 0.8 - EPS}, NOT_MET),
])
def test_incident_response_boundaries_give_the_verdict_the_sentence_states(values, expected):
    verdict, sentence = judge("incident_response", {"replay_sla_met_at": 0.9, "replay_sla_exceptions_at": 0.8},
                              **values)
    assert verdict == expected
    assert ("met when at least 90.00% (set in [controls]; catalogue default 100.00%) of the failure events were "
            "replayed within the SLA, met with exceptions when at least 80.00% (set in [controls]; catalogue default "
            "95.00%), otherwise not met") in sentence


@pytest.mark.parametrize(("p95", "expected"), [
    (None, NOT_APPLICABLE), (2.0 - EPS, MET), (2.0, MET), (2.0 + EPS, EXCEPTIONS), (30.0, EXCEPTIONS),
    (30.0 + EPS, NOT_MET),
])
def test_clock_boundaries_give_the_verdict_the_sentence_states(p95, expected):
    verdict, sentence = judge("clock", {"clock_p95_met_seconds": 2, "clock_p95_exceptions_seconds": 30}, p95=p95)
    assert verdict == expected
    assert ("is not applicable when the 95th percentile of |audit time − operation time| over live matches is "
            "not measurable") in sentence
    assert ("met when the 95th percentile of |audit time − operation time| over live matches is at most 2 s (set in "
            "[controls]; catalogue default 5 s), met with exceptions when at most 30 s (set in [controls]; catalogue "
            "default 60 s), otherwise not met") in sentence


@pytest.mark.parametrize("figure", ["write_capable", "skipped", "odd_rows"])
def test_any_evidence_problem_is_an_exception_as_the_sentence_says(figure):
    verdict, sentence = judge("evidence", {}, **{figure: 1})
    assert verdict == EXCEPTIONS and sentence.endswith("otherwise met (the first that holds decides).")


@pytest.mark.parametrize(("values", "expected"), [
    ({"failures": 0, "done": 0, "open": 0}, NOT_APPLICABLE),
    ({"failures": 1, "done": 0, "open": 1}, NOT_MET),
    ({"failures": 2, "done": 1, "open": 1}, EXCEPTIONS),  # one replayed, one retrying (or pending, however young)
    ({"failures": 2, "done": 2, "open": 0}, MET),
])
def test_replay_is_met_only_when_every_failure_event_is_replayed(values, expected):
    verdict, sentence = judge("replay", {}, **values)
    assert verdict == expected
    assert ("Replay is not applicable when there are no failure events in the period, not met when no failure events are "
            "replayed, met with exceptions when one or more failure events are not replayed yet (pending, retrying, "
            "abandoned, unconfirmed, whatever their age), otherwise met") in sentence


def test_default_thresholds_are_stated_without_an_override_note():
    for name in CHECKS:
        assert "set in [controls]" not in judge(name, {})[1]


@pytest.mark.parametrize("name", ("logging", "monitoring"))
@pytest.mark.parametrize(("value", "expected"), [(0, MET), (1, MET), (2, MET), (3, EXCEPTIONS)])
def test_unprovable_operations_beyond_their_limit_turn_met_into_exceptions(name, value, expected):
    verdict, sentence = judge(name, {"unprovable_met_max": 2}, unprovable=value)
    assert verdict == expected
    assert ("there are more than 2 (set in [controls]; catalogue default 0) missing operations are unprovable from "
            "the logs") in sentence or "more than 2 (set in [controls]; catalogue default 0)" in sentence
    assert "missing_unprovable" in sentence


def test_by_default_a_single_unprovable_operation_is_a_finding():
    assert judge("logging", {}, unprovable=1)[0] == EXCEPTIONS
    assert judge("monitoring", {}, unprovable=1)[0] == EXCEPTIONS
