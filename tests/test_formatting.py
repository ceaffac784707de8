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


def test_duration_from_ten_days_is_whole_days():
    assert duration(10 * 86_400) == "10 days"


def test_duration_of_hours_reads_as_days_elapsed():
    assert duration(6588.7 * 3600) == "274 days"


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
