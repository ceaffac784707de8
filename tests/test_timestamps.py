"""Every timestamp form the design lists normalises to the same UTC instant."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from evidence_app.ingest.canonical import parse_timestamps

NOON = pd.Timestamp("2026-10-01T12:00:00Z")


@pytest.mark.parametrize(
    "value",
    [
        "2026-10-01T12:00:00Z",
        "2026-10-01T12:00:00",  # no zone means UTC
        "2026-10-01T14:00:00+02:00",
        "2026-10-01 12:00:00",  # SQLite CURRENT_TIMESTAMP
        1790856000,  # epoch seconds
        1790856000000,  # epoch milliseconds
        "1790856000000",  # epoch ms as text
        datetime(2026, 10, 1, 12, tzinfo=timezone.utc),
        datetime(2026, 10, 1, 12),  # naive driver datetime means UTC
        datetime(2026, 10, 1, 15, tzinfo=timezone(timedelta(hours=3))),
    ],
)
def test_every_form_means_the_same_instant(value):
    assert parse_timestamps(pd.Series([value], dtype=object)).iloc[0] == NOON


def test_mixed_forms_in_one_column():
    s = pd.Series(["2026-10-01 12:00:00", 1790856000000, "2026-10-01T12:00:00Z"], dtype=object)
    assert (parse_timestamps(s) == NOON).all()


@pytest.mark.parametrize("value", ["garbage", "", "0000-00-00 00:00:00", "17/09/2026 12:00", None])
def test_unusable_values_become_missing_not_errors(value):
    assert pd.isna(parse_timestamps(pd.Series([value], dtype=object)).iloc[0])


def test_native_numeric_column_of_milliseconds():
    s = pd.Series([1790856000000, 1790856060000])
    assert list(parse_timestamps(s)) == [NOON, NOON + pd.Timedelta(minutes=1)]


def test_an_integer_epoch_column_with_nulls_reads_its_nulls_as_missing():
    s = pd.Series([1790856000, None, 1790856060000], dtype="Int64")  # SQLite integers with a NULL
    assert list(parse_timestamps(s))[::2] == [NOON, NOON + pd.Timedelta(minutes=1)] and pd.isna(parse_timestamps(s)[1])


def test_unparseable_audit_timestamp_is_counted_and_reported(scenario):
    scenario.op("o1").row("a1").row("a-bad", at="yesterday-ish")
    res = scenario.cli("coverage", "--format", "json")
    assert res.code == 0
    assert "unparseable_timestamp" in res.stderr and "a-bad" in res.stderr
