"""Bounded views: the worst N plus one all-others line, whose sums keep every total exact."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.errors import UsageError
from evidence_app.reconcile.bounded import bounded_remediation, bounded_view, others_label
from evidence_app.reconcile.coverage import COUNT_FIELDS, RATIO_FIELDS, with_ratios
from evidence_app.reconcile.rules import OP_STATES

NAMES = st.one_of(st.none(), st.text(alphabet="abcdefgh", min_size=1, max_size=3))
COUNTS = st.tuples(*[st.integers(0, 5) for _ in OP_STATES])


def table_of(cells: dict, dims: list[str]) -> pd.DataFrame:
    """A coverage table as coverage_table builds one: dims, counts, ratios; sorted by the dims."""
    ordered = sorted(cells.items(), key=lambda kv: [(v is None, v or "") for v in kv[0]])
    rows = [dict(zip(dims, key)) | dict.fromkeys(OP_STATES, 0) | dict(zip(OP_STATES, counts)) for key, counts in ordered]
    frame = pd.DataFrame(rows, columns=dims + list(OP_STATES)).astype({d: object for d in dims})
    for d in dims:
        frame[d] = frame[d].where(frame[d].notna(), None)
    return with_ratios(frame)[dims + list(COUNT_FIELDS) + list(RATIO_FIELDS)]


by_operator = st.dictionaries(st.tuples(NAMES), COUNTS, min_size=1, max_size=40).map(
    lambda cells: table_of(cells, ["operator"]))
by_day_operator = st.dictionaries(st.tuples(st.sampled_from(["2026-10-01", "2026-10-02", "2026-10-03"]), NAMES),
                                  COUNTS, min_size=1, max_size=60).map(lambda c: table_of(c, ["day", "operator"]))
orders = st.sampled_from(["coverage", "coverage_logged", "missing"])


def counts(frame: pd.DataFrame) -> dict[str, int]:
    return {f: int(frame[f].sum()) for f in COUNT_FIELDS}


@settings(max_examples=200, deadline=None)
@given(by_operator, st.integers(1, 45), orders)
def test_shown_lines_sum_to_the_whole_table(table, limit, order):
    view = bounded_view(table, "operator", limit, order)
    assert counts(view.lines) == counts(table)
    assert view.shown == min(limit, len(table)) == view.named["operator"].nunique(dropna=False)
    assert view.folded == len(table) - view.shown == (len(table) > limit) * (len(table) - limit)


@settings(max_examples=200, deadline=None)
@given(by_day_operator, st.integers(1, 30), orders)
def test_each_days_lines_sum_to_that_days_whole(table, limit, order):
    view = bounded_view(table, "operator", limit, order)
    assert view.lines.groupby("day")[list(COUNT_FIELDS)].sum().equals(
        table.groupby("day")[list(COUNT_FIELDS)].sum())
    assert view.lines["operator"].nunique(dropna=False) <= limit + 1


@settings(max_examples=200, deadline=None)
@given(by_day_operator, st.integers(1, 30), orders)
def test_others_ratios_are_recomputed_from_their_sums(table, limit, order):
    others = bounded_view(table, "operator", limit, order).others
    for r in others.itertuples(index=False):
        assert r.coverage_logged == (r.logged / r.expected if r.expected else None)
        assert r.coverage_after_replay == ((r.logged + r.replayed + r.backfilled) / r.expected
                                           if r.expected else None)


@settings(max_examples=100, deadline=None)
@given(by_day_operator, orders)
def test_a_limit_at_or_above_the_number_of_values_keeps_every_row_worst_first(table, order):
    view = bounded_view(table, "operator", table["operator"].nunique(dropna=False), order)
    assert view.others.empty and view.folded == 0
    assert sorted(map(repr, view.named.itertuples(index=False))) == sorted(map(repr, table.itertuples(index=False)))
    ranked = bounded_view(table, "operator", 1, order).named["operator"]
    if len(table):  # the one worst value leads the whole list too: "worst" orders below the limit
        assert view.named["operator"].iloc[0] == ranked.iloc[0] or (pd.isna(ranked.iloc[0])
                                                                    and pd.isna(view.named["operator"].iloc[0]))


def test_worst_orders_even_when_every_value_fits_under_the_limit():
    table = table_of({("a",): (5, 0, 0, 0, 0, 0), ("b",): (1, 0, 0, 0, 0, 4), ("c",): (3, 0, 0, 0, 0, 1)},
                     ["operator"])
    view = bounded_view(table, "operator", 15, "coverage")
    assert list(view.named["operator"]) == ["b", "c", "a"] and view.others.empty
    assert view.caption() == "all 3 operators, worst first by coverage after replay"


def test_worst_by_coverage_comes_first_ties_broken_by_name():
    table = table_of({("b",): (1, 0, 0, 0, 0, 1), ("a",): (1, 0, 0, 0, 0, 1), ("c",): (2, 0, 0, 0, 0, 0),
                      ("d",): (0, 0, 0, 0, 0, 1)}, ["operator"])
    view = bounded_view(table, "operator", 3, "coverage")
    assert list(view.named["operator"]) == ["d", "a", "b"]
    assert view.others["operator"].tolist() == [others_label("operator", 1)] == ["all others (1 operator)"]


def test_worst_by_missing_ranks_the_largest_gap_first():
    table = table_of({("big",): (90, 0, 0, 0, 0, 10), ("tiny",): (0, 0, 0, 0, 0, 1), ("ok",): (5, 0, 0, 0, 0, 0)},
                     ["operator"])
    assert list(bounded_view(table, "operator", 2, "missing").named["operator"]) == ["big", "tiny"]
    assert list(bounded_view(table, "operator", 2, "coverage").named["operator"]) == ["tiny", "big"]


def test_coverage_as_logged_ordering_ignores_what_replay_recovered():
    table = table_of({("replayed",): (0, 4, 0, 0, 0, 0), ("dropped",): (3, 0, 0, 0, 0, 1), ("fine",): (4, 0, 0, 0, 0, 0)},
                     ["operator"])
    assert list(bounded_view(table, "operator", 1, "coverage_logged").named["operator"]) == ["replayed"]
    assert list(bounded_view(table, "operator", 1, "coverage").named["operator"]) == ["dropped"]


def test_an_operator_without_a_name_is_ranked_and_kept_as_none():
    table = table_of({(None,): (0, 0, 0, 0, 0, 3), ("a",): (1, 0, 0, 0, 0, 0), ("b",): (1, 0, 0, 0, 0, 0)},
                     ["operator"])
    view = bounded_view(table, "operator", 1, "coverage")
    assert view.named["operator"].tolist() == [None]
    assert int(view.others["expected"].iloc[0]) == 2


def test_heat_map_rows_keep_every_day_of_a_worst_operator():
    table = table_of({("2026-10-01", "x"): (0, 0, 0, 0, 0, 1), ("2026-10-02", "x"): (1, 0, 0, 0, 0, 0),
                      ("2026-10-01", "y"): (1, 0, 0, 0, 0, 0), ("2026-10-02", "z"): (1, 0, 0, 0, 0, 0)},
                     ["day", "operator"])
    view = bounded_view(table, "operator", 1, "coverage")
    assert view.named[["day", "operator"]].values.tolist() == [["2026-10-01", "x"], ["2026-10-02", "x"]]
    assert view.others["day"].tolist() == ["2026-10-01", "2026-10-02"]


def test_caption_names_the_ordering_and_the_full_list():
    table = table_of({(f"op{i:02d}",): (1, 0, 0, 0, 0, i % 2) for i in range(20)}, ["operator"])
    view = bounded_view(table, "operator", 15, "missing")
    assert view.caption("coverage_by_operator.csv") == (
        "15 worst of 20 operators by missing operations, all others in one line; every operator in "
        "coverage_by_operator.csv")


def test_a_limit_below_one_is_refused():
    with pytest.raises(UsageError):
        bounded_view(table_of({("a",): (1, 0, 0, 0, 0, 0)}, ["operator"]), "operator", 0)


def test_remediation_folds_the_rest_into_exact_sums_with_status_counts():
    routes = pd.DataFrame({
        "route": ["/a", "/b", "/c", "/d"], "effective_fixed_at": [None] * 4, "fix_source": [None] * 4,
        "expected": [10, 20, 30, 40], "missing_silent_before_fix": [1, 2, 3, 4], "missing_silent_after_fix": [0, 5, 0, 0],
        "failures": [1, 1, 1, 1], "replayed_within_sla": [1, 0, 1, 1], "replay_sla_seconds": [3600] * 4,
        "audit_logged_false": [0, 1, 0, 0], "audit_logged_false_without_failure_event": [0] * 4,
        "audit_logged_true_not_logged": [0, 0, 2, 0], "status": ["swept", "not_swept", "unknown", "swept"]}).astype(object)
    view = bounded_remediation(routes, 2)
    assert view.named["route"].tolist() == ["/b", "/c"]
    line = view.others.iloc[0]
    assert (line["route"], line["expected"], line["missing_silent_before_fix"], line["status"]) == \
        ("all others (2 routes)", 50, 5, "2 swept")
