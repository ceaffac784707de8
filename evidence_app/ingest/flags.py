"""The operations store's optional ``audit_logged`` flag (the API response's, part 2 of the fix) → a nullable
boolean: true/false, 1/0 and 'true'/'false' (any case, surrounding spaces ignored); NULL or blank = not
reported. Anything else is not a flag: it reads as not reported and the caller counts it."""

from __future__ import annotations

import numpy as np
import pandas as pd

FLAG_DTYPE = "boolean"
_WORDS = {"true": True, "false": False, "1": True, "0": False}


def parse_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(the flags as a nullable boolean Series, a mask of the values that were present but not a flag)."""
    out = pd.Series(pd.NA, index=values.index, dtype=FLAG_DTYPE)
    present = values.notna()
    if not present.any():
        return out, pd.Series(False, index=values.index)
    parsed = values[present].map(_flag)
    known = parsed.notna()
    out[parsed.index[known.to_numpy()]] = parsed[known].astype(bool).to_numpy()
    blank = values[present].map(lambda v: isinstance(v, (str, bytes)) and not _text(v).strip())
    bad = pd.Series(False, index=values.index)
    bad[parsed.index] = (~known & ~blank).to_numpy()
    return out, bad


def _flag(value: object) -> bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer, float, np.floating)):
        return {1: True, 0: False}.get(value) if float(value).is_integer() else None  # type: ignore[call-overload]
    if isinstance(value, (str, bytes)):
        return _WORDS.get(_text(value).strip().lower())
    return None


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
