"""Shared formatting: percentages, durations as people read them, short config values; one behaviour per test."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evidence_app.formatting import duration, iso_utc, percent, shown


def test_percent_has_two_decimals_by_default():
    assert percent(0.97314) == "97.31%"


def test_percent_takes_fewer_places_when_asked():
    assert percent(0.97314, places=1) == "97.3%"


def test_percent_of_nothing_measured_is_a_dash():
    assert percent(None) == "—"


def test_percent_of_nan_is_a_dash():
    assert percent(math.nan) == "—"


def test_percent_of_zero_is_zero_not_a_dash():
    assert percent(0.0) == "0.00%"


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (1, "1 s"), (45, "45 s"),
])
def test_duration_under_a_minute_is_whole_seconds(seconds, text):
    assert duration(seconds) == text


def test_duration_under_a_second_is_not_rounded_to_zero():
    assert duration(0.3) == "< 1 s"


def test_duration_counts_whole_seconds_elapsed():
    assert duration(59.9) == "59 s"


@pytest.mark.parametrize(("seconds", "text"), [(60, "1 min"), (245, "4 min 5 s"), (3599.4, "59 min 59 s")])
def test_duration_under_an_hour_is_minutes_and_seconds(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [(3600, "1 h"), (11_520, "3 h 12 min"), (11_579, "3 h 12 min"),
                                               (11_580, "3 h 13 min")])
def test_duration_under_a_day_is_hours_and_minutes(seconds, text):
    assert duration(seconds) == text


def test_duration_just_under_a_day_is_hours_and_minutes():
    assert duration(86_399) == "23 h 59 min"


@pytest.mark.parametrize(("seconds", "text"), [(86_400, "1 day"), (90_000, "1 day 1 h"), (2 * 86_400 + 5 * 3600,
                                                                                            "2 days 5 h")])
def test_duration_under_ten_days_is_days_and_hours(seconds, text):
    assert duration(seconds) == text


def test_duration_just_under_ten_days_is_days_and_hours():
    assert duration(10 * 86_400 - 1) == "9 days 23 h"


def test_duration_from_ten_days_is_still_days_and_hours():
    assert duration(10 * 86_400) == "10 days"
    assert duration(927.4 * 3600) == "38 days 15 h"  # issue 25: "oldest pending 927.4 h"


def test_duration_of_hours_reads_as_days_and_hours_elapsed():
    assert duration(6588.7 * 3600) == "274 days 12 h"


def test_duration_of_many_days_keeps_thousands_separators():
    assert duration(1234 * 86_400) == "1,234 days"


def test_duration_of_nothing_measured_is_a_dash():
    assert duration(None) == "—"


def test_duration_of_nan_is_a_dash():
    assert duration(float("nan")) == "—"


def test_duration_of_a_negative_time_has_a_minus():
    assert duration(-90) == "−1 min 30 s"


def test_shown_repeats_a_short_value_as_python_writes_it():
    assert shown("yes") == "'yes'"


def test_shown_cuts_a_long_value_to_forty_characters():
    assert shown("x" * 100) == "'" + "x" * 38 + "…"


def test_shown_names_a_huge_number_by_its_size():
    assert shown(2**100) == "a 101-bit number"


def test_iso_utc_keeps_its_byte_identical_text():
    assert iso_utc(pd.Timestamp("2026-10-01T12:00:00.000250Z")) == "2026-10-01T12:00:00.000250Z"


def test_no_module_writes_its_own_percentages():
    """A percentage is written by formatting.percent only: an inline ``* 100:.2f}%`` or ``:.0%}`` elsewhere fails."""
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "evidence_app"
    inline = re.compile(r"\* 100:\.\d+f\}%|:\.\d+%\}")
    found = [f"{p.relative_to(package)}:{n}" for p in package.rglob("*.py") if p.name != "formatting.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if inline.search(line)]
    assert not found, found


# ------------------------------------------------------------------ issue 25: people's units and words

from datetime import date as _date, datetime as _datetime, timedelta as _timedelta, timezone as _timezone  # noqa: E402

from hypothesis import given, strategies as st  # noqa: E402

from evidence_app.display import column_name, for_people, state_name  # noqa: E402
from evidence_app.formatting import count, day_runs, timestamp  # noqa: E402
from evidence_app.reconcile.rules import OpState, ReplayState, Verdict  # noqa: E402


def test_a_count_has_thousands_separators():
    assert count(1234567) == "1,234,567" and count(0) == "0" and count(None) == "—"


def test_a_timestamp_is_utc_to_the_second_and_labelled():
    assert timestamp(pd.Timestamp("2026-09-17T12:15:34.987654+02:00")) == "2026-09-17 10:15:34 UTC"
    assert timestamp("2026-09-17 10:15:34") == "2026-09-17 10:15:34 UTC"  # no zone: UTC
    assert timestamp(None) == "—" and timestamp(pd.NaT) == "—"


def test_oldest_pending_hours_read_as_days_and_hours():
    assert duration(927.3 * 3600) == "38 days 15 h" and duration(3 * 3600 + 12 * 60) == "3 h 12 min"


def test_consecutive_days_are_runs():
    d = _date(2026, 7, 1)
    days = [d, d + _timedelta(days=1), d + _timedelta(days=4)]
    assert day_runs(days) == [(d, d + _timedelta(days=1)), (d + _timedelta(days=4), d + _timedelta(days=4))]


def test_states_columns_and_verdicts_have_names_for_people():
    assert state_name(OpState.MISSING_SILENT) == "Missing, silent drop"
    assert state_name(ReplayState.RETRYING) == "Retrying"
    assert state_name(Verdict.NOT_APPLICABLE) == "Not applicable"
    assert column_name("coverage_after_replay") == "Coverage after replay"
    assert column_name("some_new_column") == "Some new column"  # never dropped, never snake_case


def test_for_people_renames_columns_and_states_but_keeps_the_numbers():
    table = pd.DataFrame({"state": [OpState.MISSING_SILENT], "expected": [1234]})
    out = for_people(table)
    assert list(out.columns) == ["State", "Expected"] and out.iloc[0].tolist() == ["Missing, silent drop", 1234]
    assert table["state"].iloc[0] == OpState.MISSING_SILENT  # the machine table is untouched


@given(st.one_of(st.none(), st.just(float("nan")), st.floats(allow_infinity=False, min_value=-1e12, max_value=1e12)))
def test_duration_never_raises_and_uses_people_units(seconds):
    text = duration(seconds)
    assert " h" not in text or "." not in text  # "927.3 h" never again


@given(st.one_of(st.none(), st.text(max_size=30), st.integers(), st.floats(),
                 st.datetimes(min_value=_datetime(1900, 1, 1), max_value=_datetime(2200, 1, 1),
                              timezones=st.just(_timezone.utc))))
def test_timestamp_never_raises(value):
    text = timestamp(value)
    assert isinstance(text, str)


@given(st.datetimes(min_value=_datetime(1900, 1, 1), max_value=_datetime(2200, 1, 1)))
def test_timestamp_round_trips_to_the_second(moment):
    text = timestamp(moment)
    assert text.endswith(" UTC") and _datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC") == moment.replace(microsecond=0)


@given(st.one_of(st.none(), st.text(max_size=20), st.integers()))
def test_display_names_never_raise(value):
    assert isinstance(state_name(value), str)


def test_every_control_check_is_named_once_for_people():
    from evidence_app.assess.controls import CHECKS
    from evidence_app.display import CHECK_NAMES

    assert set(CHECK_NAMES) == set(CHECKS)
    assert all(check.subject == CHECK_NAMES[name] for name, check in CHECKS.items())


def test_a_count_and_its_noun_agree():
    from evidence_app.formatting import counted

    assert [counted(n, "gap") for n in (0, 1, 2, 12345)] == ["0 gaps", "1 gap", "2 gaps", "12,345 gaps"]
    assert counted(1, "day", "days") == "1 day" and counted(3, "entry", "entries") == "3 entries"
