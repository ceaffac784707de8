"""Compact text: the repetitive fields (tenant, operator, action, route, operation, origin) held once per name
with a small code per record. It must read as the text it replaces everywhere the core looks at it."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.assess.pipeline import evaluate
from evidence_app.columns.text import (
    TEXT_DTYPE,
    as_text,
    codes_of,
    compact,
    concat_rows,
    expanded,
    is_compact,
    joint_codes,
    text_codes,
)
from evidence_app.config.settings import load_config
from evidence_app.reconcile.accuracy import blank
from evidence_app.reconcile.coverage import DIMENSIONS, coverage_table, exceptions_table
from evidence_app.reconcile.states import reconcile
from evidence_app.reconcile.window import Period

from scenario import random_scenario

names = st.lists(st.one_of(st.none(), st.sampled_from(["", " ", "b", "a", "é", "a ", "tenant-1", "Z"])),
                 max_size=40)


def _text(values: list) -> pd.Series:
    return pd.Series(values, dtype=TEXT_DTYPE)


def _same(a: pd.Series, b: pd.Series) -> bool:
    return a.isna().tolist() == b.isna().tolist() and a.dropna().tolist() == b.dropna().tolist()


@settings(max_examples=200, deadline=None)
@given(names)
def test_compact_text_reads_back_as_the_same_text(values):
    held = compact(_text(values))
    assert is_compact(held)
    assert _same(as_text(held), _text(values)) and as_text(held).dtype == TEXT_DTYPE


@settings(max_examples=200, deadline=None)
@given(names)
def test_compact_categories_are_the_distinct_names_sorted(values):
    cats = compact(_text(values)).dtype.categories.tolist()
    assert cats == sorted({v for v in values if v is not None})


def test_a_compact_record_costs_a_small_code_not_its_text():
    text = _text([f"tenant-{i % 2000:04d}" for i in range(100_000)])
    held = compact(text)
    assert held.memory_usage(deep=True, index=False) * 5 < text.memory_usage(deep=True, index=False)


@settings(max_examples=200, deadline=None)
@given(names, names, st.booleans(), st.booleans())
def test_joint_codes_are_equal_exactly_where_the_text_is(a, b, compact_a, compact_b):
    left = compact(_text(a)) if compact_a else _text(a)
    right = compact(_text(b)) if compact_b else _text(b)
    ca, cb, k = joint_codes(left, right)
    both = a + b
    codes = np.concatenate([ca, cb])
    assert codes.min(initial=0) >= 0 and codes.max(initial=0) < k
    for i in range(len(both)):
        for j in range(len(both)):
            assert (codes[i] == codes[j]) == (both[i] == both[j]), (both[i], both[j])
    missing = [i for i, v in enumerate(both) if v is None]
    assert all(codes[i] == k - 1 for i in missing)


@settings(max_examples=200, deadline=None)
@given(names)
def test_text_codes_of_compact_text_partition_as_the_text_does(values):
    mine, k1 = text_codes(compact(_text(values)))
    theirs, k2 = text_codes(_text(values))
    assert k1 >= k2  # every text has its code (the categories may hold names no value uses); the partition counts
    assert [[mine[i] == mine[j] for j in range(len(values))] for i in range(len(values))] == \
        [[theirs[i] == theirs[j] for j in range(len(values))] for i in range(len(values))]


@settings(max_examples=200, deadline=None)
@given(names)
def test_blank_reads_compact_text_as_it_reads_the_text(values):
    assert blank(compact(_text(values))).tolist() == blank(_text(values)).tolist()


@settings(max_examples=200, deadline=None)
@given(names, st.lists(st.sampled_from(["a", "b", "", "é", "x"]), max_size=4))
def test_codes_of_compact_text_are_the_codes_of_the_text(values, wanted):
    wanted = tuple(dict.fromkeys(wanted))
    assert codes_of(compact(_text(values)), wanted).tolist() == codes_of(_text(values), wanted).tolist()


@settings(max_examples=100, deadline=None)
@given(names, names)
def test_concat_rows_keeps_compact_columns_compact_and_every_value(a, b):
    top = pd.DataFrame({"tenant": compact(_text(a)), "id": _text([str(i) for i in range(len(a))])})
    bottom = pd.DataFrame({"tenant": _text(b), "id": _text([str(i) for i in range(len(b))])})
    both = concat_rows([top, bottom])
    assert is_compact(both["tenant"])
    assert _same(as_text(both["tenant"]), _text(a + b)) and len(both) == len(a) + len(b)
    compact_both = concat_rows([top, bottom.assign(tenant=compact(bottom["tenant"]))])["tenant"]
    assert is_compact(compact_both) and _same(as_text(compact_both), _text(a + b))
    assert compact_both.dtype.categories.tolist() == sorted(compact_both.dtype.categories.tolist())


def test_expanded_leaves_other_columns_alone():
    day = pd.Series(pd.to_datetime(["2026-10-01"], utc=True))
    assert expanded(day) is day
    assert expanded(compact(_text(["x"]))).dtype == TEXT_DTYPE


# ---------------------------------------------------------------------------------------------------------------
# The product path: the loaded frames are compact, and reconciling them gives what the text gives


def test_loaded_frames_hold_the_repetitive_fields_compact(tmp_path):
    sc = random_scenario(random.Random(3), tmp_path / "s")
    data, _ = evaluate(load_config(sc.write()), Period())
    for frame in (data.operations, data.audit):
        for name in {"tenant", "operator", "action", "route", "operation", "origin"} & set(frame.columns):
            assert is_compact(frame[name]), name
        assert not is_compact(frame["id"]) and not is_compact(frame["target"])


def _expanded_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: expanded(frame[c]) for c in frame.columns})


@pytest.mark.parametrize("seed", range(40))
def test_reconciling_compact_frames_gives_what_the_text_gives(seed, tmp_path):
    sc = random_scenario(random.Random(seed), tmp_path / "s")
    config = load_config(sc.write())
    data, held = evaluate(config, Period())
    text = reconcile(_expanded_frame(data.operations), _expanded_frame(data.audit), data.logs.failures,
                     data.logs.replays, config.matching, Period())
    for got, want in ((held.operations, text.operations), (held.rows, text.rows), (held.failures, text.failures)):
        pd.testing.assert_frame_equal(_expanded_frame(got), _expanded_frame(want))
    assert held.issues == text.issues
    for by in ([], ["day", "operator"], list(DIMENSIONS)):
        pd.testing.assert_frame_equal(coverage_table(held, by), coverage_table(text, by))
    pd.testing.assert_frame_equal(exceptions_table(held), exceptions_table(text))


# ---------------------------------------------------------------------------------------------------------------
# The coverage table's grouping, held to pandas' groupby (what it was computed with before)


def _groupby_table(ops: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    from evidence_app.reconcile.coverage import _with_ratios
    from evidence_app.reconcile.rules import OP_STATES

    state = pd.Categorical(ops["state"].astype(object), categories=OP_STATES)
    counts = pd.get_dummies(state).astype(np.int64)
    counts.index = ops.index
    table = counts.groupby([ops[d] for d in by], dropna=False, sort=True, observed=True).sum().reset_index()
    table.columns = by + list(OP_STATES)
    for d in by:
        table[d] = expanded(table[d])
    return _with_ratios(table, by)


_keys = st.one_of(st.none(), st.sampled_from(["b", "a", "", "é", "A"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_keys, _keys, st.integers(0, 2), st.sampled_from(["logged", "missing_silent",
                                                                              "replayed", "backfilled"])),
                min_size=1, max_size=30),
       st.booleans(), st.sampled_from([["operator"], ["day", "operator"], ["tenant", "operator"],
                                       ["operator", "day", "tenant"]]))
def test_coverage_groups_are_what_pandas_groupby_gives(records, as_compact, by):
    from types import SimpleNamespace

    ops = pd.DataFrame({
        "operator": _text([r[0] for r in records]),
        "tenant": _text([r[1] for r in records]),
        "day": pd.to_datetime([f"2026-10-0{r[2] + 1}" for r in records], utc=True).as_unit("us"),
        "state": _text([r[3] for r in records]),
    })
    if as_compact:
        ops = ops.assign(operator=compact(ops["operator"]), tenant=compact(ops["tenant"]))
    got = coverage_table(SimpleNamespace(operations=ops), by)
    pd.testing.assert_frame_equal(got, _groupby_table(ops, by))


def test_inaccurate_targets_are_the_same_compared_a_few_rows_at_a_time(tmp_path, monkeypatch):
    from datetime import timedelta

    from evidence_app.reconcile import accuracy

    from scenario import T0, Scenario

    sc = Scenario(tmp_path / "s")
    for i in range(9):  # every third row names another target, one has none, one a blank operator
        at = T0 + timedelta(minutes=10 * i)
        sc.op(f"o{i}", at, target=f'["m-{i}"]', request_id=f"q{i}", user="u1")
        sc.row(f"a{i}", at, target=None if i == 4 else f'["m-{i + (i % 3 == 0)}"]', request_id=f"q{i}",
               user="" if i == 7 else "u1")
    config = load_config(sc.write())
    _, whole = evaluate(config, Period())
    monkeypatch.setattr(accuracy, "_PIECE", 2)
    _, pieces = evaluate(config, Period())
    found = whole.rows.set_index("id")["inaccurate"].dropna().to_dict()
    assert found == {"a0": "target", "a3": "target", "a6": "target"}
    assert pieces.rows.set_index("id")["inaccurate"].dropna().to_dict() == found
