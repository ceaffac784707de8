"""The matching kernel: :mod:`rules`' candidate rule and priority order applied to whole columns.

How, not what: the rules live in ``rules.py`` (tests hold this kernel to a record-by-record reference
built from them). Candidate pairs come from sort-merge joins on integer key codes (request-id pairs;
key pairs in time buckets one tolerance wide, so the join stays local); the one-to-one greedy walk of
:func:`rules.accept_greedily` is computed in vectorised rounds of "locally dominant" pairs (a pair first
in the order for both its operation and its row), which takes exactly the pairs the sequential walk
takes, without a Python loop over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evidence_app.columns.keys import fits, joint_key, packed
from evidence_app.columns.order import micros, text_rank_at
from evidence_app.columns.text import joint_codes
from evidence_app.reconcile.rules import KEY_FIELDS, MICROS, PRIORITY, TIER_KEYS, TIER_REQUEST_ID, within_tolerance


@dataclass(frozen=True)
class Matching:
    """Result of matching records (rows) onto operations, by positional index."""

    row_to_op: np.ndarray
    """For each row, the index of the operation it covers, or -1."""
    op_to_row: np.ndarray
    """For each operation, the index of the row covering it, or -1."""
    row_candidate: np.ndarray
    """For each row, its best candidate operation (covered or not), or -1 when it has none."""


def _key_codes(ops: pd.DataFrame, rows: pd.DataFrame, fields: tuple[str, ...],
               renumber: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Factorise the composite key jointly so both sides share integer codes (missing is a value too).
    ``renumber=False`` skips the final renumbering: for a key whose first field is mostly distinct
    (request ids) the codes already follow the records' order."""
    combined = joint_key((_field_codes(ops, rows, name) for name in fields), sort=False)
    if renumber:
        # Renumber in order of first appearance: records come sorted by time, so nearby records get nearby
        # codes and the joins below probe memory in order (far faster searches than scattered codes).
        combined, _ = pd.factorize(combined)
    return combined[: len(ops)], combined[len(ops) :]


def _field_codes(ops: pd.DataFrame, rows: pd.DataFrame, name: str) -> tuple[np.ndarray, int]:
    """One field's codes, operations then rows, shared by both sides; and how many codes there are."""
    op_codes, row_codes, k = joint_codes(ops[name], rows[name])
    return np.concatenate([op_codes, row_codes]), k


def candidates(
    ops: pd.DataFrame, op_time: str, rows: pd.DataFrame, row_time: str, tolerance_s: int
) -> pd.DataFrame:
    """Every admissible (op, row) pair with its tier and |Δt| in microseconds."""
    cols = ["op", "row", "tier", "dt"]
    if ops.empty or rows.empty:
        return pd.DataFrame({c: np.array([], dtype=np.int64) for c in cols})
    op_t, row_t = micros(ops[op_time]), micros(rows[row_time])
    parts = [_request_id_pairs(ops, rows), _key_pairs(ops, rows, op_t, row_t, tolerance_s)]
    o = np.concatenate([p[0] for p in parts]).astype(np.int64, copy=False)
    r = np.concatenate([p[1] for p in parts]).astype(np.int64, copy=False)
    tier = np.repeat([TIER_REQUEST_ID, TIER_KEYS], [len(p[0]) for p in parts]).astype(np.int64)
    return pd.DataFrame({"op": o, "row": r, "tier": tier, "dt": np.abs(op_t[o] - row_t[r])}, columns=cols)


def _request_id_pairs(ops: pd.DataFrame, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Same request id and action; joined on joint integer codes, NULL request ids excluded."""
    op_key, row_key = _key_codes(ops, rows, ("request_id", "action"), renumber=False)
    op_has, row_has = ops["request_id"].notna().to_numpy(), rows["request_id"].notna().to_numpy()
    op_idx, row_idx = np.flatnonzero(op_has), np.flatnonzero(row_has)
    sorted_rows = _SortedKeys(row_key[row_has])
    li, ri = sorted_rows.join(op_key[op_has])
    return op_idx[li], row_idx[ri]


SLICE = 1 << 18
"""Operations per slice of the key join: its hash tables and sorted keys stay in the CPU caches at any size."""


def _key_pairs(
    ops: pd.DataFrame, rows: pd.DataFrame, op_t: np.ndarray, row_t: np.ndarray, tolerance_s: int
) -> tuple[np.ndarray, np.ndarray]:
    width = max(int(tolerance_s), 1) * MICROS
    # Buckets one tolerance wide: a pair within tolerance lies in the same or a neighbouring bucket,
    # so the join stays local (no cross join of a busy key with itself).
    op_b, row_b = op_t // width, row_t // width
    found = [_key_pairs_in(ops, rows, op_b, row_b, *cut) for cut in _time_slices(op_b, row_b)]
    o = np.concatenate([li for li, _ in found])
    r = np.concatenate([ri for _, ri in found])
    within = within_tolerance(op_t[o] - row_t[r], int(tolerance_s))
    both_rid = ops["request_id"].notna().to_numpy()[o] & rows["request_id"].notna().to_numpy()[r]
    keep = within & ~both_rid  # where both carry a request id, only the request-id tier may pair them
    return o[keep], r[keep]


def _time_slices(op_b: np.ndarray, row_b: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(ops from, to, rows from, to) ranges whose joins together find every key pair exactly once: each
    operation lies in one slice, with every row of its bucket and the two next to it. Records sorted by time
    (as loaded) are cut into slices of :data:`SLICE` operations; any other order is one slice. The pairs
    found are the same either way (the matching does not depend on their order)."""
    if len(op_b) <= SLICE or not (_ascending(op_b) and _ascending(row_b)):
        return [(0, len(op_b), 0, len(row_b))]
    cuts = []
    for i0 in range(0, len(op_b), SLICE):
        i1 = min(i0 + SLICE, len(op_b))
        j0 = int(np.searchsorted(row_b, op_b[i0] - 1, side="left"))
        j1 = int(np.searchsorted(row_b, op_b[i1 - 1] + 1, side="right"))
        cuts.append((i0, i1, j0, j1))
    return cuts


def _ascending(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] >= values[:-1]))


def _key_pairs_in(ops: pd.DataFrame, rows: pd.DataFrame, op_b: np.ndarray, row_b: np.ndarray,
                  i0: int, i1: int, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray]:
    """Key pairs of operations i0:i1 with rows j0:j1 in the same or a neighbouring bucket (no tolerance yet)."""
    if i1 == i0 or j1 == j0:
        empty = np.array([], dtype=np.int64)
        return empty, empty
    op_key, row_key = _key_codes(ops.iloc[i0:i1], rows.iloc[j0:j1], KEY_FIELDS)
    op_b, row_b = op_b[i0:i1], row_b[j0:j1]
    stride = int(max(op_b.max(), row_b.max()) - min(op_b.min(), row_b.min()) + 3)
    base = min(op_b.min(), row_b.min()) - 1
    sorted_rows = _SortedKeys(row_key * stride + (row_b - base))
    op_k = op_key * stride + (op_b - base)
    found = [sorted_rows.join(op_k + d) for d in (-1, 0, 1)]  # the row's bucket is op's − 1, same, + 1
    o = np.concatenate([li for li, _ in found]) + i0
    r = np.concatenate([ri for _, ri in found]) + j0
    return o, r


class _SortedKeys:
    """Integer keys sorted once, then equi-joined against any number of probe arrays (a sort-merge
    join: every pair of equal keys, nothing else, in O((n + m) log n))."""

    def __init__(self, keys: np.ndarray) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]

    def join(self, probe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probe positions, key positions) of every equal pair."""
        lo = np.searchsorted(self.sorted, probe, side="left")
        n = np.searchsorted(self.sorted, probe, side="right") - lo
        total = int(n.sum())
        if total == 0:
            empty = np.array([], dtype=np.int64)
            return empty, empty
        probe_pos = np.repeat(np.arange(len(probe)), n)
        first = np.cumsum(n) - n
        offset = np.arange(total) - np.repeat(first, n)
        return probe_pos, self.order[np.repeat(lo, n) + offset]


def match(
    ops: pd.DataFrame,
    op_time: str,
    rows: pd.DataFrame,
    row_time: str,
    tolerance_s: int,
    row_rank: np.ndarray | None = None,
    ids_as_text: tuple[bool, bool] = (False, False),
) -> Matching:
    """Greedy one-to-one matching in :data:`rules.PRIORITY` order; ``row_rank`` is each row's origin rank
    (all equal when None, e.g. failure events standing in for rows). ``ids_as_text`` (operations, rows): order
    that side's ids by code point whatever these frames hold (a partition: the period's ids are not all whole
    numbers)."""
    n_ops, n_rows = len(ops), len(rows)
    cand = candidates(ops, op_time, rows, row_time, tolerance_s)
    o, r = cand["op"].to_numpy(), cand["row"].to_numpy()
    rank = row_rank if row_rank is not None else np.zeros(n_rows, dtype=np.int64)
    keys = {"origin": rank[r], "tier": cand["tier"].to_numpy(), "time_distance": cand["dt"].to_numpy()}
    order = _priority_order([keys[k] for k in PRIORITY[:3]], o, r, ops["id"], rows["id"], ids_as_text)
    o, r = o[order], r[order]
    row_candidate = np.full(n_rows, -1, dtype=np.int64)
    first = _first_position(r, n_rows)
    has = first < len(r)
    row_candidate[has] = o[first[has]]
    op_to_row, row_to_op = _greedy(o, r, n_ops, n_rows)
    return Matching(row_to_op=row_to_op, op_to_row=op_to_row, row_candidate=row_candidate)


def _priority_order(leading: list[np.ndarray], o: np.ndarray, r: np.ndarray, op_ids: pd.Series,
                    row_ids: pd.Series, ids_as_text: tuple[bool, bool] = (False, False)) -> np.ndarray:
    """Positions sorting the pairs in :data:`PRIORITY` order — by the leading keys, then operation id, then row
    id — as far as the greedy walk can tell: it only ever compares pairs that share an operation or a row.
    So ids are ranked only where that happens inside a run of pairs the leading keys tie (two operations at
    exactly the same distance from one row, say), not for ten million operations and rows: ranking that many
    distinct ids is the costly part, and such ties are rare. Pairs sharing nothing keep their relative order."""
    assert PRIORITY[3:] == ("operation_id", "row_id"), "the id tie-breaks come last"
    order, tie = _sorted_with_ties(leading)
    if not tie.any():
        return order
    grouped = np.zeros(len(order), dtype=bool)
    grouped[:-1] |= tie
    grouped[1:] |= tie
    at = np.flatnonzero(grouped)  # sorted positions inside runs of equal leading keys
    run = np.cumsum(np.concatenate(([True], ~tie)))[at]  # which run each belongs to (runs stay in order)
    members = order[at]
    o_at, r_at = o[members], r[members]
    # An operation's id decides only between pairs sharing a row in one run, a row's id only between pairs
    # sharing an operation: rank those; every other operation (row) gets a key of its own above every rank.
    share_row, share_op = _shared(run, r_at), _shared(run, o_at)
    # A run whose pairs share nothing may stand in any order (the walk never compares them): leave it be.
    # With millions of pairs, equal time distances are common, shared records within them rare.
    busy_runs = np.zeros(int(run[-1]) + 1, dtype=bool)
    busy_runs[run[share_row | share_op]] = True
    busy = busy_runs[run]
    if not busy.any():
        return order
    at, run, members, o_at, r_at = at[busy], run[busy], members[busy], o_at[busy], r_at[busy]
    op_key = _tie_keys(op_ids, o_at, share_row[busy], ids_as_text[0])
    row_key = _tie_keys(row_ids, r_at, share_op[busy], ids_as_text[1])
    order[at] = members[np.lexsort((row_key, op_key, run))]
    return order


def _sorted_with_ties(leading: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Positions stably sorting by the leading keys (first key first), and which neighbours in that order tie
    on all of them. Small non-negative keys (origin rank, tier, µs distance) are packed into one integer and
    sorted once, instead of ``lexsort``'s pass per key."""
    n = len(leading[0])
    if n < 2:
        return np.arange(n), np.zeros(0, dtype=bool)
    tops = [int(k.max()) + 1 for k in leading]
    if min(int(k.min()) for k in leading) >= 0 and fits(tops):
        key = packed(leading, tops)
        order = np.argsort(key, kind="stable")
        ranked = key[order]
        return order, ranked[1:] == ranked[:-1]
    order = np.lexsort(leading[::-1])  # lexsort sorts by its last key first
    sorted_keys = [k[order] for k in leading]
    return order, np.logical_and.reduce([k[1:] == k[:-1] for k in sorted_keys])


def _shared(run: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Which entries share their (run, member) with another entry."""
    key = packed([run, member], [int(run.max()) + 1, int(member.max()) + 1])
    sorted_key = np.sort(key)
    repeated_keys = sorted_key[1:][sorted_key[1:] == sorted_key[:-1]]
    return np.isin(key, repeated_keys) if len(repeated_keys) else np.zeros(len(key), dtype=bool)


def _tie_keys(ids: pd.Series, positions: np.ndarray, needs_rank: np.ndarray, as_text: bool = False) -> np.ndarray:
    """A key per entry, the same for the same record: the id's rank (as :func:`text_rank` orders the column)
    for records some entry needs ranked, ``len(ids)`` + position for the rest (distinct, above every rank)."""
    ranked = np.zeros(len(ids), dtype=bool)
    ranked[positions[needs_rank]] = True
    key = positions.astype(np.int64) + len(ids)
    pick = ranked[positions]
    if pick.any():
        key[pick] = text_rank_at(ids, positions[pick], as_text)
    return key


def _first_position(groups: np.ndarray, n: int) -> np.ndarray:
    """For each group 0..n-1, the first position where it occurs in ``groups`` (len(groups) if never).
    One unbuffered pass; sorting to find firsts would cost O(P log P) and thrash the cache at 10 M."""
    first = np.full(n, len(groups), dtype=np.int64)
    np.minimum.at(first, groups, np.arange(len(groups), dtype=np.int64))
    return first


def _greedy(o: np.ndarray, r: np.ndarray, n_ops: int, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs arrive in priority order. A pair first for both its operation and its row would be taken
    by the sequential greedy too; take all such pairs, drop the pairs they exclude, repeat."""
    op_to_row = np.full(n_ops, -1, dtype=np.int64)
    row_to_op = np.full(n_rows, -1, dtype=np.int64)
    while len(o):
        at = np.arange(len(o))
        dominant = (_first_position(o, n_ops)[o] == at) & (_first_position(r, n_rows)[r] == at)
        op_to_row[o[dominant]] = r[dominant]
        row_to_op[r[dominant]] = o[dominant]
        keep = (op_to_row[o] < 0) & (row_to_op[r] < 0)
        o, r = o[keep], r[keep]
    return op_to_row, row_to_op
