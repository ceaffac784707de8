"""Canonical text columns: Arrow-backed strings and the few operations the core needs on them.

Identifiers and keys are held as Arrow text (compact; null checks, hashing, sorting and
membership run in Arrow's C++), never as millions of Python string objects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)
"""Canonical text: Arrow-backed strings (compact, fast to hash and compare), NaN for missing."""


def as_text(values: pd.Series) -> pd.Series:
    """Identifiers and keys as canonical text, whatever the driver gave (ints, bytes, floats …)."""
    if values.dtype == TEXT_DTYPE:
        return values
    if is_compact(values):
        return pd.Series(pd.arrays.ArrowStringArray(arrow_text(values), dtype=TEXT_DTYPE), index=values.index)
    if isinstance(values.dtype, pd.StringDtype):
        return values.astype(TEXT_DTYPE)
    if pd.api.types.is_integer_dtype(values):
        return values.astype(TEXT_DTYPE)
    return pd.Series(values.map(_text_or_none).astype(object).to_numpy(), index=values.index, dtype=TEXT_DTYPE)


def arrow_text(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The Arrow data behind ``values`` as canonical text, without copying it (compact text is expanded)."""
    if is_compact(values):
        cat = values.array
        names = pa.array(cat.categories.array)
        names = names if names.type == pa.large_string() else pc.cast(names, pa.large_string())
        codes = cat.codes
        return names.take(pa.array(codes, mask=codes < 0, type=pa.int32()))
    arr = pa.array(as_text(values).array)
    return arr if arr.type == pa.large_string() else pc.cast(arr, pa.large_string())


def text_set(values: pd.Series) -> pa.Array:
    """The non-missing values as one Arrow array: a value set for :func:`text_in`, built once."""
    arr = arrow_text(values.dropna())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def text_in(values: pd.Series, among: pa.Array) -> np.ndarray:
    """Boolean mask: which values occur in ``among`` (from :func:`text_set`; missing never does).
    Arrow's hash set, because pandas' ``isin`` walks a large ``among`` in Python."""
    found = pc.is_in(arrow_text(values), value_set=among, skip_nulls=True)
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def take_text(values: pd.Series, positions: np.ndarray) -> pd.Series:
    """``values`` (as text) at ``positions``; -1 gives missing. Stays in Arrow: no Python strings made."""
    arr = arrow_text(values)
    if len(arr) == 0:
        arr = pa.array([None], type=pa.large_string())
    idx = pa.array(np.maximum(positions, 0), mask=np.asarray(positions) < 0, type=pa.int64())
    return pd.Series(pd.arrays.ArrowStringArray(arr.take(idx), dtype=TEXT_DTYPE))


def codes_of(values: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """Each value's position in ``names`` (-1 when absent), computed in Arrow (for :func:`compact` text, once per
    distinct name)."""
    if is_compact(values):
        per_name = codes_of(pd.Series(values.dtype.categories.array), names)
        return np.append(per_name, -1)[values.array.codes]
    found = pc.index_in(arrow_text(values), value_set=pa.array(names, type=pa.large_string()))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def labels(codes: np.ndarray, names: tuple[str, ...]) -> pd.Series:
    """Integer codes → their names as canonical text (-1 gives missing)."""
    return take_text(pd.Series(list(names), dtype=TEXT_DTYPE), codes)


def _text_or_none(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def text_codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Dense integer codes (equal text, equal code; missing is one more value, the last) and how many there are.
    One hash pass (pandas' factorize over the Arrow text): on mostly distinct ids or targets faster than ranking
    them by sorting, whose string comparisons leave the CPU caches."""
    if is_compact(values):  # the categories are distinct text already
        codes, k = values.array.codes, len(values.dtype.categories)
    else:
        codes, uniques = pd.factorize(as_text(values), use_na_sentinel=True)
        k = len(uniques)
    codes = codes.astype(np.int64, copy=False)
    codes[codes < 0] = k
    return codes, k + 1


def joint_codes(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`text_codes` of two columns in one code space (equal text, equal code on either side; missing is the
    last code), and how many codes there are. Two :func:`compact` columns are joined through their categories
    (a few thousand names), not by hashing every record's text."""
    if is_compact(a) and is_compact(b):
        names = a.dtype.categories.union(b.dtype.categories)
        k = len(names)
        side = []
        for values in (a, b):
            where = np.append(names.get_indexer(values.dtype.categories), k).astype(np.int64)
            side.append(where[values.array.codes])  # a missing record's code -1 picks the appended k
        return side[0], side[1], k + 1
    codes, k = text_codes(pd.concat([as_text(a), as_text(b)], ignore_index=True))
    return codes[: len(a)], codes[len(a):], k


def repeated(values: pd.Series) -> np.ndarray:
    """Which (non-missing) values occur more than once (:func:`text_codes`, counted)."""
    codes, k = text_codes(values)
    many = np.bincount(codes, minlength=k) > 1
    many[k - 1] = False  # missing is no value
    return many[codes]  # a byte per record gathered, not a count


def compact(values: pd.Series) -> pd.Series:
    """Canonical text of few distinct values (tenants, operators, routes, actions …) held once each, every record
    a small integer code instead of its text, however many records name it. The categories
    are canonical text in sorted order, so sorting and grouping read as they do on the text. Text with many
    distinct values (ids, targets) is not given to it: codes would only add to it."""
    if values.dtype != TEXT_DTYPE:
        return values
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    kind = pd.CategoricalDtype(pd.Index(uniques, dtype=TEXT_DTYPE))
    return pd.Series(pd.Categorical.from_codes(codes, dtype=kind), index=values.index, name=values.name)


def compact_text(values: pd.Series) -> pd.Series:
    """:func:`as_text` of any column, held :func:`compact`. A categorical (a store column dictionary-encoded as it
    was read) is converted name by name — never record by record — and names that become the same text merge."""
    if not is_compact(values):
        return compact(as_text(values))
    names = as_text(pd.Series(values.dtype.categories.array, dtype=values.dtype.categories.dtype))
    return _recoded(values.array.codes, names).set_axis(values.index)


def compact_labels(codes: np.ndarray, names: tuple[str | None, ...]) -> pd.Series:
    """Integer codes → their names (None, or code -1, is missing), held :func:`compact`: :func:`labels` without
    a string per record."""
    held = _recoded(np.asarray(codes), pd.Series(list(names), dtype=TEXT_DTYPE))
    return held.cat.remove_unused_categories()  # categories are the names records have, as compact() gives


def _recoded(codes: np.ndarray, names: pd.Series) -> pd.Series:
    """Records coded into ``names`` (-1: missing; names may repeat or be missing) → compact text."""
    merged, distinct = pd.factorize(names, sort=True, use_na_sentinel=True)
    recode = np.append(merged, -1)  # a record's -1 takes the appended -1
    kind = pd.CategoricalDtype(pd.Index(distinct, dtype=TEXT_DTYPE))
    return pd.Series(pd.Categorical.from_codes(recode[codes], dtype=kind))


def blank_text(values: pd.Series) -> np.ndarray:
    """NULL, empty, or only whitespace (Arrow's classifiers, which strip() agrees with; no string is copied;
    compact text name by name)."""
    if is_compact(values):
        names = blank_text(pd.Series(values.dtype.categories.array))
        return np.append(names, True)[values.array.codes]
    arr = arrow_text(values)
    empty = pc.or_kleene(pc.equal(pc.utf8_length(arr), 0), pc.utf8_is_space(arr))
    return empty.fill_null(True).to_numpy(zero_copy_only=False).astype(bool)


def is_compact(values: pd.Series) -> bool:
    """Held as :func:`compact` text (a categorical of canonical text)."""
    return isinstance(values.dtype, pd.CategoricalDtype)


def expanded(values: pd.Series) -> pd.Series:
    """``values`` as canonical text when held :func:`compact`, else as they are: for derived tables, whose readers
    (CSV, PDF, charts, value counts) should not meet categories that no record has."""
    return as_text(values) if is_compact(values) else values


def concat_rows(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames stacked, compact columns kept compact (pandas turns categoricals with different categories into
    Python objects): their categories are merged, sorted, and every code re-pointed."""
    frames = [f for f in frames if len(f.columns)]
    if len(frames) < 2:
        return frames[0].reset_index(drop=True) if frames else pd.DataFrame()
    out = {}
    for name in frames[0].columns:
        parts = [f[name] for f in frames]
        if all(is_compact(p) for p in parts):  # names merged and sorted, codes re-pointed: no text made
            out[name] = pd.Series(pd.api.types.union_categoricals([p.array for p in parts], sort_categories=True))
        elif any(is_compact(p) for p in parts):
            out[name] = compact(pd.concat([as_text(p) for p in parts], ignore_index=True))
        else:
            out[name] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(out)
