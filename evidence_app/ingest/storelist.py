"""A store configured as a list of stores (``[[audit.stores]]``: one D1 dump or URL per tenant): their union, read
store by store through the same read-only engines and bounded SELECTs as one store.

Every entry is opened read-only as a store of its own (``sources.open_store``). Reading the list reads each entry
and stacks what came back: columns an entry lacks are NULL, and where an entry has no tenant column every row takes
the entry's one tenant. A row whose tenant is not one of its entry's is kept, reconciled under its own tenant, and
counted (``tenant_outside_store``). A partition's tenant filter selects whole entries: the routing pre-pass keeps
each entry's tenants (and any other tenant found in it) in one partition (:func:`unit_parts`), so an entry is read
by exactly one partition, entirely.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from evidence_app.columns.text import TEXT_DTYPE, compact_text, concat_rows
from evidence_app.config.settings import StoreConfig
from evidence_app.errors import ConfigError
from evidence_app.issues import DataIssue, issue

TENANT = "restaurant_id"
"""The canonical tenant column an entry may lack (then filled with the entry's tenant)."""
OUTSIDE_KIND = "tenant_outside_store"
OUTSIDE_EFFECT = "kept and reconciled under its own tenant; its store's entry does not name that tenant"
_UNIT_KEY = "evidence-app:u1:"


@dataclass(frozen=True)
class Engines:
    """The entries' engines, disposed together (what callers of ``Store.engine.dispose()`` need of a list)."""

    engines: tuple[object, ...]

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()  # type: ignore[attr-defined]


def members_of(store: object) -> tuple | None:
    """The entries of an opened list of stores, or None for one store."""
    return getattr(store, "members", None) or None


def open_list(config: StoreConfig, open_one: Callable[[StoreConfig], object]):  # noqa: ANN201 - a StoreList
    """Open every entry read-only (``open_one``: ``sources.open_store``); an entry that has several tenants must
    have the tenant column (its rows could not be told apart otherwise). A failure closes those already open."""
    from evidence_app.ingest.sources import StoreList

    opened: list = []
    try:
        for entry in config.stores:
            member = open_one(entry)
            opened.append(member)
            if TENANT not in member.present and len(entry.tenants) > 1:
                column = entry.columns[TENANT]
                raise ConfigError(f"{entry.where}.tenants: the store names {len(entry.tenants)} tenants but its "
                                  f"table {entry.table!r} has no tenant column {column!r} to tell their rows apart "
                                  f"({entry.display_url})")
    except BaseException:
        for member in opened:
            member.engine.dispose()
        raise
    present = sorted(set().union(*(m.present for m in opened)) | {TENANT})
    modes = list(dict.fromkeys(m.read_only_mode for m in opened))
    writable = [m.write_capable for m in opened]
    return StoreList(config=config, engine=Engines(tuple(m.engine for m in opened)), time_kind="list",
                     read_only_mode="; ".join(modes),
                     write_capable=True if any(writable) else (None if all(w is None for w in writable) else False),
                     columns={c: c for c in present}, members=tuple(opened))


def read(store, time_field: str, window, progress, record, repetitive: frozenset[str], tenants, columns,  # noqa: ANN001
         reduce, report: Callable[[DataIssue], None] | None = None) -> pd.DataFrame:
    """``select_frame`` over a list: each entry the partition's ``tenants`` select (all without a filter) read in
    turn, filled to the list's columns, stacked; ``reduce`` sees filled chunks and its output gains ``member`` (the
    entry's position, for the routing pre-pass). ``report`` hears the rows whose tenant is not their entry's."""
    from evidence_app.ingest.sources import select_frame

    wanted = _wanted(store, columns)
    frames, outside = [], []
    for i, member in enumerate(store.members):
        if tenants is not None and not selected(member, tenants):
            continue
        fill = _filler(member, wanted, repetitive)
        with opened(member) as one:
            if reduce is None:
                frame = fill(select_frame(one, time_field, window, progress, record, repetitive, None, columns))
                outside.append(_outside_ids(member, frame))
            else:
                frame = select_frame(one, time_field, window, progress, record, repetitive, None, columns,
                                     reduce=lambda chunk, f=fill, i=i: reduce(f(chunk)).assign(member=i))
        frames.append(frame)
    if report is not None:
        found = issue(store.key, OUTSIDE_KIND, "tenant", (x for ids in outside for x in ids), OUTSIDE_EFFECT)
        if found is not None:
            report(found)
    return _stacked(frames, wanted if reduce is None else None)


def read_outside(store, time_field: str, window, field: str, wanted: Sequence[str], record, columns,  # noqa: ANN001
                 keep) -> pd.DataFrame:
    """``select_outside`` over a list: every entry that has ``field``, filled and stacked."""
    from evidence_app.ingest.sources import select_outside

    names = _wanted(store, columns)
    frames = []
    for m in store.members:
        if field in m.present:
            with opened(m) as one:
                frames.append(_filler(m, names, frozenset())(select_outside(one, time_field, window, field, wanted,
                                                                            record, columns, keep)))
    return _stacked(frames, names)


@contextmanager
def opened(member) -> Iterator:  # noqa: ANN001
    """One read of an entry: a D1 dump is loaded for this read alone (an engine of its own, so two readers never
    share one) and given back afterwards, so the entries' dumps are held one at a time; any other store as it is."""
    if member.config.d1_dump is None:
        yield member
        return
    from evidence_app.ingest.sources import dump_engine, remember_rows

    engine = dump_engine(member.config)
    try:
        one = replace(member, engine=engine)
        yield one
        remember_rows(one)  # loaded for the read: its rows counted now, not loaded again for the count
    finally:
        engine.dispose()


def selected(member, tenants) -> bool:  # noqa: ANN001
    """Whether a partition's tenant filter takes this entry: one of the tenants it names is among the filter's."""
    values = {str(v) for v in tenants.values}
    return any(t in values for t in member.config.tenants)


def _wanted(store, columns: Sequence[str] | None) -> list[str]:  # noqa: ANN001
    """The list's columns a read returns (sorted, as ``select_frame`` labels them)."""
    return sorted(c for c in store.columns if columns is None or c in columns)


def _filler(member, names: list[str], repetitive: frozenset[str]) -> Callable[[pd.DataFrame], pd.DataFrame]:  # noqa: ANN001
    """A chunk of one entry → the list's columns in order: the tenant column (when absent) the entry's tenant,
    any other absent column NULL."""
    tenant = member.config.tenants[0]

    def fill(chunk: pd.DataFrame) -> pd.DataFrame:
        n = len(chunk)
        out = {}
        for name in names:
            if name in chunk.columns:
                out[name] = chunk[name].reset_index(drop=True)
            elif name == TENANT:
                out[name] = _constant(tenant, n, name in repetitive)
            else:
                out[name] = pd.Series(np.full(n, None, dtype=object), dtype=object)
        extra = [c for c in chunk.columns if c not in out]
        return pd.DataFrame({**out, **{c: chunk[c].reset_index(drop=True) for c in extra}}, copy=False)
    return fill


def _constant(tenant: str, n: int, compact: bool) -> pd.Series:
    """``tenant`` on every one of ``n`` rows (dictionary-encoded when the column is read so)."""
    if compact:  # as a store's dictionary-encoded column arrives (ingest/_columnar.py): the same category type
        codes = pa.array(np.zeros(n, dtype=np.int32))
        return pd.Series(pa.DictionaryArray.from_arrays(codes, pa.array([tenant], pa.large_string())).to_pandas())
    return pd.Series([tenant] * n, dtype=TEXT_DTYPE)


def _outside_ids(member, frame: pd.DataFrame) -> list[str]:  # noqa: ANN001
    """Ids of the rows whose tenant (present, canonical) is not one the entry names."""
    if TENANT not in member.present or frame.empty:
        return []
    tenant = compact_text(frame[TENANT]).astype(object)
    own = set(member.config.tenants)
    off = tenant.notna().to_numpy() & ~tenant.isin(own).to_numpy()
    if not off.any():
        return []
    return [("<null id>" if v is None or v is pd.NA else str(v)) for v in frame["id"][off].astype(object).tolist()]


def _stacked(frames: list[pd.DataFrame], names: list[str] | None) -> pd.DataFrame:
    """The entries' frames one under the other (an empty list: no rows, the list's columns)."""
    frames = [f for f in frames if len(f)] or frames[:1]
    if not frames:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names or []})
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    frames = [f.reindex(columns=columns) for f in frames]
    for name in columns:
        _same_categories([f[name] for f in frames], name, frames)
    return concat_rows(frames)


def _same_categories(parts: list[pd.Series], name: str, frames: list[pd.DataFrame]) -> None:
    """Dictionary-encoded columns whose names are of different types (an entry whose column is all NULL has none
    at all) made stackable: an entry without names takes the others' type; names of different types leave the
    column as plain values (stacked as they are, every value unchanged)."""
    kinds = {str(p.dtype.categories.dtype) for p in parts if isinstance(p.dtype, pd.CategoricalDtype)
             and len(p.dtype.categories)}
    if not any(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
        return
    typed = next((p.dtype.categories.dtype for p in parts if isinstance(p.dtype, pd.CategoricalDtype)
                  and len(p.dtype.categories)), None)
    for frame, part in zip(frames, parts):
        if not isinstance(part.dtype, pd.CategoricalDtype):
            continue
        if len(kinds) > 1:
            frame[name] = part.astype(object)
        elif typed is not None and not len(part.dtype.categories) and part.dtype.categories.dtype != typed:
            frame[name] = part.cat.set_categories(pd.Index([], dtype=typed))


def count(store, count_one: Callable) -> int:  # noqa: ANN001
    """Rows in every entry's table."""
    return sum(count_one(m) for m in store.members)  # a listed dump: as counted when last read (sources)


def extent(store, time_field: str, extent_one: Callable) -> tuple[object, object]:  # noqa: ANN001
    """The earliest and latest raw time over the entries (compared as parsed times; raw values returned)."""
    from evidence_app.ingest.canonical import parse_timestamps

    found = []
    for m in store.members:
        with opened(m) as one:
            found += [v for v in extent_one(one, time_field) if v is not None]
    if not found:
        return None, None
    parsed = parse_timestamps(pd.Series(found, dtype=object))
    known = [(t, v) for t, v in zip(parsed.tolist(), found) if not pd.isna(t)]
    if not known:
        return found[0], found[-1]
    return min(known, key=lambda p: p[0])[1], max(known, key=lambda p: p[0])[1]


def unit_parts(stores: Iterable, keys: dict[str, object], code: Callable[[str | None], int],
               raw: dict[str, dict[int, set]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """For the routing pre-pass: per entry of each list, (int32 tenant nodes, uint64 key) joining every tenant it
    names and every tenant found in its rows (``keys[store.key].members``) into one group, as a shared request id
    does (a key colliding with a request id's hash only joins groups); and each named tenant's name among the raw
    values the store's filter carries (so the partition holding it reads the entry even when none of its rows lies
    in the window)."""
    import pandas.util as pdu

    parts = []
    for store in stores:
        if members_of(store) is None:
            continue
        found_in = getattr(keys.get(store.key), "members", None) or {}
        for i, member in enumerate(store.members):
            named = [code(t) for t in member.config.tenants]
            for t, node in zip(member.config.tenants, named):
                raw.setdefault(store.key, {}).setdefault(node, set()).add(t)
            found = found_in.get(i, np.arange(0))
            nodes = np.unique(np.concatenate([np.array(named, dtype=np.int64), found.astype(np.int64)]))
            label = np.array([f"{store.key}\x00{i}"] * len(nodes), dtype=object)
            parts.append((nodes.astype(np.int32), pdu.hash_array(label, hash_key=_UNIT_KEY)))
    return parts
