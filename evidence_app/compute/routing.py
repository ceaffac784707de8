"""The routing pre-pass: a narrow, recorded read of (id, tenant, request id, time) from both stores for the period,
the union-find over shared request ids, and one :class:`PartitionSpec` per partition.

Read-only and bounded like every extraction: the same window as the full read (and a request-id top-up beyond
it that finds at least the rows the full read's does), only the columns routing needs, each chunk reduced as it
arrives to 32-bit tenant codes and 64-bit hashes of the records carrying a request id, and 64-bit id hashes;
nothing per record outlives the routing (the :class:`Routing` holds plain per-partition data).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evidence_app.columns.memory import release_freed
from evidence_app.columns.order import TextIds, micros, micros_at, whole_each, whole_numbers
from evidence_app.columns.text import as_text, blank_text, compact_text
from evidence_app.compute.partition import PartitionSpec
from evidence_app.compute.plan import PartitionPlan, make_plan, tenant_groups
from evidence_app.config.settings import Config
from evidence_app.ingest.canonical import parse_timestamps
from evidence_app.ingest.dataset import open_stores, read_window
from evidence_app.ingest.extraction import QueryRecord
from evidence_app.ingest.logpush import LogScan, scan_logs
from evidence_app.ingest.pieces import BUCKETS, Pieces, target_buckets
from evidence_app.ingest.sources import Store, TenantFilter, Window, select_frame, select_outside
from evidence_app.ingest.storelist import unit_parts
from evidence_app.reconcile import Period

_KEY = "evidence-app:k1:"
"""The hash key of the request-id and id hashes (64 bits each; see :func:`_hash64` for why that is enough)."""
ROUTING_COLUMNS = ("id", "restaurant_id", "request_id", "target")
"""What the pre-pass reads besides the time column (the target for the pieces of a split tenant)."""
SPLIT_MIN_ROWS = 100_000
"""A group is split into pieces only when it holds more records than one partition's share and at least this many
(below it, a partition's memory is small whatever the balance)."""


@dataclass(frozen=True)
class StoreKeys:
    """One store's read, reduced to what routing needs: per record carrying a request id, its tenant node, the
    request id's hash and whether it lies in the period; per tenant node, the records read; and the id hashes
    read more than once (candidates, the read-back checks them)."""

    tenant: np.ndarray
    """int32 tenant nodes of the records with a request id."""
    rid: np.ndarray
    """uint64 hashes of their request ids."""
    in_period: np.ndarray
    """Whether each of them lies in the period."""
    rows: np.ndarray
    """Records read per tenant node (nodes met after this read are not counted: 0)."""
    repeated_ids: np.ndarray
    """Sorted distinct uint64 id hashes met more than once (NULL ids are not hashed)."""
    bucket: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    """The piece (evidence_app.ingest.pieces) of each record with a request id, by its canonical target."""
    piece_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Records read per (tenant node × BUCKETS + piece)."""
    whole_ids: bool = True
    """Whether every id the single pass would load from this read is a whole number (none missing)."""
    odd_rids: tuple[str, ...] = ()
    """A read beyond the window: the request ids of its rows whose id is not a whole number (see
    :func:`_text_ids`)."""
    members: dict[int, np.ndarray] | None = None
    """A list of stores (``[[audit.stores]]``): per entry, the tenant nodes found in its rows; None: one store."""


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
    text_ids: TextIds = TextIds()
    """Which sides' ids the single pass orders by code point (decided over the whole period, for every partition)."""


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
        """Each raw tenant's node, int32 (the raw values seen are kept per store)."""
        values = raw.astype(object) if isinstance(raw.dtype, pd.CategoricalDtype) else raw
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        names = compact_text(pd.Series(list(uniques), dtype=object))
        nodes = np.array([self.code(None if pd.isna(n) else str(n)) for n in _listed(names)] + [self.code(None)],
                         dtype=np.int32)
        for value, node in zip(list(uniques), nodes[:-1].tolist()):
            self.raw[store].setdefault(node, set()).add(_plain(value))
        if (codes < 0).any():
            self.raw[store].setdefault(int(nodes[-1]), set()).add(None)
        return nodes[codes]


def _listed(values: pd.Series) -> list:
    """Values as Python objects, missing as None."""
    return [None if pd.isna(v) else v for v in values.astype(object).tolist()]


def _plain(value: object) -> object:
    """A driver-bindable Python value (numpy scalars become Python ones)."""
    return value.item() if isinstance(value, np.generic) else value


def _hash64(text: pd.Series, blank_is_missing: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(hash, present): a 64-bit hash of each canonical text value, 0 where there is none (NULL; blank too, unless
    ``blank_is_missing`` is False). 64 bits suffice because no decision rests on two hashes being different
    values: equal request-id hashes only join tenants into one group (a collision makes the partitions coarser,
    never wrong), the top-up beyond the window never trusts a hash to say a request id is present
    (:func:`_wanted`), and an id hash seen twice is only a candidate that the read-back checks on the ids."""
    if not len(text):
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool)
    present = ~blank_text(text) if blank_is_missing else text.notna().to_numpy()
    values = text.astype(object).to_numpy()
    hashes = np.zeros(len(values), dtype=np.uint64)
    hashes[present] = pd.util.hash_array(values[present], hash_key=_KEY, categorize=False)
    return hashes, present


def _reducer(tenants: _Tenants, store: str, time_field: str, period: Period, kept: dict[int, tuple],
             window: Window | None = None, beyond: bool = False):  # noqa: ANN202
    """The chunk reducer: raw columns → tenant nodes, hashes and counts, kept in ``kept`` under a serial number
    that the returned one-row frame names (the raw chunk is dropped; see :func:`_gathered`). ``window``/``beyond``:
    which rows the single pass would load of this read (inside the window, or a top-up's beyond it), whose ids
    decide how ties are broken."""
    def keep(chunk: pd.DataFrame) -> pd.DataFrame:
        nodes = tenants.codes_of_raw(store, chunk["restaurant_id"])
        rid = as_text(chunk["request_id"]) if "request_id" in chunk else pd.Series([None] * len(chunk), dtype=object)
        r_hash, has = _hash64(rid)
        ids = as_text(chunk["id"])
        i_hash, i_has = _hash64(ids, blank_is_missing=False)
        parsed = parse_timestamps(chunk[time_field])
        in_period = period.contains(parsed).to_numpy()
        loaded = _loaded(parsed, window, beyond)
        whole = whole_numbers(ids[loaded])
        odd = () if whole or not beyond else tuple(rid[loaded & ~whole_each(ids)].dropna().tolist())
        bucket = target_buckets(chunk["target"])
        pieces, counts = np.unique(nodes.astype(np.int64) * BUCKETS + bucket, return_counts=True)
        serial = len(kept)
        kept[serial] = (nodes[has], r_hash[has], in_period[has], np.bincount(nodes), i_hash[i_has], bucket[has],
                        (pieces, counts), whole, odd)
        return pd.DataFrame({"chunk": [serial]})
    return keep


def _gathered(kept: dict[int, tuple], frame: pd.DataFrame) -> StoreKeys:
    """The pieces the returned frame names, in its order, as one :class:`StoreKeys` (a read the native reader
    abandoned half-way for the Python path left pieces no frame names: they are not used). Each field's pieces
    are given up as soon as they are joined."""
    serials = frame["chunk"].tolist() if "chunk" in frame else []
    members = _members(frame, serials, kept) if "member" in frame else None
    pieces = [kept.pop(s) for s in serials]
    kept.clear()
    columns = [list(c) for c in zip(*pieces)] if pieces else [[] for _ in range(9)]
    del pieces
    tenant, rid, in_period = (_joined(columns[j], kind) for j, kind in enumerate((np.int32, np.uint64, bool)))
    bucket = _joined(columns[5], np.uint8)
    rows = np.zeros(max((len(c) for c in columns[3]), default=0), dtype=np.int64)
    for c in columns[3]:
        rows[:len(c)] += c
    piece_rows = np.zeros(len(rows) * BUCKETS, dtype=np.int64)
    for at, counts in columns[6]:
        piece_rows[at] += counts  # distinct within a chunk: no index repeats
    repeated = _repeated(_joined(columns[4], np.uint64))
    whole, odd = all(columns[7]), tuple(r for c in columns[8] for r in c)
    columns.clear()
    release_freed()  # the chunks' pages go back now: the next read grows from what is live
    return StoreKeys(tenant=tenant, rid=rid, in_period=in_period, rows=rows, repeated_ids=repeated, bucket=bucket,
                     piece_rows=piece_rows, whole_ids=whole, odd_rids=odd, members=members)


def _members(frame: pd.DataFrame, serials: list[int], kept: dict[int, tuple]) -> dict[int, np.ndarray]:
    """A list of stores: per entry (the ``member`` a list's read names each chunk with), the tenant nodes its chunks
    hold (from each chunk's per-node counts)."""
    found: dict[int, set[int]] = {}
    for serial, member in zip(serials, frame["member"].tolist()):
        found.setdefault(int(member), set()).update(np.flatnonzero(kept[serial][3]).tolist())
    return {m: np.array(sorted(nodes), dtype=np.int32) for m, nodes in found.items()}


def _joined(pieces: list[np.ndarray], dtype: type) -> np.ndarray:
    """The pieces end to end, each given up once copied and their pages handed back as it goes: the whole never
    exists twice."""
    out = np.empty(sum(len(p) for p in pieces), dtype=dtype)
    end = len(out)
    while pieces:
        piece = pieces.pop()
        out[end - len(piece):end] = piece
        end -= len(piece)
        del piece
        if len(pieces) % 32 == 0:
            release_freed()
    return out


def _repeated(hashes: np.ndarray) -> np.ndarray:
    """Sorted distinct values met more than once (``hashes`` is sorted in place: it is the caller's to give up)."""
    hashes.sort()
    return _distinct(hashes[1:][hashes[1:] == hashes[:-1]])


def _distinct(ordered: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array (``np.unique`` hashes first: several times slower on 64-bit keys)."""
    if not len(ordered):
        return ordered
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``sorted_set`` (sorted, distinct): one binary search each, no Python object."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


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
        release_freed()  # the partitions start from what the routing keeps, not from its peak


def _route(config: Config, period: Period, partitions: int, ops_store: Store, audit_store: Store) -> Routing:
    window = read_window(config, period)
    logs = scan_logs(config.log_paths, config.matching, None, config.worker_logs)
    tenants, queries = _Tenants(), []
    ops = _read_keys(ops_store, "occurred_at", period, window, tenants, queries)
    audit = _read_keys(audit_store, "created_at", period, window, tenants, queries)
    extra = _top_up_keys(ops_store, audit_store, ops, audit, window, tenants, queries)
    failures = logs.failures
    text_ids = TextIds(
        operations=_text_ids(ops, extra.get(ops_store.key), ops_store, audit_store, "occurred_at", "created_at",
                             period, window, queries),
        audit=_text_ids(audit, extra.get(audit_store.key), audit_store, ops_store, "created_at", "occurred_at",
                        period, window, queries),
        failures=bool(len(failures)) and not whole_numbers(failures["failure_id"]))
    f_tenant = np.array([tenants.code(t) for t in _listed(failures["tenant"])], dtype=np.int32)
    f_rid, f_has = _hash64(as_text(failures["request_id"]))
    # Each entry of a list of stores is one unit, read by one partition: its tenants joined as a shared request
    # id joins them (before ``n``: an entry may name a tenant no record carries).
    units = unit_parts((ops_store, audit_store), {ops_store.key: ops, audit_store.key: audit}, tenants.code,
                       tenants.raw)
    n = len(tenants.names)
    rows = _padded(ops.rows, n) + _padded(audit.rows, n) + np.bincount(f_tenant, minlength=n)
    f_bucket = target_buckets(failures["target"]) if len(failures) else np.zeros(0, dtype=np.uint8)
    piece_rows = (_padded(ops.piece_rows, n * BUCKETS) + _padded(audit.piece_rows, n * BUCKETS)
                  + np.bincount(f_tenant.astype(np.int64) * BUCKETS + f_bucket, minlength=n * BUCKETS))
    beyond = {key: set(np.unique(k.tenant).tolist()) for key, k in extra.items()}
    repeated = {"operations": ops.repeated_ids, "audit": audit.repeated_ids}
    keyed = [ops, audit, *extra.values()]
    del ops, audit, extra  # the per-record arrays live on only in the union's inputs, and go with them
    codes = np.concatenate([*(k.tenant for k in keyed), f_tenant[f_has], *(u[0] for u in units)])
    rids = np.concatenate([*(k.rid for k in keyed), f_rid[f_has], *(u[1] for u in units)])
    buckets = np.concatenate([*(k.bucket for k in keyed), f_bucket[f_has],
                              *(np.zeros(len(u[0]), dtype=np.uint8) for u in units)])
    keyed.clear()
    labels = tenant_groups(n, codes, rids)
    split = None if units else _to_split(labels, rows, partitions)
    if split is not None:
        # Heavy groups cut finer: each of their tenants' pieces is a node, joined again by shared request ids.
        nodes = codes.astype(np.int64) * BUCKETS + np.where(split[codes], buckets, 0)
        del codes, buckets
        labels = tenant_groups(n * BUCKETS, nodes, rids)
        del nodes, rids
        release_freed()
        node_rows = piece_rows.reshape(n, BUCKETS).copy()
        node_rows[~split] = 0
        node_rows[~split, 0] = rows[~split]
        plan = make_plan(partitions, tenants.names, labels, node_rows.ravel(), split, BUCKETS)
    else:
        del codes, rids, buckets
        release_freed()
        plan = make_plan(partitions, tenants.names, labels, rows)
    specs = _specs(config, period, plan, tenants, logs, beyond, f_bucket, text_ids)
    dups = {"operations": _duplicates(ops_store, "occurred_at", window, repeated["operations"], queries),
            "audit": _duplicates(audit_store, "created_at", window, repeated["audit"], queries)}
    return Routing(plan=plan, specs=specs, logs=logs, duplicate_ids=dups, queries=tuple(queries), text_ids=text_ids)


def _to_split(labels: np.ndarray, rows: np.ndarray, partitions: int) -> np.ndarray | None:
    """Per tenant, whether its group holds more records than one partition's share (and at least
    :data:`SPLIT_MIN_ROWS`): those are split into pieces by target. None when no tenant is."""
    if partitions <= 1 or not len(rows):
        return None
    share = -(-int(rows.sum()) // partitions)
    group_rows = np.bincount(labels, weights=rows, minlength=len(rows))
    heavy = (group_rows > share) & (group_rows >= SPLIT_MIN_ROWS)
    split = heavy[labels]
    return split if split.any() else None


def _loaded(parsed: pd.Series, window: Window | None, beyond: bool) -> np.ndarray:
    """The rows of a chunk the single pass's frame holds: a parsed time inside the window (dataset._trim), or for a
    read beyond it, outside (dataset._outside); without a window, every parsed time."""
    valid = parsed.notna().to_numpy()
    if window is None:
        return valid
    t = micros(parsed)
    inside = valid & (t >= micros_at(window.start)) & (t < micros_at(window.end))
    return valid & ~inside if beyond else inside


def _text_ids(keys: StoreKeys, beyond: StoreKeys | None, store: Store, other: Store, field: str, other_field: str,
              period: Period, window: Window | None, queries: list[QueryRecord]) -> bool:
    """Whether the single pass orders this store's ids by code point: one id it loads is not a whole number. The
    window's ids are known exactly; beyond it the pre-pass read more rows than the single pass's top-up fetches
    (see :func:`_wanted`), so a row there with such an id counts only if the top-up would fetch it: its request id
    carried by an in-period record of the other store and by none of this store's window (dataset._absent) —
    read back by text for just those request ids."""
    if not keys.whole_ids:
        return True
    if beyond is None or not beyond.odd_rids or window is None:
        return False
    odd = set(beyond.odd_rids)

    def read(s: Store, f: str) -> pd.DataFrame:
        found = select_frame(s, f, window, None, queries.append, columns=("request_id", f),
                             reduce=lambda c: _with_time(c, f, odd))
        return found if len(found) else pd.DataFrame({"rid": [], "at": pd.Series([], dtype="datetime64[us, UTC]")})
    wanted = read(other, other_field)
    wanted = set(wanted["rid"][period.contains(wanted["at"]).to_numpy()])
    present = read(store, field)
    present = set(present["rid"][_loaded(present["at"], window, False)])
    return bool(wanted - present)


def _with_time(chunk: pd.DataFrame, field: str, odd: set[str]) -> pd.DataFrame:
    """Of a chunk, the request ids among ``odd`` and their parsed times."""
    rid = as_text(chunk["request_id"])
    mine = rid.isin(list(odd)).to_numpy(dtype=bool)
    return pd.DataFrame({"rid": rid[mine].astype(object).to_numpy(),
                         "at": parse_timestamps(chunk[field])[mine].reset_index(drop=True)})


def _padded(counts: np.ndarray, n: int) -> np.ndarray:
    """Per-node counts over all ``n`` nodes (nodes met later count 0 here)."""
    return np.pad(counts, (0, n - len(counts)))


def _read_keys(store: Store, time_field: str, period: Period, window: Window | None, tenants: _Tenants,
               queries: list[QueryRecord]) -> StoreKeys:
    """The window's routing keys from one store: a narrow SELECT, each chunk reduced as it arrives."""
    kept: dict[int, tuple] = {}
    reduce = _reducer(tenants, store.key, time_field, period, kept, window)
    frame = select_frame(store, time_field, window, None, queries.append, frozenset({"restaurant_id"}),
                         columns=(*ROUTING_COLUMNS, time_field), reduce=reduce)
    return _gathered(kept, frame)


def _top_up_keys(ops_store: Store, audit_store: Store, ops: StoreKeys, audit: StoreKeys, window: Window | None,
                 tenants: _Tenants, queries: list[QueryRecord]) -> dict[str, StoreKeys]:
    """The keys of the rows the full read may fetch beyond the window by request id (dataset._request_id_top_up
    fetches those carrying an in-period request id the other side's window lacks; here, see :func:`_wanted`).
    By store key."""
    if window is None:
        return {}
    found = {}
    for want_from, store, field in ((ops, audit_store, "created_at"), (audit, ops_store, "occurred_at")):
        wanted = _wanted(want_from)
        if len(wanted) and "request_id" in store.present:
            found[store.key] = _outside_keys(store, field, window, wanted, tenants, queries)
    return found


def _wanted(want_from: StoreKeys) -> np.ndarray:
    """Sorted distinct hashes of every request id an in-period record of one side carries. The full read's
    top-up wants only those the other side's window lacks; but a hash found on the other side may be another
    request id's (a collision), and trusting it would skip rows the partition then fetches. So the pre-pass
    looks beyond the window for all of them: rows routed that no top-up fetches only make partitions coarser
    or send a partition a top-up that finds nothing, never change a number."""
    wanted = want_from.rid[want_from.in_period]
    wanted.sort()
    return _distinct(wanted)


def _outside_keys(store: Store, time_field: str, window: Window, wanted: np.ndarray, tenants: _Tenants,
                  queries: list[QueryRecord]) -> StoreKeys:
    """Routing keys of the rows beyond the window carrying a wanted request id (hashes, sorted)."""
    def hit(chunk: pd.DataFrame) -> pd.Series:
        hashes, has = _hash64(as_text(chunk["request_id"]))
        return pd.Series(has & _member(hashes, wanted), index=chunk.index, dtype=bool)
    raw = select_outside(store, time_field, window, "request_id", wanted, queries.append,
                         columns=(*ROUTING_COLUMNS, time_field), keep=hit,
                         purpose=("rows beyond the window with a request_id that one of the period's records "
                                  "carries (routing: the tenants a partition's request-id top-up may reach; the "
                                  "database returns every row beyond the window with one, the tool keeps those)"))
    kept: dict[int, tuple] = {}
    frame = (_reducer(tenants, store.key, time_field, Period(), kept, window, beyond=True)(raw) if len(raw)
             else pd.DataFrame())
    return _gathered(kept, frame)


def _duplicates(store: Store, time_field: str, window: Window | None, repeated: np.ndarray,
                queries: list[QueryRecord]) -> tuple[str, ...]:
    """Every id read more than once in the window, across all tenants (a check no partition can make alone): the
    ids of the repeated hashes read back by one more narrow SELECT, only when there are any, and counted."""
    if not len(repeated):
        return ()

    def only_repeated(chunk: pd.DataFrame) -> pd.DataFrame:
        ids = as_text(chunk["id"])
        hashes, present = _hash64(ids, blank_is_missing=False)
        keep = present & _member(hashes, repeated)
        return pd.DataFrame({"id": ids[keep].reset_index(drop=True)})
    frame = select_frame(store, time_field, window, None, queries.append, columns=("id", time_field),
                         reduce=only_repeated)
    if frame.empty or "id" not in frame:
        return ()
    counts = frame["id"].value_counts()
    return tuple(sorted(counts[counts > 1].index.tolist()))


def _specs(config: Config, period: Period, plan: PartitionPlan, tenants: _Tenants, logs: LogScan,
           beyond: dict[str, set[int]], f_bucket: np.ndarray, text_ids: TextIds) -> tuple[PartitionSpec, ...]:
    """One spec per partition: its tenants as each store holds them, its failure events and their replays, and
    which store's request-id top-up can find its rows (``beyond``: store → tenants with rows beyond the window
    carrying a wanted request id; a partition with none would send a SELECT that returns nothing of its own)."""
    at, piece_at = plan.partition_of(), plan.partition_of_piece()
    failures = logs.failures
    f_part = np.array([at[t] if t in at else piece_at.get((t, b), -1)
                       for t, b in zip(_listed(failures["tenant"]), f_bucket.tolist())], dtype=np.int64)
    specs = []
    for i, names in enumerate(plan.tenants):
        nodes = [tenants.node[t] for t in names]
        pieces = plan.pieces[i] if plan.pieces else ()
        mine = failures[f_part == i].reset_index(drop=True)
        ids = set(mine["failure_id"].dropna().tolist())
        replays = logs.replays[logs.replays["failure_id"].isin(ids)].reset_index(drop=True)
        specs.append(PartitionSpec(index=i, count=plan.count, config_path=str(config.path), period=period,
                                   operations=_filter(tenants.raw["operations"], nodes, pieces),
                                   audit=_filter(tenants.raw["audit"], nodes, pieces), tenants=names,
                                   failures=mine, replays=replays, config=config,
                                   text_ids=text_ids,
                                   top_up=tuple(bool(beyond.get(k, set()) & set(nodes))
                                                for k in ("operations", "audit"))))
    return tuple(specs)


def _filter(raw: dict[int, set], nodes: list[int], pieces: Pieces = ()) -> TenantFilter:
    """The raw values of ``nodes`` one store holds: sorted (by type, then value) so the SQL is deterministic."""
    values = {v for n in nodes for v in raw.get(n, ())}
    null = None in values
    values.discard(None)
    return TenantFilter(tuple(sorted(values, key=lambda v: (type(v).__name__, v))), null, pieces)
