"""Canonical text: whatever the driver gave, one Arrow-backed text column with NaN for missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.columns.text import (
    TEXT_DTYPE,
    as_text,
    codes_of,
    labels,
    repeated,
    take_text,
    text_codes,
)


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
