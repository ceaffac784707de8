"""Composite keys packed into one integer (mixed radix) and instants in microseconds; one behaviour per test."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from evidence_app.columns.keys import LIMIT, fits, joint_key, packed
from evidence_app.columns.order import micros, micros_at


def test_packed_keys_order_as_the_tuples():
    first, second = np.array([1, 0, 1, 0]), np.array([0, 2, 1, 1])
    key = packed([first, second], [2, 3])
    assert np.argsort(key).tolist() == sorted(range(4), key=lambda i: (first[i], second[i]))


def test_packed_keys_are_equal_exactly_where_every_column_is():
    key = packed([np.array([1, 1, 0]), np.array([2, 2, 2])], [2, 3])
    assert key[0] == key[1] != key[2]


def test_sizes_whose_product_reaches_the_limit_do_not_fit():
    assert fits([2**31, 2**30]) and not fits([2**31, 2**31])


def test_packing_refuses_sizes_that_do_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        packed([np.array([0]), np.array([0])], [LIMIT, 2])


def test_joint_key_is_equal_exactly_where_every_column_is():
    key = joint_key([(np.array([0, 0, 1]), 2), (np.array([3, 3, 3]), 4)], sort=False)
    assert key[0] == key[1] != key[2]


def test_joint_key_renumbers_instead_of_overflowing():
    """Three columns of 2**30 values each would pass 2**62 packed naively; renumbering keeps keys distinct."""
    big = 2**30
    cols = [(np.array([big - 1, big - 1, 0]), big), (np.array([big - 1, 0, 0]), big), (np.array([1, 1, 1]), big)]
    key = joint_key(cols, sort=True)
    assert key.max() < LIMIT and len(set(key.tolist())) == 3


def test_joint_key_with_sort_orders_as_the_tuples_after_renumbering():
    big = 2**30
    cols = [(np.array([5, 2, 2]), big), (np.array([0, 9, 1]), big), (np.array([0, 0, 0]), big)]
    key = joint_key(cols, sort=True)
    assert np.argsort(key).tolist() == [2, 1, 0]


def test_joint_key_needs_a_column():
    with pytest.raises(ValueError):
        joint_key([], sort=True)


def test_micros_at_agrees_with_micros_for_a_column():
    t = pd.Timestamp("2026-10-01T12:00:00.000250Z")
    assert micros_at(t) == micros(pd.Series([t]))[0]


def test_micros_at_reads_a_naive_time_as_utc():
    assert micros_at(datetime(1970, 1, 1, 0, 0, 1)) == 1_000_000


def test_micros_at_reaches_the_first_and_last_year():
    assert micros_at(datetime(1, 1, 1, tzinfo=UTC)) == -62_135_596_800_000_000
    assert micros_at(datetime(9999, 12, 31, tzinfo=UTC)) == 253_402_214_400_000_000


def test_micros_at_of_nothing_is_none():
    assert micros_at(None) is None and micros_at(pd.NaT) is None
