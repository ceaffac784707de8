"""Tenants → groups → partitions: the union-find over shared keys and the balanced, deterministic packing.

Pure functions over integer codes; nothing here reads a source. A candidate pair (rules clause 1) needs equal tenants
or an equal request id, and a failure event's replays share its failure id: so every tenant is joined with every
tenant it shares a request id (or failure id) with, and whole groups go to one partition. No candidate pair, link
or replay can then cross partitions, and the greedy one-to-one walk over the union of the partitions takes the pairs
it takes in each (it only ever compares pairs that share a record). A group holding more records than one
partition's share is cut finer: its tenants are split into pieces by a hash of the canonical target (a key match
needs equal targets, evidence_app.ingest.pieces), the pieces joined again wherever a request id joins them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evidence_app.ingest.pieces import Pieces

ROUTED_BY = "tenant, with every tenant sharing a request id or failure id with it"
"""How records are routed, in words (the pack's methodology)."""


@dataclass(frozen=True)
class PartitionPlan:
    """How the period's records were split: what the pack's methodology states."""

    count: int
    """Partitions asked for (``[compute] partitions``); some may be empty when there are fewer groups."""
    tenants: tuple[tuple[str | None, ...], ...]
    """Canonical tenants of each partition (None: the records without a tenant), sorted."""
    rows: tuple[int, ...]
    """Records routed to each partition by the pre-pass (operations, audit rows and failure events)."""
    groups: int
    """Tenant groups: tenants joined by shared request ids (or failure ids) form one group."""
    merged_groups: int
    """Groups of more than one tenant (cross-tenant request ids kept together)."""
    tenants_in_merged_groups: int
    """Tenants that share a request id (or failure id) with another tenant."""
    pieces: tuple[Pieces, ...] = ()
    """Per partition, the pieces of split tenants it holds (empty: no tenant was split)."""
    split_tenants: int = 0
    """Tenants split by target into pieces (their group held more records than one partition's share)."""

    @property
    def routed_by(self) -> str:
        return ROUTED_BY

    def partition_of(self) -> dict[str | None, int]:
        """Canonical tenant → its partition (a split tenant's pieces: :meth:`partition_of_piece`)."""
        split = {t for ps in self.pieces for t, _ in ps}
        return {t: i for i, ts in enumerate(self.tenants) for t in ts if t not in split}

    def partition_of_piece(self) -> dict[tuple[str | None, int], int]:
        """(split tenant, piece) → its partition."""
        return {(t, b): i for i, ps in enumerate(self.pieces) for t, bs in ps for b in bs}


def tenant_groups(n_tenants: int, tenant_codes: np.ndarray, key_hi: np.ndarray,
                  key_lo: np.ndarray | None = None) -> np.ndarray:
    """Each tenant's group label (the smallest tenant code of its group): tenants whose records share a key (a
    request id or failure id, given as a hash ``key_hi``, or as a 128-bit one ``key_hi``/``key_lo``) are one
    group. Records without a key are not passed. Equal hashes of different keys only join more tenants: coarser
    groups, never a pair split."""
    labels = np.arange(n_tenants, dtype=np.int64)
    a, b = _edges(np.asarray(tenant_codes), key_hi, key_lo)
    while len(a):
        low = np.minimum(labels[a], labels[b])
        before = labels.copy()
        np.minimum.at(labels, a, low)
        np.minimum.at(labels, b, low)
        labels = labels[labels]  # pointer jumping: a label's own label is at most it
        if np.array_equal(labels, before):
            break
    while not np.array_equal(labels, labels[labels]):
        labels = labels[labels]
    return labels


def _edges(tenants: np.ndarray, hi: np.ndarray, lo: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(tenant, tenant) pairs joining each record's tenant to the first tenant of its key (only the pairs of two
    different tenants: at most one per record, usually none)."""
    if not len(tenants):
        empty = np.array([], dtype=np.int64)
        return empty, empty
    order = np.argsort(hi) if lo is None else np.lexsort((lo, hi))  # any order of equal keys gives the same groups
    ordered = hi[order]
    starts = np.empty(len(ordered), dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    if lo is not None:
        ordered = lo[order]
        starts[1:] |= ordered[1:] != ordered[:-1]
    del ordered
    t = tenants[order]
    del order
    at = np.flatnonzero(starts)
    first = np.repeat(t[at], np.diff(at, append=len(t)))  # each record's key's first tenant
    del at, starts
    cross = np.flatnonzero(t != first)
    return t[cross].astype(np.int64), first[cross].astype(np.int64)


def pack(count: int, group_rows: dict[int, int], group_sort_key: dict[int, object],
         in_turn: frozenset[int] = frozenset()) -> list[list[int]]:
    """Groups into ``count`` partitions balanced by rows: largest group first onto the lightest partition (ties: the
    group's sort key, then the lowest partition). Deterministic for the same groups and counts.

    The ``in_turn`` groups (the pieces of split tenants) go first, in sort-key order, each partition filled up to one
    partition's share before the next is begun: a split tenant's pieces then lie in as few partitions as its size
    needs, and each of those reads the tenant's rows once."""
    bins: list[list[int]] = [[] for _ in range(count)]
    load = [0] * count
    share = -(-sum(group_rows.values()) // count)
    at = 0
    for g in sorted(in_turn, key=lambda g: group_sort_key[g]):
        if load[at] and load[at] + group_rows[g] > share and at < count - 1:
            at += 1
        bins[at].append(g)
        load[at] += group_rows[g]
    for g in sorted(set(group_rows) - in_turn, key=lambda g: (-group_rows[g], group_sort_key[g])):
        at = min(range(count), key=lambda i: (load[i], i))
        bins[at].append(g)
        load[at] += group_rows[g]
    return bins


def make_plan(count: int, tenants: list[str | None], labels: np.ndarray, node_rows: np.ndarray,
              split: np.ndarray | None = None, buckets: int = 1) -> PartitionPlan:
    """The plan for canonical ``tenants`` (by code), their nodes' group ``labels`` and records per node. A node is
    a tenant (code ``t``: node ``t * buckets``) or, for a tenant ``split`` into pieces, each of its pieces (node
    ``t * buckets + piece``): labels and rows are over those node numbers."""
    split = np.zeros(len(tenants), dtype=bool) if split is None else split
    members: dict[int, list[int]] = {}
    for t in range(len(tenants)):
        for node in (range(t * buckets, (t + 1) * buckets) if split[t] else (t * buckets,)):
            members.setdefault(int(labels[node]), []).append(node)
    rows = {g: int(node_rows[m].sum()) for g, m in members.items()}
    key = {g: min((_sort_text(tenants[n // buckets]), n % buckets) for n in m) for g, m in members.items()}
    bins = pack(count, rows, key, frozenset(g for g, m in members.items() if any(split[n // buckets] for n in m)))
    per, pieces = [], []
    for b in bins:
        nodes = [n for g in b for n in members[g]]
        per.append(tuple(sorted({tenants[n // buckets] for n in nodes}, key=_sort_text)))
        held: dict[int, list[int]] = {}
        for n in nodes:
            if split[n // buckets]:
                held.setdefault(n // buckets, []).append(n % buckets)
        pieces.append(tuple(sorted(((tenants[t], tuple(sorted(bs))) for t, bs in held.items()),
                                   key=lambda p: _sort_text(p[0]))))
    merged = [{n // buckets for n in m} for m in members.values()]
    merged = [m for m in merged if len(m) > 1]
    return PartitionPlan(count=count, tenants=tuple(per),
                         rows=tuple(sum(rows[g] for g in b) for b in bins), groups=len(members),
                         merged_groups=len(merged), tenants_in_merged_groups=len(set().union(*merged)),
                         pieces=tuple(pieces) if split.any() else (), split_tenants=int(split.sum()))


def _sort_text(tenant: str | None) -> str:
    """A tenant's place in sorted order: the missing tenant first, then by code point."""
    return "" if tenant is None else "\x01" + tenant
