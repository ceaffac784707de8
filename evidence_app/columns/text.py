"""Canonical text columns: Arrow-backed strings and the few operations the core needs on them.

Identifiers and keys are held as Arrow text (compact; null checks, hashing, sorting and
membership run in Arrow's C++), never as millions of Python string objects.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def take_rows(values: pd.Series, positions: np.ndarray) -> pd.Series:
    """``values.take(positions)`` (positions in range), with a fresh index. Text of one width and no missing value
    (UUID keys, say) is gathered as fixed-size rows by numpy, faster than Arrow's take of variable-size strings."""
    if values.dtype == TEXT_DTYPE and len(positions) >= HASHED_FROM:
        arr = arrow_text(values)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        if not arr.null_count and len(arr):
            n = len(arr)
            offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=n + 1, offset=arr.offset * 8)
            width = int(offsets[1] - offsets[0])
            if width > 0 and int(offsets[-1] - offsets[0]) == n * width and bool(
                    np.all(np.diff(offsets) == width)):
                rows = np.frombuffer(arr.buffers()[2], dtype=np.uint8, count=n * width,
                                     offset=int(offsets[0])).reshape(n, width)
                gathered = np.take(rows, positions, axis=0)
                out = pa.LargeStringArray.from_buffers(
                    len(positions), pa.py_buffer(np.arange(len(positions) + 1, dtype=np.int64) * width),
                    pa.py_buffer(gathered))
                return pd.Series(pd.arrays.ArrowStringArray(out, dtype=TEXT_DTYPE), name=values.name)
    return values.take(positions).reset_index(drop=True)


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
        text = as_text(values)
        hashed = _hashed_codes(arrow_text(text)) if len(text) >= HASHED_FROM else None
        if hashed is None:
            codes, uniques = pd.factorize(text, use_na_sentinel=True)
            k = len(uniques)
        else:
            codes, k = hashed
    codes = codes.astype(np.int64, copy=False)
    codes[codes < 0] = k
    return codes, k + 1


HASHED_FROM = 1 << 16
"""Columns at least this long are coded by :func:`_hashed_codes` when they can be; shorter ones by pandas."""
_WIDEST = 64
"""Bytes of the longest value :func:`_hashed_codes` takes (ids, request ids, targets are far shorter)."""
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class _Words:
    """Text of one width seen as 64-bit words (no copy), for hashing without Arrow's string hash table."""

    valid: np.ndarray | None
    """Which values are present (None: all); the rest describe only those."""
    lengths: np.ndarray
    words: list[np.ndarray]

    def mixed(self) -> np.ndarray:
        """One integer per value, equal for equal text (and rarely for different text)."""
        out = self.lengths.astype(np.uint64) * _MIX
        for word in self.words:
            out ^= word
            out *= _MIX
            out ^= out >> np.uint64(31)
        return out.view(np.int64)

    def same_as(self, first: np.ndarray, codes: np.ndarray) -> bool:
        """Whether every value equals the value at ``first[code]`` (its length and every word)."""
        same = self.lengths == self.lengths[first][codes]
        for word in self.words:
            same &= word == word[first][codes]
        return bool(same.all())

    def spread(self, values: np.ndarray, missing: object) -> np.ndarray:
        """Per-value results back onto every record, ``missing`` for the absent ones."""
        if self.valid is None:
            return values
        out = np.full(len(self.valid), missing, dtype=values.dtype)
        out[self.valid] = values
        return out


def _words(arr: pa.Array | pa.ChunkedArray, pad: bool) -> _Words | None:
    """``arr`` as :class:`_Words` when its values are all of one width, or (``pad``) ASCII, at most :data:`_WIDEST`
    bytes (shorter ones padded to the widest by Arrow; the true lengths are kept); None for anything else."""
    if not pad:  # text of several widths is told by its lengths, before any copy
        low, high = pc.min_max(pc.binary_length(arr)).values()
        if low.as_py() is not None and (low.as_py() != high.as_py() or high.as_py() < 8):
            return None
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    valid = None
    if arr.null_count:
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        arr = arr.filter(pa.array(valid))
    n = len(arr)
    if n == 0:
        return None
    lengths = pc.binary_length(arr).to_numpy(zero_copy_only=False).astype(np.int64)
    width = max(int(lengths.max()), 8)
    if width > _WIDEST:
        return None
    if int(lengths.min()) != width and not pad:
        return None
    if int(lengths.min()) != width:  # pad to one width (counted in characters: non-ASCII text ends up uneven)
        arr = pc.utf8_rpad(arr, width=width, padding=" ")
        if not pc.all(pc.equal(pc.binary_length(arr), width)).as_py():
            return None
    large = pa.types.is_large_string(arr.type)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if large else np.int32, count=n + 1,
                            offset=arr.offset * (8 if large else 4))
    start = int(offsets[0])
    if int(offsets[-1]) - start != n * width:
        return None
    at = list(range(0, width - 7, 8)) + ([width - 8] if width % 8 else [])  # the last word may overlap
    kind = np.dtype({"names": [f"w{i}" for i in range(len(at))], "formats": ["<u8"] * len(at), "offsets": at,
                     "itemsize": width})
    packed = np.frombuffer(arr.buffers()[2], dtype=np.uint8, count=n * width, offset=start).view(kind)
    return _Words(valid, lengths, [np.ascontiguousarray(packed[name]) for name in kind.names])


def _hashed_codes(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, int] | None:
    """pandas' factorize codes of ``arr`` (equal text, equal code, numbered in order of first appearance; -1 for
    missing) and how many distinct values, for text of one width :func:`_words` takes; None for anything else. The
    words are mixed into one integer per value and those factorised — far cheaper than hashing the text; then every
    value is compared with its code's first value, so two different values never share a code (a collision of the
    integers gives None: the caller factorises the text)."""
    seen = _words(arr, pad=False)  # padding costs what hashing the text would
    if seen is None:
        return None
    codes, uniques = pd.factorize(seen.mixed())
    highest = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate(([True], codes[1:] > highest[:-1])))  # each code's first value, by code
    if not seen.same_as(first, codes):
        return None
    return seen.spread(codes, -1), len(uniques)


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
    """Which (non-missing) values occur more than once (:func:`text_codes`, counted). A long column of text
    :func:`_words` takes is screened first by sorting its mixed integers: only values whose integer repeats
    (the duplicates, and the rare collision) are compared as text."""
    if not is_compact(values) and len(values) >= HASHED_FROM:
        seen = _words(arrow_text(values), pad=True)
        if seen is not None:
            mixed = seen.mixed()
            ordered = np.sort(mixed)
            twice = ordered[1:][ordered[1:] == ordered[:-1]]
            maybe = seen.spread(np.isin(mixed, twice) if len(twice) else np.zeros(len(mixed), dtype=bool), False)
            out = np.zeros(len(values), dtype=bool)
            if maybe.any():
                out[maybe] = _repeated_by_codes(values[maybe])
            return out
    return _repeated_by_codes(values)


def _repeated_by_codes(values: pd.Series) -> np.ndarray:
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
