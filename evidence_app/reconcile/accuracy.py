"""Accuracy and completeness of the audit rows that landed (rules clause 8), for whole columns at once.

Each row gets the fields it is inaccurate or incomplete in as a detail text (missing when it is neither):
the rules' field checks become bit masks, and every mask names its fields through a lookup table built
from :func:`rules.detail`, so millions of rows take their detail by integer code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evidence_app.columns.order import micros
from evidence_app.columns.text import TEXT_DTYPE, arrow_text, blank_text, compact_labels, is_compact, joint_codes
from evidence_app.reconcile import rules
from evidence_app.reconcile.rules import ACCURACY_FIELDS, COMPLETENESS_FIELDS


def _names(fields: tuple[str, ...]) -> tuple[str, ...]:
    """Bit mask → :func:`rules.detail` of the fields whose bits are set (bit i = ``fields[i]``)."""
    return tuple(rules.detail(f for i, f in enumerate(fields) if mask >> i & 1) for mask in range(1 << len(fields)))


_INACCURATE = _names(ACCURACY_FIELDS)
_INCOMPLETE = _names(COMPLETENESS_FIELDS)


def blank(values: pd.Series) -> np.ndarray:
    """:func:`rules.blank` for a column: NULL, empty, or only whitespace (:func:`blank_text`)."""
    return blank_text(values)


def incomplete_details(rows: pd.DataFrame) -> pd.Series:
    """:func:`rules.incomplete_fields` of every row, as its detail (missing where the row is complete)."""
    mask = np.zeros(len(rows), dtype=np.int64)
    for bit, field in enumerate(COMPLETENESS_FIELDS):
        mask |= blank(rows[field]).astype(np.int64) << bit
    return _details(mask, _INCOMPLETE, rows.index)


def inaccurate_details(ops: pd.DataFrame, rows: pd.DataFrame, row_to_op: np.ndarray, tolerance_s: int) -> pd.Series:
    """:func:`rules.inaccurate_fields` of every row against the operation it serves (``row_to_op``, -1 for
    none), as its detail (missing where the row is accurate or serves no operation by request id)."""
    mask = np.zeros(len(rows), dtype=np.int64)
    matched = row_to_op >= 0
    if not matched.any():
        return _details(mask, _INACCURATE, rows.index)
    at = np.where(matched, row_to_op, -1)
    op_at = np.maximum(at, 0)
    by_request_id = matched & rows["request_id"].notna().to_numpy() & ops["request_id"].notna().to_numpy()[op_at]
    for bit, field in enumerate(ACCURACY_FIELDS[:3]):
        both = ~blank(rows[field]) & ~blank(ops[field])[op_at] & matched
        if is_compact(ops[field]) and is_compact(rows[field]):  # compared by code, no text made
            op_codes, row_codes, _ = joint_codes(ops[field], rows[field])
            differ = row_codes != op_codes[op_at]
        else:
            differ = _text_differs(rows[field], ops[field], at, np.flatnonzero(both))
        mask |= (both & differ).astype(np.int64) << bit
    delta = micros(rows["created_at"]) - micros(ops["occurred_at"])[np.maximum(at, 0)]
    mask |= (~rules.within_tolerance(delta, tolerance_s)).astype(np.int64) << ACCURACY_FIELDS.index("time")
    return _details(np.where(by_request_id, mask, 0), _INACCURATE, rows.index)


_PIECE = 1 << 20


def _text_differs(mine: pd.Series, theirs: pd.Series, at: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Whether ``mine`` differs from ``theirs`` at ``at``, compared at the positions ``where`` only (both sides
    there) and a million at a time: ten million distinct targets are never copied whole."""
    out = np.zeros(len(mine), dtype=bool)
    if not len(where):
        return out
    left, right = arrow_text(mine.astype(TEXT_DTYPE)), arrow_text(theirs)
    for start in range(0, len(where), _PIECE):
        piece = where[start:start + _PIECE]
        differ = pc.not_equal(left.take(pa.array(piece)), right.take(pa.array(at[piece])))
        out[piece] = differ.fill_null(True).to_numpy(zero_copy_only=False)
    return out


def _details(mask: np.ndarray, names: tuple[str, ...], index: pd.Index) -> pd.Series:
    return compact_labels(np.where(mask > 0, mask, -1), names).set_axis(index)
