"""Driver row tuples → compact typed columns, chunk by chunk, values exactly as the driver gave them.

Rows held as Python objects cost an object per value; held as Arrow text they cost their bytes.
Columns whose values are all of one plain type become Arrow arrays; a column that mixes types
(SQLite's dynamic typing allows any mix) keeps its Python values, so nothing is reinterpreted here:
canonical.py decides what each value means.
"""

from __future__ import annotations

import os
from functools import cache
from operator import itemgetter
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evidence_app.columns.text import TEXT_DTYPE

Piece = pa.Array | np.ndarray
"""One chunk of one column: Arrow when plain, else an object array."""


def chunk_columns(chunk: Sequence[Sequence[object]], width: int, text_guess: frozenset[int]) -> list[Piece]:
    """Rows → one piece per column: an Arrow array where the driver's values are all of one plain
    type (text, integers, floats, timestamps, or all NULL), else the values themselves (object).

    Columns expected to hold text (``text_guess``, learnt from the previous chunk) are converted in
    one pass over the row tuples, which is several times faster than column by column; if any of
    them holds something else this time, every column takes the careful path."""
    _use_system_allocator()
    pieces: list[Piece | None] = [None] * width
    text = sorted(text_guess)
    if len(text) > 1:
        try:
            rows = chunk if len(text) == width else list(map(itemgetter(*text), chunk))
            packed = pa.array(rows, type=pa.struct([(str(j), pa.string()) for j in text]))
            for k, j in enumerate(text):
                pieces[j] = _large(packed.field(k))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            pass  # some value is not text: fall through, column by column
    for j in range(width):
        if pieces[j] is None:
            pieces[j] = _arrow_or_objects(np.fromiter(map(itemgetter(j), chunk), dtype=object, count=len(chunk)))
    return pieces  # type: ignore[return-value]


def _large(text: pa.Array) -> pa.Array:
    """pandas keeps text as 64-bit-offset strings; converting each chunk as it comes (not the whole
    column at the end) keeps the transient copy one chunk small."""
    return pc.cast(text, pa.large_string())


def dictionary_encoded(piece: Piece) -> Piece:
    """A text piece as Arrow dictionary (each distinct value once, a code per row); anything else unchanged."""
    if isinstance(piece, pa.Array) and pa.types.is_large_string(piece.type):
        return pc.dictionary_encode(piece)
    return piece


def text_columns(pieces: list[Piece]) -> frozenset[int]:
    """Columns that came back as text (or all NULL): the guess for the next chunk."""
    return frozenset(j for j, p in enumerate(pieces)
                     if isinstance(p, pa.Array) and (pa.types.is_large_string(p.type) or pa.types.is_null(p.type)))


def _arrow_or_objects(values: np.ndarray) -> Piece:
    try:
        return _large(pa.array(values, type=pa.string(), from_pandas=False))  # the common case, no inference
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    try:
        arr = pa.array(values, from_pandas=False)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return values  # mixed types (SQLite's dynamic typing, say): keep exactly what came
    return arr if _plain(arr.type) else values


def _plain(kind: pa.DataType) -> bool:
    return (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_signed_integer(kind)
            or pa.types.is_floating(kind) or pa.types.is_timestamp(kind) or pa.types.is_null(kind))


def frame_of(pieces: list[list[Piece]], canonical: list[str]) -> pd.DataFrame:
    return pd.DataFrame({name: _series(parts) for name, parts in zip(canonical, pieces)})


def _series(parts: list[Piece]) -> pd.Series:
    """One column from its chunks: Arrow-backed when every chunk has the same plain type (all-NULL
    chunks fit any), else object values exactly as the driver gave them, None for NULL."""
    kinds = {p.type for p in parts if isinstance(p, pa.Array) and not pa.types.is_null(p.type)}
    if all(isinstance(p, pa.Array) for p in parts) and len(kinds) <= 1:
        kind = kinds.pop() if kinds else pa.null()
        arr = pa.chunked_array([p if p.type == kind else pa.nulls(len(p), kind) for p in parts], type=kind)
        return _from_arrow(arr)
    objects = [p if isinstance(p, np.ndarray) else np.array(p.to_pylist() + [None], dtype=object)[:-1]
               for p in parts]
    return pd.Series(np.concatenate(objects) if objects else np.array([], dtype=object), dtype=object)


def _from_arrow(arr: pa.ChunkedArray) -> pd.Series:
    kind = arr.type
    if pa.types.is_dictionary(kind):  # the chunks' dictionaries unified: a categorical of the values read
        return pd.Series(arr.to_pandas())
    if pa.types.is_null(kind):
        return pd.Series(np.full(len(arr), None, dtype=object), dtype=object)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = arr if pa.types.is_large_string(kind) else pc.cast(arr, pa.large_string())
        return pd.Series(pd.arrays.ArrowStringArray(text, dtype=TEXT_DTYPE))
    if pa.types.is_integer(kind):
        # Nullable integers stay exact (a float64 column could not hold a 19-digit id).
        return pd.Series(arr.to_pandas(types_mapper={kind: pd.Int64Dtype()}.get))
    return pd.Series(arr.to_pandas())


@cache
def _use_system_allocator() -> None:
    """The C library's allocator hands the buffers of finished chunks back for reuse sooner than Arrow's
    default mimalloc: faster, with a lower peak (measured in bench/RESULTS.md). An operator's explicit
    ``ARROW_DEFAULT_MEMORY_POOL`` wins."""
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        pa.set_memory_pool(pa.system_memory_pool())
