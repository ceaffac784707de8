"""Record order is (time, id, position): the tie-only ranking must give exactly the full sort's order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.columns.order import in_order, order_by_time_then_id, text_rank, text_rank_at
from evidence_app.columns.text import as_text

ids = st.lists(st.integers(-30, 30).map(str) | st.sampled_from(["a", "b", "10", "9", "", "é"]) | st.none(),
               max_size=40)


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_tie_only_ranking_equals_the_full_sort(data):
    names = data.draw(ids)
    times = np.array(data.draw(st.lists(st.integers(0, 4), min_size=len(names), max_size=len(names))), dtype=np.int64)
    values = as_text(pd.Series(names, dtype=object))
    expected = np.lexsort((text_rank(values), times)) if len(names) else np.array([], dtype=np.int64)
    assert order_by_time_then_id(times, values).tolist() == expected.tolist()


def test_whole_number_ids_order_numerically_among_equal_times():
    values = as_text(pd.Series(["10", "9", "11"]))
    assert order_by_time_then_id(np.array([5, 5, 1]), values).tolist() == [2, 1, 0]


def test_kept_records_come_back_sorted_by_time_then_id():
    frame = pd.DataFrame({"t": pd.to_datetime([3, 2, 2, 1], unit="s", utc=True), "id": as_text(pd.Series(list("dcba")))})
    out = in_order(frame, "t", "id", np.array([True, True, True, False]))
    assert out["id"].tolist() == ["b", "c", "d"]


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_ranking_some_positions_orders_them_as_the_full_ranking_does(data):
    names = data.draw(ids.filter(len))
    positions = np.array(data.draw(st.lists(st.integers(0, len(names) - 1), max_size=30)), dtype=np.int64)
    values = as_text(pd.Series(names, dtype=object))
    full, part = text_rank(values)[positions], text_rank_at(values, positions)
    assert (np.sign(np.subtract.outer(part, part)) == np.sign(np.subtract.outer(full, full))).all()


@settings(max_examples=800, deadline=None)
@given(data=st.data())
def test_pairs_ordered_with_tie_only_id_ranks_match_as_the_full_priority_sort(data):
    """The matching kernel's pair order: leading keys, then operation id, then row id. Ranking ids only where
    two tied pairs share an operation or a row must order every such pair as the full sort does — the greedy
    walk compares nothing else — and so take the same pairs and give each row the same best candidate."""
    from evidence_app.reconcile._kernel import _first_position, _greedy, _priority_order

    op_names, row_names = data.draw(ids.filter(len)), data.draw(ids.filter(len))
    n = data.draw(st.integers(0, 40))
    pick = st.lists(st.integers(0, 2), min_size=n, max_size=n)
    o = np.array(data.draw(st.lists(st.integers(0, len(op_names) - 1), min_size=n, max_size=n)), dtype=np.int64)
    r = np.array(data.draw(st.lists(st.integers(0, len(row_names) - 1), min_size=n, max_size=n)), dtype=np.int64)
    leading = [np.array(data.draw(pick), dtype=np.int64) for _ in range(3)]
    if data.draw(st.booleans()):  # keys that cannot be packed into one integer take lexsort's path
        leading[0] -= 1
    op_ids, row_ids = as_text(pd.Series(op_names, dtype=object)), as_text(pd.Series(row_names, dtype=object))
    full = np.lexsort((text_rank(row_ids)[r], text_rank(op_ids)[o], *leading[::-1])) if n else np.array([], int)
    mine = _priority_order(leading, o, r, op_ids, row_ids)
    assert sorted(mine.tolist()) == list(range(n))
    at_full, at_mine = np.argsort(full), np.argsort(mine)  # where each pair stands in each order
    for i in range(n):
        for j in range(n):
            if o[i] == o[j] or r[i] == r[j]:
                assert (at_full[i] < at_full[j]) == (at_mine[i] < at_mine[j])
    def taken(order: np.ndarray) -> list:
        return [a.tolist() for a in _greedy(o[order], r[order], len(op_names), len(row_names))]

    def best_candidate(order: np.ndarray) -> list:
        return [o[order][f] if f < n else -1 for f in _first_position(r[order], len(row_names))]

    assert taken(mine) == taken(full)
    assert best_candidate(mine) == best_candidate(full)
