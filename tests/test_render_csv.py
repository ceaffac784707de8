"""CSV extracts are evidence: the column-wise writer must give the bytes the value-by-value one gave."""

from __future__ import annotations

import csv
import io
from datetime import timezone
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app._text import TEXT_DTYPE
from evidence_app.reconcile.coverage import iso_utc, iso_utc_column
from evidence_app.render import _csv_value, plain, to_csv


def reference_csv(frame: pd.DataFrame) -> str:
    """The writer as it was: every value through plain(), row by row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        values: list[Any] = [plain(v) for v in row]
        writer.writerow(["" if v is None else _csv_value(v) for v in values])
    return buf.getvalue()


texts = st.text(alphabet=st.sampled_from(list('ab,"\n\r é') + ["\u2028"]), max_size=6)


@st.composite
def frames(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 8))
    def column(kind: str) -> pd.Series:
        if kind == "text":
            return pd.Series(draw(st.lists(texts | st.none(), min_size=n, max_size=n)), dtype=TEXT_DTYPE)
        if kind == "int":
            return pd.Series(draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n)), dtype="int64")
        if kind == "Int64":
            return pd.Series(draw(st.lists(st.integers(-99, 99) | st.none(), min_size=n, max_size=n)), dtype="Int64")
        if kind == "float":
            return pd.Series(draw(st.lists(st.floats(allow_infinity=True) | st.none(), min_size=n, max_size=n)),
                             dtype="float64")
        if kind == "bool":
            return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        if kind == "boolean":
            return pd.Series(draw(st.lists(st.booleans() | st.none(), min_size=n, max_size=n)), dtype="boolean")
        return pd.Series(draw(st.lists(texts | st.none() | st.integers() | st.floats(), min_size=n, max_size=n)),
                         dtype=object)
    kinds = draw(st.lists(st.sampled_from(["text", "int", "Int64", "float", "bool", "boolean", "object"]),
                          min_size=1, max_size=5))
    return pd.DataFrame({f"c{i}": column(k) for i, k in enumerate(kinds)})


@settings(max_examples=400, deadline=None)
@given(frame=frames())
def test_column_wise_csv_equals_the_value_by_value_csv(frame):
    assert to_csv(frame) == reference_csv(frame)


def test_a_text_with_comma_quote_and_newline_is_quoted_once():
    frame = pd.DataFrame({"a": pd.Series(['x,"y"\nz', None], dtype=TEXT_DTYPE), "b": [1.5, np.nan]})
    assert to_csv(frame) == 'a,b\n"x,""y""\nz",1.5\n,\n'


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.datetimes(timezones=st.just(timezone.utc)) | st.none(), max_size=10))
def test_timestamps_written_at_once_equal_iso_utc_value_by_value(values):
    column = pd.Series(pd.array(values, dtype="datetime64[us, UTC]"))
    assert iso_utc_column(column).tolist() == [iso_utc(t) for t in column]
