"""Deterministic record order: by time, then by id (ids that are all whole numbers order as numbers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evidence_app._text import arrow_text


def micros(ts: pd.Series) -> np.ndarray:
    """UTC timestamps as integer microseconds since the epoch."""
    return ts.astype("datetime64[us, UTC]").astype("int64").to_numpy()


def text_rank(values: pd.Series) -> np.ndarray:
    """0-based rank of each id, ties by position: the 'ties broken by id' rule. Ids that are all whole numbers (autoincrement keys
    read as text) order numerically, so 9 comes before 10; anything else orders by code point."""
    arr = arrow_text(values)
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    if len(arr) and pc.all(pc.match_substring_regex(arr, r"^-?[0-9]{1,18}$")).as_py():
        arr = pc.cast(arr, pa.int64())
    return (pc.rank(arr, sort_keys="ascending", tiebreaker="first").to_numpy() - 1).astype(np.int64)


def in_order(frame: pd.DataFrame, time_field: str, id_field: str, keep: np.ndarray) -> pd.DataFrame:
    """The kept records sorted by (time, id). Frames loaded in that order (dataset.py sorts them once)
    come back as a slice that shares the loaded columns instead of a copy of every column."""
    inside = np.flatnonzero(keep)
    part = _rows(frame, inside)
    order = np.lexsort((text_rank(part[id_field]), micros(part[time_field])))
    return _rows(part, order).reset_index(drop=True)


def _rows(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """``frame.take(positions)``, but a slice (no copy) when the positions are consecutive."""
    if len(positions) == 0 or (positions[-1] - positions[0] + 1 == len(positions)
                               and bool(np.all(np.diff(positions) == 1))):
        start = positions[0] if len(positions) else 0
        return frame.iloc[start:start + len(positions)]
    return frame.take(positions)
