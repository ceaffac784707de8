"""Composite keys packed into one integer per record (mixed radix), so a key of several columns sorts, compares
and counts as fast as one column: ``code₀ · size₁ · size₂ + code₁ · size₂ + code₂``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["LIMIT", "fits", "joint_key", "packed"]

LIMIT = 2**62
"""Packed keys stay below this, well inside int64 (room for one more step of arithmetic)."""


def fits(sizes: Sequence[int]) -> bool:
    """Whether codes with these many values each pack into one integer below :data:`LIMIT`."""
    return float(np.prod([float(s) for s in sizes])) < float(LIMIT)


def packed(codes: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """One int64 per record, ordering exactly as the tuples ``(codes[0][i], codes[1][i], …)`` do; each code must
    lie in ``[0, size)``. ValueError when the sizes do not :func:`fit`."""
    if not fits(sizes):
        raise ValueError(f"a key of sizes {list(sizes)} does not fit in one integer")
    out = np.asarray(codes[0]).astype(np.int64)
    for code, size in zip(codes[1:], sizes[1:]):
        out = out * size + code
    return out


def joint_key(codes: Iterable[tuple[np.ndarray, int]], sort: bool) -> np.ndarray:
    """One int64 per record, equal exactly where every ``(code, size)`` column is; where the next column would
    overflow, the key so far is renumbered first (``sort=True`` keeps its order, so the result orders as the
    tuples; ``sort=False`` numbers in order of first appearance)."""
    key: np.ndarray | None = None
    top = 1  # an upper bound of key's values
    for code, size in codes:
        if key is None:
            key, top = np.asarray(code).astype(np.int64), size
            continue
        if top * size >= LIMIT:
            key, uniques = pd.factorize(key, sort=sort)
            top = len(uniques)
        key = key * size + code
        top *= size
    if key is None:
        raise ValueError("a key needs at least one column")
    return key
