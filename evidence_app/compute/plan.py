"""Tenants → groups → partitions: the union-find over shared keys and the balanced, deterministic packing.

Pure functions over integer codes; nothing here reads a source. A candidate pair (rules clause 1) needs equal tenants
or an equal request id, and a failure event's replays share its failure id: so every tenant is joined with every
tenant it shares a request id (or failure id) with, and whole groups go to one partition. No candidate pair, link
or replay can then cross partitions, and the greedy one-to-one walk over the union of the partitions takes the pairs
it takes in each (it only ever compares pairs that share a record).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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

    @property
    def routed_by(self) -> str:
        return ROUTED_BY

    def partition_of(self) -> dict[str | None, int]:
        """Canonical tenant → its partition."""
        return {t: i for i, ts in enumerate(self.tenants) for t in ts}


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


def pack(count: int, group_rows: dict[int, int], group_sort_key: dict[int, str]) -> list[list[int]]:
    """Groups into ``count`` partitions balanced by rows: largest group first onto the lightest partition (ties: the
    group's sort key, then the lowest partition). Deterministic for the same groups and counts."""
    bins: list[list[int]] = [[] for _ in range(count)]
    load = [0] * count
    for g in sorted(group_rows, key=lambda g: (-group_rows[g], group_sort_key[g])):
        at = min(range(count), key=lambda i: (load[i], i))
        bins[at].append(g)
        load[at] += group_rows[g]
    return bins


def make_plan(count: int, tenants: list[str | None], labels: np.ndarray, tenant_rows: np.ndarray) -> PartitionPlan:
    """The plan for canonical ``tenants`` (by code), their group ``labels`` and records per tenant."""
    members: dict[int, list[int]] = {}
    for code, label in enumerate(labels.tolist()):
        members.setdefault(label, []).append(code)
    rows = {g: int(tenant_rows[m].sum()) for g, m in members.items()}
    key = {g: min(_sort_text(tenants[c]) for c in m) for g, m in members.items()}
    bins = pack(count, rows, key)
    per = [sorted((tenants[c] for g in b for c in members[g]), key=_sort_text) for b in bins]
    merged = [m for m in members.values() if len(m) > 1]
    return PartitionPlan(count=count, tenants=tuple(tuple(p) for p in per),
                         rows=tuple(sum(rows[g] for g in b) for b in bins), groups=len(members),
                         merged_groups=len(merged), tenants_in_merged_groups=sum(len(m) for m in merged))


def _sort_text(tenant: str | None) -> str:
    """A tenant's place in sorted order: the missing tenant first, then by code point."""
    return "" if tenant is None else "\x01" + tenant
