"""The period against the data: each source's span inside the period, the days without any operation, and the
days outside every source (a warning), computed once in the core."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from evidence_app.assess.pipeline import evaluate
from evidence_app.assess.span import data_span
from evidence_app.config.settings import load_config
from evidence_app.reconcile import Period

from scenario import T0


def span(scenario, start=None, end=None):
    data, _ = evaluate(load_config(scenario.write()), Period(start, end))
    return data_span(data)


def test_a_period_wider_than_every_source_is_a_warning_naming_the_days(scenario):
    scenario.op("o1", T0).row("a1", T0)  # 2026-10-01 only
    s = span(scenario, date(2026, 9, 29), date(2026, 10, 3))
    assert s.outside_every_source == ((date(2026, 9, 29), date(2026, 9, 30)), (date(2026, 10, 2), date(2026, 10, 3)))
    assert "2026-09-29 – 2026-09-30 (2 days)" in s.warning and "2026-10-02 – 2026-10-03 (2 days)" in s.warning


def test_a_period_inside_the_data_has_no_warning(scenario):
    scenario.op("o1", T0 - timedelta(days=1)).op("o2", T0 + timedelta(days=1))
    s = span(scenario, date(2026, 9, 30), date(2026, 10, 2))
    assert s.warning is None and s.outside_every_source == ()


def test_days_without_operations_are_named_even_when_other_sources_hold_them(scenario):
    scenario.op("o1", T0).op("o3", T0 + timedelta(days=2)).row("x", T0 + timedelta(days=1))
    s = span(scenario, date(2026, 10, 1), date(2026, 10, 3))
    assert s.days_without_operations == (date(2026, 10, 2),)
    assert s.outside_every_source == ()
    assert s.operations_gap_line() == "1 of the period's 3 days have no operation: 2026-10-02."


def test_each_source_reports_its_first_and_last_record_inside_the_period(scenario):
    scenario.op("o0", T0 - timedelta(days=5)).op("o1", T0).op("o2", T0 + timedelta(hours=5)).row("a1", T0)
    scenario.failure("f1", T0 + timedelta(hours=1))
    s = span(scenario, date(2026, 10, 1), date(2026, 10, 1))
    by = {x.source: x for x in s.sources}
    assert by["operations"].records == 2 and by["operations"].first == pd.Timestamp(T0)
    assert by["operations"].last == pd.Timestamp(T0 + timedelta(hours=5))
    assert by["audit"].records == 1
    assert by["worker logs"].first == pd.Timestamp(T0 + timedelta(hours=1))
    assert by["operations"].describe() == "operations: 2 records, 2026-10-01 12:00:00 UTC – 2026-10-01 17:00:00 UTC"


def test_no_data_at_all_makes_the_whole_period_a_warning(scenario):
    s = span(scenario, date(2026, 10, 1), date(2026, 10, 2))
    assert s.outside_every_source == ((date(2026, 10, 1), date(2026, 10, 2)),)
    assert [x.describe() for x in s.sources][0] == "operations: no records in the period"


def test_an_open_period_runs_from_the_first_to_the_last_record(scenario):
    scenario.op("o1", T0).op("o2", T0 + timedelta(days=2))
    s = span(scenario)
    assert (s.first_day, s.last_day, s.days) == (date(2026, 10, 1), date(2026, 10, 3), 3)
    assert s.warning is None and s.days_without_operations == (date(2026, 10, 2),)


def test_the_json_names_every_field(scenario):
    scenario.op("o1", T0)
    got = span(scenario, date(2026, 9, 30), date(2026, 10, 1)).as_json()
    assert got["first_day"] == "2026-09-30" and got["days"] == 2
    assert got["sources"][0] == {"source": "operations", "records": 1, "first": "2026-10-01T12:00:00Z",
                                 "last": "2026-10-01T12:00:00Z"}
    assert got["days_without_operations"] == ["2026-09-30"]
    assert got["outside_every_source"] == [["2026-09-30", "2026-09-30"]] and got["warning"]


def test_the_sample_q3_period_starts_a_month_before_any_source():
    data, _ = evaluate(load_config(None), Period(date(2026, 7, 1), date(2026, 9, 30)))
    s = data_span(data)
    assert s.outside_every_source == ((date(2026, 7, 1), date(2026, 7, 31)),)
    assert len(s.days_without_operations) == 31 and s.days == 92
    assert all(x.first.date() == date(2026, 8, 1) for x in s.sources)


def test_coverage_json_metadata_wraps_the_unchanged_rows_with_the_span(scenario):
    scenario.op("o1", T0).row("a1", T0)
    plain = scenario.json("coverage", "--start", "2026-09-30", "--end", "2026-10-01")
    meta = scenario.json("coverage", "--start", "2026-09-30", "--end", "2026-10-01", "--metadata")
    assert isinstance(plain, list) and meta["rows"] == plain
    assert meta["period"] == {"start": "2026-09-30", "end": "2026-10-01"}
    assert meta["data_span"]["outside_every_source"] == [["2026-09-30", "2026-09-30"]]
    assert meta["data_span"]["days_without_operations"] == ["2026-09-30"]


def test_a_period_outside_the_data_is_a_note_on_stderr(scenario):
    scenario.op("o1", T0).row("a1", T0)
    res = scenario.cli("coverage", "--start", "2026-09-30", "--end", "2026-10-01")
    assert res.code == 0
    assert "note: The period reaches outside the data: no source holds any record for 2026-09-30." in res.stderr
    inside = scenario.cli("coverage", "--start", "2026-10-01", "--end", "2026-10-01")
    assert "reaches outside" not in inside.stderr


def test_metadata_is_refused_outside_json(scenario):
    res = scenario.cli("coverage", "--metadata", "--format", "csv")
    assert res.code == 2 and "--metadata: only with --format json" in res.stderr
