"""Pieces of a tenant: a tenant (with the tenants its request ids join) too big for one partition is split by a
hash of each record's canonical target into :data:`BUCKETS` pieces.

Exact because a key match needs equal targets (rules clause 1), a failure event is linked by the same key, and a
duplicate is a row that could match the same operation: records that can meet share their canonical target, so
share a piece; what a request id joins the routing pre-pass joins (evidence_app.compute.routing). The bucket is
computed from the same canonical text the matching compares, by the routing pre-pass, by each partition's read
(which keeps, as each chunk arrives, only its own pieces of a split tenant) and for the failure events.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from evidence_app.columns.text import blank_text, compact_text
from evidence_app.ingest.canonical import canonical_target

BUCKETS = 64
"""Pieces a split tenant is cut into (a missing or blank target is always piece 0)."""
_KEY = "evidence-app:t1:"


def target_buckets(targets: pd.Series) -> np.ndarray:
    """Each record's piece (uint8, 0..BUCKETS-1) by its canonical target, raw or canonical already."""
    text = canonical_target(targets)
    out = np.zeros(len(text), dtype=np.uint8)
    if not len(text):
        return out
    present = ~blank_text(text)
    if present.any():
        values = text.astype(object).to_numpy()[present]
        out[present] = (pd.util.hash_array(values, hash_key=_KEY, categorize=False) % BUCKETS).astype(np.uint8)
    return out


Pieces = tuple[tuple[str | None, tuple[int, ...]], ...]
"""A partition's share of split tenants: (canonical tenant, its pieces held here), sorted."""


def keep_pieces(pieces: Pieces) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The chunk filter keeping, of a split tenant's raw rows, only those of the pieces held here (rows of other
    tenants pass: the tenant filter decides those)."""
    held = dict(pieces)
    named = [t for t in held if t is not None]

    def keep(chunk: pd.DataFrame) -> pd.DataFrame:
        if not len(chunk):
            return chunk
        tenant = compact_text(chunk["restaurant_id"])
        split = tenant.isin(named).to_numpy(dtype=bool)
        if None in held:
            split = split | tenant.isna().to_numpy(dtype=bool)
        if not split.any():
            return chunk
        at = np.flatnonzero(split)
        bucket = target_buckets(chunk["target"].iloc[at])
        of = tenant.iloc[at]
        mine = np.zeros(len(at), dtype=bool)
        for name, buckets in held.items():
            rows = (of.isna() if name is None else of == name).to_numpy(dtype=bool)
            mine[rows] = np.isin(bucket[rows], np.array(buckets, dtype=np.uint8))
        kept = np.ones(len(chunk), dtype=bool)
        kept[at] = mine
        return chunk if kept.all() else chunk[kept]
    return keep
