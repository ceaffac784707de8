"""The routing pre-pass: a narrow, recorded read of (id, tenant, request id, time) from both stores for the period,
the union-find over shared request ids, and one :class:`PartitionSpec` per partition.

Read-only and bounded like every extraction: the same window as the full read (and the same request-id top-up
beyond it), only the columns routing needs, each chunk reduced to integer codes and 128-bit hashes as it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evidence_app.columns.order import micros, micros_at
from evidence_app.columns.text import as_text, blank_text, compact_text
from evidence_app.compute.partition import PartitionSpec
from evidence_app.compute.plan import PartitionPlan, make_plan, tenant_groups
from evidence_app.config.settings import Config
from evidence_app.ingest.canonical import parse_timestamps
from evidence_app.ingest.dataset import open_stores, read_window
from evidence_app.ingest.extraction import QueryRecord
from evidence_app.ingest.logpush import LogScan, scan_logs
from evidence_app.ingest.sources import Store, TenantFilter, Window, select_frame, select_outside
from evidence_app.ingest.storelist import unit_parts
from evidence_app.reconcile import Period

_KEYS = ("evidence-app:k1:", "evidence-app:k2:")
"""Two hash keys: a request id (or id) is known by two independent 64-bit hashes, 128 bits in all."""
_FAILURE_KEYS = ("evidence-app:f1:", "evidence-app:f2:")
ROUTING_COLUMNS = ("id", "restaurant_id", "request_id")
"""What the pre-pass reads besides the time column."""


@dataclass(frozen=True)
class StoreKeys:
    """One store's window, reduced: per record its tenant node, request-id and id hashes, and where it lies."""

    tenant: np.ndarray
    rid_hi: np.ndarray
    rid_lo: np.ndarray
    has_rid: np.ndarray
    id_hi: np.ndarray
    id_lo: np.ndarray
    in_period: np.ndarray
    in_window: np.ndarray
    member: np.ndarray | None = None
    """A list of stores (``[[audit.stores]]``): the entry each record was read from; None: one store."""


@dataclass(frozen=True)
class Routing:
    """The pre-pass's outcome: the plan, one spec per partition, and what the merge needs of the whole period."""

    plan: PartitionPlan
    specs: tuple[PartitionSpec, ...]
    logs: LogScan
    """The Worker logs, read once here for every partition."""
    duplicate_ids: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per store (``operations``, ``audit``): every id read more than once in the window, across all partitions."""
    queries: tuple[QueryRecord, ...] = ()
    """The pre-pass's own SELECTs, as sent."""


class _Tenants:
    """Canonical tenants as graph nodes, and every raw value each store holds for each (for the SQL filters)."""

    def __init__(self) -> None:
        self.node: dict[str | None, int] = {}
        self.names: list[str | None] = []
        self.raw: dict[str, dict[int, set]] = {"operations": {}, "audit": {}}

    def code(self, canonical: str | None) -> int:
        if canonical not in self.node:
            self.node[canonical] = len(self.names)
            self.names.append(canonical)
        return self.node[canonical]

    def codes_of_raw(self, store: str, raw: pd.Series) -> np.ndarray:
        """Each raw tenant's node (the raw values seen are kept per store)."""
        values = raw.astype(object) if isinstance(raw.dtype, pd.CategoricalDtype) else raw
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        names = compact_text(pd.Series(list(uniques), dtype=object))
        nodes = np.array([self.code(None if pd.isna(n) else str(n)) for n in _listed(names)] + [self.code(None)],
                         dtype=np.int64)
        for value, node in zip(list(uniques), nodes[:-1].tolist()):
            self.raw[store].setdefault(node, set()).add(_plain(value))
        if (codes < 0).any():
            self.raw[store].setdefault(nodes[-1], set()).add(None)
        return nodes[codes]


def _listed(values: pd.Series) -> list:
    """Values as Python objects, missing as None."""
    return [None if pd.isna(v) else v for v in values.astype(object).tolist()]


def _plain(value: object) -> object:
    """A driver-bindable Python value (numpy scalars become Python ones)."""
    return value.item() if isinstance(value, np.generic) else value


def _hashes(text: pd.Series, keys: tuple[str, str] = _KEYS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hi, lo, present): the 128-bit hash of each canonical text value; missing (NULL, or blank) is no value."""
    present = ~blank_text(text) if len(text) else np.zeros(0, dtype=bool)
    values = text.astype(object).to_numpy()
    values = np.where(present, values, "")
    return (pd.util.hash_array(values, hash_key=keys[0]), pd.util.hash_array(values, hash_key=keys[1]), present)


def _reduce(tenants: _Tenants, store: str, time_field: str, period: Period, window: Window | None):  # noqa: ANN202
    """The chunk reducer: raw columns → tenant nodes, hashes and time flags (the raw chunk is dropped)."""
    lo = micros_at(window.start) if window is not None else None
    hi = micros_at(window.end) if window is not None else None

    def keep(chunk: pd.DataFrame) -> pd.DataFrame:
        t = parse_timestamps(chunk[time_field])
        rid = as_text(chunk["request_id"]) if "request_id" in chunk else pd.Series([None] * len(chunk), dtype=object)
        r_hi, r_lo, has = _hashes(rid)
        ids = as_text(chunk["id"])
        i_hi, i_lo, _ = _hashes(ids.fillna("\x00<null>"))
        us = micros(t)
        known = t.notna().to_numpy()
        in_window = known & (True if lo is None else us >= lo) & (True if hi is None else us < hi)
        return pd.DataFrame({"tenant": tenants.codes_of_raw(store, chunk["restaurant_id"]), "rid_hi": r_hi,
                             "rid_lo": r_lo, "has_rid": has, "id_hi": i_hi, "id_lo": i_lo,
                             "id_null": ids.isna().to_numpy(),
                             "in_period": period.contains(t).to_numpy(), "in_window": in_window})
    return keep


def route(config: Config, period: Period, partitions: int, stores: tuple[Store, Store] | None = None) -> Routing:
    """Read the routing keys of the period from both stores and the logs, group tenants, pack the groups into
    ``partitions`` and describe each partition as a :class:`PartitionSpec`."""
    opened = stores is None
    ops_store, audit_store = stores or open_stores(config)
    try:
        return _route(config, period, partitions, ops_store, audit_store)
    finally:
        if opened:
            ops_store.engine.dispose()
            audit_store.engine.dispose()


def _route(config: Config, period: Period, partitions: int, ops_store: Store, audit_store: Store) -> Routing:
    window = read_window(config, period)
    logs = scan_logs(config.log_paths, config.matching, None, config.worker_logs)
    tenants, queries = _Tenants(), []
    ops = _read_keys(ops_store, "occurred_at", period, window, tenants, queries)
    audit = _read_keys(audit_store, "created_at", period, window, tenants, queries)
    extra = _top_up_keys(ops_store, audit_store, ops, audit, period, window, tenants, queries)
    failures = logs.failures
    f_tenant = np.array([tenants.code(t) for t in _listed(failures["tenant"])], dtype=np.int64)
    f_hi, f_lo, f_has = _hashes(as_text(failures["request_id"]))
    parts = [(k.tenant[k.has_rid], k.rid_hi[k.has_rid], k.rid_lo[k.has_rid]) for k in (ops, audit, *extra.values())]
    parts.append((f_tenant[f_has], f_hi[f_has], f_lo[f_has]))
    parts += unit_parts((ops_store, audit_store), {ops_store.key: ops, audit_store.key: audit}, tenants.code,
                        tenants.raw)  # each entry of a list of stores: one unit, read by one partition
    labels = tenant_groups(len(tenants.names), *(np.concatenate(c) for c in zip(*parts)))
    rows = np.bincount(np.concatenate([ops.tenant, audit.tenant, f_tenant]), minlength=len(tenants.names))
    plan = make_plan(partitions, tenants.names, labels, rows)
    beyond = {key: set(np.unique(k.tenant).tolist()) for key, k in extra.items()}
    specs = _specs(config, period, plan, tenants, logs, beyond)
    dups = {"operations": _duplicates(ops_store, "occurred_at", window, ops, queries),
            "audit": _duplicates(audit_store, "created_at", window, audit, queries)}
    return Routing(plan=plan, specs=specs, logs=logs, duplicate_ids=dups, queries=tuple(queries))


def _read_keys(store: Store, time_field: str, period: Period, window: Window | None, tenants: _Tenants,
               queries: list[QueryRecord]) -> StoreKeys:
    """The window's routing keys from one store: a narrow SELECT, each chunk reduced as it arrives."""
    reduce = _reduce(tenants, store.key, time_field, period, window)
    frame = select_frame(store, time_field, window, None, queries.append, frozenset({"restaurant_id"}),
                         columns=(*ROUTING_COLUMNS, time_field), reduce=reduce)
    return _keys(frame)


def _keys(frame: pd.DataFrame) -> StoreKeys:
    """The reduced chunks as arrays (a NULL id gets the hash pair (0, 0): no value, never a duplicate)."""
    if "tenant" not in frame:  # nothing came back: the reducer never ran
        e64, eb, eu = np.array([], dtype=np.int64), np.array([], dtype=bool), np.array([], dtype=np.uint64)
        return StoreKeys(e64, eu, eu, eb, eu, eu, eb, eb)
    f = {c: frame[c].to_numpy() for c in frame.columns}
    zero = np.uint64(0)
    return StoreKeys(f["tenant"].astype(np.int64), f["rid_hi"], f["rid_lo"], f["has_rid"].astype(bool),
                     np.where(f["id_null"], zero, f["id_hi"]), np.where(f["id_null"], zero, f["id_lo"]),
                     f["in_period"].astype(bool), f["in_window"].astype(bool),
                     f["member"].astype(np.int64) if "member" in f else None)


def _top_up_keys(ops_store: Store, audit_store: Store, ops: StoreKeys, audit: StoreKeys, period: Period,
                 window: Window | None, tenants: _Tenants, queries: list[QueryRecord]) -> dict[str, StoreKeys]:
    """The keys of the rows the full read fetches beyond the window by request id (dataset._request_id_top_up):
    an in-period request id the other side's window lacks. By store key."""
    if window is None:
        return {}
    found = {}
    for want_from, other, store, field in ((ops, audit, audit_store, "created_at"),
                                          (audit, ops, ops_store, "occurred_at")):
        wanted = _absent(want_from, other)
        if len(wanted) and "request_id" in store.present:
            found[store.key] = _outside_keys(store, field, window, wanted, tenants, queries)
    return found



def _absent(want_from: StoreKeys, other: StoreKeys) -> set[tuple[int, int]]:
    """Request ids (as hash pairs) of in-period records of one side that the other side's window lacks."""
    w = want_from.in_period & want_from.has_rid
    have = set(zip(other.rid_hi[other.has_rid & other.in_window].tolist(),
                   other.rid_lo[other.has_rid & other.in_window].tolist()))
    return {p for p in zip(want_from.rid_hi[w].tolist(), want_from.rid_lo[w].tolist()) if p not in have}


def _outside_keys(store: Store, time_field: str, window: Window, wanted: set[tuple[int, int]], tenants: _Tenants,
                  queries: list[QueryRecord]) -> StoreKeys:
    """Routing keys of the rows beyond the window carrying a wanted request id."""
    def hit(chunk: pd.DataFrame) -> pd.Series:
        hi, lo, has = _hashes(as_text(chunk["request_id"]))
        return pd.Series([h and (a, b) in wanted for a, b, h in zip(hi.tolist(), lo.tolist(), has.tolist())],
                         index=chunk.index, dtype=bool)
    raw = select_outside(store, time_field, window, "request_id", sorted(wanted), queries.append,
                         columns=(*ROUTING_COLUMNS, time_field), keep=hit)
    if raw.empty:
        return _keys(pd.DataFrame())
    return _keys(_reduce(tenants, store.key, time_field, Period(), None)(raw))


def _duplicates(store: Store, time_field: str, window: Window | None, keys: StoreKeys,
                queries: list[QueryRecord]) -> tuple[str, ...]:
    """Every id read more than once in the window, across all tenants (a check no partition can make alone): the
    repeated hashes found here, their ids read back by one more narrow SELECT only when there are any."""
    nonnull = (keys.id_hi != 0) | (keys.id_lo != 0)
    pairs = pd.DataFrame({"hi": keys.id_hi[nonnull], "lo": keys.id_lo[nonnull]})
    repeated = pairs[pairs.duplicated(keep=False)].drop_duplicates()
    if repeated.empty:
        return ()
    wanted = set(zip(repeated["hi"].tolist(), repeated["lo"].tolist()))

    def only_repeated(chunk: pd.DataFrame) -> pd.DataFrame:
        ids = as_text(chunk["id"])
        hi, lo, _ = _hashes(ids.fillna("\x00<null>"))
        keep = np.array([(a, b) in wanted for a, b in zip(hi.tolist(), lo.tolist())], dtype=bool)
        keep &= ids.notna().to_numpy()
        return pd.DataFrame({"id": ids[keep].reset_index(drop=True)})
    frame = select_frame(store, time_field, window, None, queries.append, columns=("id", time_field),
                         reduce=only_repeated)
    if frame.empty or "id" not in frame:
        return ()
    counts = frame["id"].value_counts()
    return tuple(sorted(counts[counts > 1].index.tolist()))


def _specs(config: Config, period: Period, plan: PartitionPlan, tenants: _Tenants, logs: LogScan,
           beyond: dict[str, set[int]]) -> tuple[PartitionSpec, ...]:
    """One spec per partition: its tenants as each store holds them, its failure events and their replays, and
    which store's request-id top-up can find its rows (``beyond``: store → tenants with rows beyond the window
    carrying a wanted request id; a partition with none would send a SELECT that returns nothing of its own)."""
    at = plan.partition_of()
    failures = logs.failures
    f_part = np.array([at.get(t, -1) for t in _listed(failures["tenant"])], dtype=np.int64)
    specs = []
    for i, names in enumerate(plan.tenants):
        nodes = [tenants.node[t] for t in names]
        mine = failures[f_part == i].reset_index(drop=True)
        ids = set(mine["failure_id"].dropna().tolist())
        replays = logs.replays[logs.replays["failure_id"].isin(ids)].reset_index(drop=True)
        specs.append(PartitionSpec(index=i, count=plan.count, config_path=str(config.path), period=period,
                                   operations=_filter(tenants.raw["operations"], nodes),
                                   audit=_filter(tenants.raw["audit"], nodes), tenants=names,
                                   failures=mine, replays=replays, config=config,
                                   top_up=tuple(bool(beyond.get(k, set()) & set(nodes))
                                                for k in ("operations", "audit"))))
    return tuple(specs)


def _filter(raw: dict[int, set], nodes: list[int]) -> TenantFilter:
    """The raw values of ``nodes`` one store holds: sorted (by type, then value) so the SQL is deterministic."""
    values = {v for n in nodes for v in raw.get(n, ())}
    null = None in values
    values.discard(None)
    return TenantFilter(tuple(sorted(values, key=lambda v: (type(v).__name__, v))), null)
