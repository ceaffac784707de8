"""Canonical text: whatever the driver gave, one Arrow-backed text column with NaN for missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence_app.columns.text import (
    TEXT_DTYPE,
    as_text,
    codes_of,
    labels,
    repeated,
    take_rows,
    take_text,
    text_codes,
)


@pytest.fixture
def monkeypatch_hashed():
    """The word-hash paths of evidence_app.columns.text for columns of any length (not only long ones)."""
    from evidence_app.columns import text

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(text, "HASHED_FROM", 0)
        yield


@pytest.fixture
def monkeypatch_collide():
    """Every value's mixed integer the same: the worst collision the exact checks must catch."""
    from evidence_app.columns import text

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(text._Words, "mixed", lambda self: np.zeros(len(self.lengths), dtype=np.int64))
        yield


def test_driver_values_of_any_kind_become_the_same_text():
    values = pd.Series([7, 7.0, b"7", "7", None, float("nan")], dtype=object)
    text = as_text(values)
    assert text.dtype == TEXT_DTYPE
    assert text.tolist()[:4] == ["7", "7", "7", "7"]
    assert text.isna().tolist()[4:] == [True, True]


def test_nullable_integers_keep_every_digit():
    text = as_text(pd.Series([9_007_199_254_740_993, None], dtype="Int64"))
    assert text[0] == "9007199254740993" and pd.isna(text[1])


def test_take_text_gives_missing_for_minus_one():
    picked = take_text(pd.Series(["a", "b"], dtype=TEXT_DTYPE), np.array([1, -1, 0]))
    assert picked[0] == "b" and pd.isna(picked[1]) and picked[2] == "a"


def test_labels_and_codes_round_trip():
    names = ("logged", "replayed", "missing_silent")
    codes = np.array([2, 0, -1, 1])
    assert codes_of(labels(codes, names), names).tolist() == [2, 0, -1, 1]


def test_repeated_marks_every_copy_and_never_missing_values():
    assert repeated(pd.Series(["a", "b", "a", None, None], dtype=TEXT_DTYPE)).tolist() == [
        True, False, True, False, False]


@settings(max_examples=300, deadline=None)
@given(column=st.lists(st.sampled_from(["a", "b", "é", "", " a"]) | st.none(), max_size=12),
       chosen=st.lists(st.sampled_from(["a", "b", "é", "", "c"]), min_size=1, max_size=3))
def test_scope_mask_on_text_selects_what_isin_selects(column, chosen):
    from evidence_app.reconcile import Scope

    frame = pd.DataFrame({"tenant": pd.Series(column, dtype=TEXT_DTYPE)})
    expected = pd.Series(column, dtype=object).isin(chosen).tolist()
    assert Scope(tenant=tuple(chosen)).mask(frame).tolist() == expected


@settings(max_examples=300, deadline=None)
@given(column=st.lists(st.sampled_from(["a", "b", "é", "", " a", "a "]) | st.none(), max_size=14))
def test_repeated_is_a_count_of_each_value(column):
    from collections import Counter

    counts = Counter(v for v in column if v is not None)
    expected = [v is not None and counts[v] > 1 for v in column]
    assert repeated(pd.Series(column, dtype=TEXT_DTYPE)).tolist() == expected


@settings(max_examples=300, deadline=None)
@given(column=st.lists(st.sampled_from(["a", "b", "é", "", " a"]) | st.none(), max_size=14))
def test_text_codes_are_equal_exactly_where_the_text_is(column):
    """The matching kernel joins on these codes: equal text (missing included) ↔ equal code, and k counts them."""
    codes, k = text_codes(pd.Series(column, dtype=TEXT_DTYPE))
    assert len(codes) == len(column) and (len(column) == 0 or (codes.min() >= 0 and codes.max() < k))
    for i, a in enumerate(column):
        for j, b in enumerate(column):
            assert (codes[i] == codes[j]) == (a == b)


_WORDY = st.sampled_from(["a", "b", "é", "", " a", "a ", "a" * 8, "a" * 9, "x" * 64, "x" * 65, "é" * 8]) | st.none()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.lists(_WORDY, max_size=14))
def test_long_columns_are_coded_and_screened_by_their_words_exactly_as_pandas_codes_them(column, monkeypatch_hashed):
    """The hashed paths (taken from HASHED_FROM values on; here from 0) give pandas' codes and the true repeats."""
    from collections import Counter

    values = pd.Series(column, dtype=TEXT_DTYPE)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    expected = codes.astype(np.int64)
    expected[expected < 0] = len(uniques)
    got, k = text_codes(values)
    assert k == len(uniques) + 1 and got.tolist() == expected.tolist()
    counts = Counter(v for v in column if v is not None)
    assert repeated(values).tolist() == [v is not None and counts[v] > 1 for v in column]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.lists(_WORDY, max_size=14))
def test_colliding_word_hashes_fall_back_to_the_text(column, monkeypatch_hashed, monkeypatch_collide):
    """Every value given the same mixed integer: codes still follow the text, repeats are still exact."""
    from collections import Counter

    values = pd.Series(column, dtype=TEXT_DTYPE)
    got, k = text_codes(values)
    for i, a in enumerate(column):
        for j, b in enumerate(column):
            assert (got[i] == got[j]) == (a == b)
    counts = Counter(v for v in column if v is not None)
    assert repeated(values).tolist() == [v is not None and counts[v] > 1 for v in column]


def test_one_width_text_is_coded_through_its_words(monkeypatch_hashed):
    """UUID-like ids (one width, with missing ones): the word path itself answers, with pandas' codes."""
    from evidence_app.columns import text

    ids = pd.Series([f"{i % 7:036d}" if i % 5 else None for i in range(40)], dtype=TEXT_DTYPE)
    found = text._hashed_codes(text.arrow_text(ids))
    assert found is not None
    codes, uniques = pd.factorize(ids, use_na_sentinel=True)
    assert found[0].tolist() == codes.tolist() and found[1] == len(uniques)


@pytest.mark.parametrize("column", [
    pd.Series([f"{i:036d}" for i in range(50)], dtype=TEXT_DTYPE).iloc[3:],  # one width, a slice
    pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([["ab", "cd"], ["ef"] * 40], type=pa.large_string()),
                                         dtype=TEXT_DTYPE)),  # one width, read in chunks
    pd.Series(["ab", None, "cd"] * 20, dtype=TEXT_DTYPE),  # missing values
    pd.Series(["a", "bc", "é"] * 20, dtype=TEXT_DTYPE),  # several widths
])
def test_take_rows_gives_what_take_gives(column, monkeypatch_hashed):
    positions = np.random.default_rng(1).permutation(len(column))
    expected = column.take(positions).reset_index(drop=True)
    got = take_rows(column, positions)
    assert got.dtype == TEXT_DTYPE and got.tolist() == expected.tolist()
