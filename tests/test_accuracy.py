"""Accuracy and completeness of the rows that landed: the `inaccurate` and `incomplete` exception kinds."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scenario import T0

EXCEPTION_KEYS = ["kind", "operation_id", "audit_id", "day", "operator", "tenant", "action", "route", "occurred_at",
                  "detail"]


def findings(scenario, kind: str) -> list[tuple]:
    return [(r["operation_id"], r["audit_id"], r["detail"]) for r in scenario.json("exceptions") if r["kind"] == kind]


def test_replay_with_the_wrong_operator_is_inaccurate_and_still_covers(scenario):
    scenario.op("o1", request_id="q1").row("a1", user="u9", request_id="q1", origin="replay")
    assert findings(scenario, "inaccurate") == [("o1", "a1", "operator")]
    assert scenario.states() == {"o1": "replayed"}


def test_inaccurate_detail_names_every_field_in_the_fixed_order(scenario):
    scenario.op("o1", request_id="q1")
    scenario.row("a1", T0 + timedelta(seconds=121), tenant="r2", user="u9", target='["m-9"]', request_id="q1")
    assert findings(scenario, "inaccurate") == [("o1", "a1", "tenant,operator,target,time")]


def test_request_id_match_exactly_at_the_tolerance_is_accurate(scenario):
    scenario.op("o1", request_id="q1").row("a1", T0 + timedelta(seconds=120), request_id="q1")
    assert findings(scenario, "inaccurate") == []


def test_request_id_match_one_second_past_the_tolerance_is_inaccurate_in_time(scenario):
    scenario.op("o1", request_id="q1").row("a1", T0 - timedelta(seconds=121), request_id="q1")
    assert findings(scenario, "inaccurate") == [("o1", "a1", "time")]


def test_targets_compare_by_meaning_not_by_spelling(scenario):
    scenario.op("o1", target='{"a": 1, "b": 2}', request_id="q1")
    scenario.row("a1", target='{"b":2,"a":1}', request_id="q1")
    assert findings(scenario, "inaccurate") == []


def test_blank_operator_makes_a_row_incomplete_never_inaccurate(scenario):
    scenario.op("o1", request_id="q1").row("a1", user="   ", request_id="q1")
    assert findings(scenario, "inaccurate") == []
    assert findings(scenario, "incomplete") == [("o1", "a1", "operator")]


def test_null_target_makes_a_row_incomplete_never_inaccurate(scenario):
    scenario.op("o1", request_id="q1").row("a1", target=None, request_id="q1")
    assert findings(scenario, "inaccurate") == []
    assert findings(scenario, "incomplete") == [("o1", "a1", "target")]


def test_an_operation_lacking_a_field_is_no_difference(scenario):
    scenario.op("o1", tenant=None, request_id="q1").row("a1", tenant="r1", request_id="q1")
    assert findings(scenario, "inaccurate") == []


def test_incomplete_detail_names_the_missing_fields_in_the_fixed_order(scenario):
    scenario.row("a1", action=None, tenant="", user=None, target=None)
    assert findings(scenario, "incomplete") == [(None, "a1", "operator,tenant,action,target")]


def test_a_row_is_listed_both_as_incomplete_and_as_orphan(scenario):
    scenario.op("o1").row("a1", target=None)
    kinds = {(r["kind"], r["audit_id"]) for r in scenario.json("exceptions")}
    assert {("orphan", "a1"), ("incomplete", "a1"), ("missing_silent", None)} == kinds


def test_a_key_match_never_makes_a_row_inaccurate(scenario):
    scenario.op("o1").row("a1", T0 + timedelta(seconds=120))
    assert findings(scenario, "inaccurate") == []


def test_duplicate_rows_are_not_judged_for_accuracy(scenario):
    scenario.op("o1", request_id="q1").row("a1", request_id="q1").row("a2", user="u9", request_id="q1", origin="replay")
    assert findings(scenario, "inaccurate") == []
    assert findings(scenario, "duplicate") == [("o1", "a2", "")]


def test_old_kinds_carry_an_empty_detail_and_every_row_has_the_contract_keys(scenario):
    scenario.op("o1").op("o2", user="u2").row("a1").row("orphan", tenant="r9")
    out = scenario.json("exceptions")
    assert all(list(r) == EXCEPTION_KEYS for r in out)
    assert {r["kind"]: r["detail"] for r in out} == {"missing_silent": "", "orphan": ""}


def test_exceptions_csv_carries_the_detail(scenario):
    scenario.op("o1", request_id="q1").row("a1", user="u9", request_id="q1")
    lines = scenario.cli("exceptions", "--format", "csv").stdout.splitlines()
    assert lines[0] == ",".join(EXCEPTION_KEYS)
    assert lines[1].startswith("inaccurate,o1,a1,") and lines[1].endswith(",operator")


def test_rows_outside_the_period_are_not_listed(scenario):
    scenario.op("o1", request_id="q1").row("a1", user="u9", request_id="q1", target=None)
    out = scenario.json("exceptions", "--start", "2026-10-02", "--end", "2026-10-03")
    assert out == []


def test_summary_counts_inaccurate_and_incomplete_rows(scenario):
    from datetime import datetime, timezone

    from evidence_app.assess.pipeline import evaluate
    from evidence_app.assess.summary import summarize
    from evidence_app.config.settings import load_config
    from evidence_app.reconcile import Period

    scenario.op("o1", request_id="q1").row("a1", user="u9", request_id="q1")
    scenario.op("o2", request_id="q2").row("a2", target=" ", request_id="q2")
    scenario.row("a3", T0 + timedelta(hours=1), action=None)
    config = load_config(scenario.write())
    data, recon = evaluate(config, Period())
    s = summarize(data, recon, datetime(2026, 10, 2, tzinfo=timezone.utc))
    assert (s.inaccurate, s.incomplete) == (1, 2)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=6), st.text(alphabet=" \t\n\r\x0b\x0c\u00a0\u2003\u3000", max_size=4)),
                max_size=20))
def test_the_vectorised_blank_is_the_rules_blank(values):
    import pandas as pd

    from evidence_app.reconcile import rules
    from evidence_app.reconcile.accuracy import blank

    assert blank(pd.Series(values, dtype=object)).tolist() == [rules.blank(v) for v in values]
