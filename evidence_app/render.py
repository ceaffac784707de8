"""Frames and records → JSON, CSV or a terminal table (formatting only, no computation).

CSV is written for people, who open it in a spreadsheet: a text cell that a spreadsheet would run as a formula
— one beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return — gets a leading ``'`` (OWASP's
advice against CSV injection). Numeric columns are untouched; JSON keeps every value raw."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from evidence_app.columns.text import expanded
from evidence_app.formatting import percent

RATIO_COLUMNS = {"coverage_logged", "coverage_after_replay"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (or hide one behind a tab or CR)."""
_FORMULA_CHARS = "=+\\-@\uff1d\uff0b\uff0d\uff20"
"""``= + - @`` and their full-width forms (CJK spreadsheets read ``＝`` as ``=``)."""
_BLANKS = "\t\n\r\x0b\x0c \x85\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
"""Whitespace a spreadsheet may trim before reading a cell (Google Sheets does; LibreOffice's "trim spaces")."""
_FORMULA_START_PATTERN = f"^[{_BLANKS}]*[{_FORMULA_CHARS}]|^[\t\r]"
"""One pattern for Python's re and Arrow's RE2: a formula character first, or behind whitespace; or a tab or CR."""
_FORMULA_START = re.compile(_FORMULA_START_PATTERN)


def neutralised(text: str) -> str:
    """A CSV text cell as a spreadsheet will show it, never run it: ``'`` before a formula's first character,
    also when whitespace stands before it or it is full-width."""
    return "'" + text if _FORMULA_START.match(text) else text


def plain(value: Any) -> Any:
    """numpy/pandas scalars → JSON-ready Python values (NaN/NaT → None)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as a list of plain dicts, column order kept."""
    cols = list(frame.columns)
    return [{c: plain(v) for c, v in zip(cols, row)} for row in frame.itertuples(index=False, name=None)]


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_csv(frame: pd.DataFrame) -> str:
    """CSV of ``frame``: the csv module quotes, each column is turned into text at once (not value by value
    in Python); every value reads as :func:`plain` then :func:`_csv_value` make it."""
    fast = _arrow_csv(frame)
    if fast is not None:
        return fast
    return csv_text(list(frame.columns), zip(*(_csv_column(frame.iloc[:, i]) for i in range(frame.shape[1]))))


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV of text cells, ``\n`` between rows, as the csv module writes it — except that a cell holding a
    carriage return is quoted too (the csv module leaves a lone CR bare when rows end in ``\n``, and every
    spreadsheet reads a bare CR as the end of a row: a value could forge rows), and so is one holding a semicolon
    (:func:`_needs_quotes`); the header's names are neutralised like cells."""
    header = [neutralised(h) if isinstance(h, str) else h for h in header]  # a column named from data
    rows = list(rows)
    if not any(("\r" in cell or ";" in cell) for row in [header, *rows] for cell in row if cell.__class__ is str):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buf.getvalue()
    return "".join(_csv_line(row) for row in [list(header), *rows])


def _csv_line(row: Sequence[object]) -> str:
    """One row as the csv module quotes it (minimal quoting, ``""`` for a row that is one empty cell), CR included."""
    cells = ["" if v is None else str(v) for v in row]
    if cells == [""]:
        return '""\n'
    return ",".join('"' + c.replace('"', '""') + '"' if _needs_quotes(c) else c for c in cells) + "\n"


def _arrow_csv(frame: pd.DataFrame) -> str | None:
    """The text the csv module would write, by Arrow's writer in C++ (no Python string per value),
    when the two cannot differ: two columns or more (the csv module quotes a row that is one empty field) and no
    name or value it would quote. Each column is the text :func:`_csv_column` gives, so values read the same.
    None when something needs quoting."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = list(frame.columns)
    if len(names) < 2 or not all(n.__class__ is str and not _needs_quotes(n) and neutralised(n) == n for n in names):
        return None
    out = io.BytesIO()
    try:
        table = pa.Table.from_arrays([_arrow_column(frame.iloc[:, i]) for i in range(len(names))], names=names)
        # Unquoted, Arrow refuses any value holding , " \r or \n: the csv module (which quotes) writes those.
        pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, quoting_style="none", eol="\n"))
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return None  # that, or text Arrow cannot hold (a lone surrogate from a JSON log): the csv module's way
    body = out.getvalue()
    if b";" in body:  # quoted by the csv module's way (see _needs_quotes)
        return None
    return ",".join(names) + "\n" + body.decode("utf-8")  # Arrow would quote the header


def _needs_quotes(text: str) -> bool:
    """What the cell must be quoted for: the csv module's , " CR LF — and ';', the separator Excel uses in many
    locales (German, French, …): unquoted, ``x;=HYPERLINK(…)`` would open as two cells, the second a live formula."""
    return any(c in text for c in ',"\r\n;')


def _arrow_column(values: pd.Series):  # noqa: ANN202 - a pyarrow Array or ChunkedArray
    """A column as Arrow int64 or text whose CSV form is what :func:`_csv_column` gives: text columns as they are
    held (missing is empty), whole numbers as numbers, anything else as :func:`_csv_column`'s text."""
    import pyarrow as pa

    values = expanded(values)  # compact text is text
    kind = values.dtype
    if isinstance(kind, np.dtype) and kind.kind in "iu" and kind.itemsize <= 8 and kind != np.uint64:
        return pa.array(values.to_numpy(), type=pa.int64())
    if isinstance(kind, pd.StringDtype):
        return _arrow_neutralised(pa.array(values.array))  # Arrow-backed text as held: no Python strings made
    return pa.array(_csv_column(values), type=pa.string())


def _arrow_neutralised(text):  # noqa: ANN001, ANN202 - a pyarrow string Array or ChunkedArray
    """:func:`neutralised` over a whole Arrow text column, in C++ (a copy only when some cell needs it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    formula = pc.match_substring_regex(text, _FORMULA_START_PATTERN)
    if not pc.any(formula).as_py():
        return text
    quoted = pc.binary_join_element_wise(pa.scalar("'", text.type), text, pa.scalar("", text.type))
    return pc.if_else(formula, quoted, text)


def _csv_column(values: pd.Series) -> list[str]:
    """One column as CSV text, the same as :func:`plain` then :func:`_csv_value` value by value (missing text and
    NaN empty, a nullable column's NA as pandas writes it), by dtype at once; anything else value by value."""
    values = expanded(values)
    kind = values.dtype
    if isinstance(kind, pd.StringDtype):
        return [neutralised(v) for v in values.to_numpy(dtype=object, na_value="").tolist()]
    if pd.api.types.is_integer_dtype(kind) or pd.api.types.is_bool_dtype(kind):
        return [str(v) for v in values.tolist()]  # Python ints and bools; a nullable column's NA as '<NA>'
    if isinstance(kind, np.dtype) and kind.kind == "f":
        return ["" if v != v else repr(v) for v in values.tolist()]  # NaN is the one value unequal to itself
    # Mixed columns (text with None, ratios with None): exact str and float values, by far the most, are their
    # own text at once; anything else goes through plain() as before.
    return [neutralised(v) if v.__class__ is str else repr(v) if v.__class__ is float and v == v else _csv_text(v)
            for v in values.tolist()]


def _csv_text(value: Any) -> str:
    """One value as CSV text: :func:`plain`, then missing empty, then :func:`_csv_value`."""
    value = plain(value)
    return "" if value is None else neutralised(value) if isinstance(value, str) else _csv_value(value)


def _csv_value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def to_table(frame: pd.DataFrame, headers: Sequence[str] | None = None) -> str:
    """A fixed-width text table; ratios as percentages, numbers right-aligned."""
    cols = list(frame.columns)
    heads = list(headers) if headers else cols
    cells = [[_cell(c, v) for c, v in row.items()] for row in records(frame)]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(heads)]
    numeric = [all(_is_number(r[i]) for r in cells) and bool(cells) for i in range(len(cols))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)).rstrip()

    out = [line(heads), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out) + "\n"


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "—"
    if column in RATIO_COLUMNS and isinstance(value, float):
        return percent(value, places=1)
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _is_number(text: str) -> bool:
    return text == "—" or text.replace(",", "").replace(".", "").replace("%", "").replace("-", "").isdigit()
