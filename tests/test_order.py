"""Record order is (time, id, position): the tie-only ranking must give exactly the full sort's order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app._order import in_order, order_by_time_then_id, text_rank
from evidence_app._text import as_text

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
