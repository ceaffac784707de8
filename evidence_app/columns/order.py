"""Deterministic record order: by time, then by id (ids that are all whole numbers order as numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evidence_app.columns.text import arrow_text

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WHOLE = r"^-?[0-9]{1,18}$"
"""An id that orders as a number (rules.id_order's whole number)."""


def micros(ts: pd.Series) -> np.ndarray:
    """UTC timestamps as integer microseconds since the epoch."""
    return ts.astype("datetime64[us, UTC]").astype("int64").to_numpy()


def micros_at(moment: datetime | pd.Timestamp | None) -> int | None:
    """One instant in the microseconds :func:`micros` gives (years 1 to 9999; a naive time is UTC); None or NaT
    stays None."""
    if moment is None or pd.isna(moment):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def text_rank(values: pd.Series) -> np.ndarray:
    """0-based rank of each id, ties by position: the 'ties broken by id' rule. Ids that are all whole numbers (autoincrement keys
    read as text) order numerically, so 9 comes before 10; anything else orders by code point."""
    arr = arrow_text(values)
    return _rank(arr, _numeric(arr))


def text_rank_at(values: pd.Series, positions: np.ndarray, as_text: bool = False) -> np.ndarray:
    """For each of ``positions``, a number ordering values[positions] exactly as :func:`text_rank` orders them
    (numerically when every value of the whole column is a whole number; equal values by position), ranking
    only those values, not the column. ``as_text``: by code point whatever this column holds (the column is a
    partition's share of one whose ids are not all whole numbers)."""
    wanted = np.zeros(len(values), dtype=bool)
    wanted[positions] = True
    chosen = np.flatnonzero(wanted)  # ascending position: rank's "first" tie-break keeps the column's order
    arr = arrow_text(values)
    rank_of = np.empty(len(values), dtype=np.int64)  # one slot per value: no sort, no search
    rank_of[chosen] = _rank(arr.take(pa.array(chosen)), not as_text and _numeric(arr))
    return rank_of[positions]


@dataclass(frozen=True)
class TextIds:
    """Which sides' ids the whole period orders by code point (not all whole numbers): a partition holds only some
    of them and must break ties as the single pass does."""

    operations: bool = False
    audit: bool = False
    failures: bool = False


def whole_numbers(values: pd.Series) -> bool:
    """Whether ids order as numbers (every one a whole number; none missing): the rule :func:`text_rank` applies to
    a column, for a caller deciding it over a whole period in pieces (an empty piece says True)."""
    return not len(values) or _numeric(arrow_text(values))


def whole_each(values: pd.Series) -> np.ndarray:
    """Per id, whether it is a whole number as :func:`whole_numbers` tells (a missing id is not)."""
    found = pc.match_substring_regex(arrow_text(values), _WHOLE)
    return found.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)


def _numeric(arr: pa.Array | pa.ChunkedArray) -> bool:
    """True when every id is a whole number (missing counts as the empty text, which is not). The first id is
    looked at first: keys that are not numbers (UUIDs) are told by it, without a pattern run over the column."""
    if not len(arr) or arr.null_count:
        return False
    return bool(pc.all(pc.match_substring_regex(arr.slice(0, 1), _WHOLE)).as_py()
                and pc.all(pc.match_substring_regex(arr, _WHOLE)).as_py())


def _rank(arr: pa.Array | pa.ChunkedArray, numeric: bool) -> np.ndarray:
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    if numeric:
        arr = pc.cast(arr, pa.int64())
    return (pc.rank(arr, sort_keys="ascending", tiebreaker="first").to_numpy() - 1).astype(np.int64)


def in_order(frame: pd.DataFrame, time_field: str, id_field: str, keep: np.ndarray) -> pd.DataFrame:
    """The kept records sorted by (time, id). Frames loaded in that order (dataset.py sorts them once)
    come back as a slice that shares the loaded columns instead of a copy of every column."""
    inside = np.flatnonzero(keep)
    part = _rows(frame, inside)
    return _rows(part, order_by_time_then_id(micros(part[time_field]), part[id_field])).reset_index(drop=True)


def order_by_time_then_id(times: np.ndarray, ids: pd.Series) -> np.ndarray:
    """Positions sorting the records by time, then id (then position): what ``lexsort((text_rank(ids), times))``
    gives, but ids are ranked only where times tie — rare in real data, and ranking millions of distinct
    ids is the costly part. Already sorted input gives 0, 1, 2, … (so callers can keep a slice)."""
    order = np.argsort(times, kind="stable")
    t = times[order]
    tie = t[1:] == t[:-1]
    if not tie.any():
        return order
    grouped = np.zeros(len(t), dtype=bool)
    grouped[:-1] |= tie
    grouped[1:] |= tie
    at = np.flatnonzero(grouped)  # sorted positions inside runs of equal times
    arr = arrow_text(ids)
    members = order[at]  # within a run: ascending original position (stable), as rank's "first" tie-break wants
    ranks = _rank(arr.take(pa.array(members)), _numeric(arr))
    order[at] = members[np.lexsort((ranks, t[at]))]
    return order


def _rows(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """``frame.take(positions)``, but a slice (no copy) when the positions are consecutive."""
    if len(positions) == 0 or (positions[-1] - positions[0] + 1 == len(positions)
                               and bool(np.all(np.diff(positions) == 1))):
        start = positions[0] if len(positions) else 0
        return frame.iloc[start:start + len(positions)]
    return frame.take(positions)
