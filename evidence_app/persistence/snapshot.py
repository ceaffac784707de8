"""The web app's snapshot of what it read: one period's canonical frames and their reconciliation kept as Arrow IPC
files (data only, never pickle), reused after a restart only while a cheap fingerprint of every source still
matches.

Why: reading a million-row store takes longer than everything else the web app does; a restarted server with
unchanged sources should not read it again. Why it is safe: the snapshot is keyed by a hash of every setting
that shapes loading (and of the code that loads and reconciles) plus the period, and is served only when each
store's row count, rows in the window, largest id and first/latest time (one aggregate query each, through the
same read-only engines and window), the SQLite/D1 files' sizes and mtimes, and the Worker log files' names, sizes
and mtimes are what they were when it was taken. Anything else — a changed source, a missing, truncated, altered or unreadable file, a folder
that is not private — reads the sources afresh (saying why in a log line); nothing here ever fails a page.

Who uses it: the web app only. The CLI and evidence packs always read the sources (``pipeline.evaluate``).
Limits: an UPDATE in place that keeps a server table's count, largest id and latest time is not seen (audit
trails are append-only; SQLite files are also compared by size and mtime); the Refresh button reads afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from evidence_app.assess.pipeline import reconcile_dataset
from evidence_app.columns.text import compact_text, is_compact
from evidence_app.config.settings import Config, S3Config, StoreConfig
from evidence_app.errors import EvidenceError
from evidence_app.ingest.dataset import Dataset, Progress, SourceReport, load_dataset, open_stores, read_window
from evidence_app.ingest.extraction import QueryRecord
from evidence_app.ingest.fingerprint import probe_store
from evidence_app.ingest.logpush import LogScan, locate_log_files
from evidence_app.ingest.objectstore import ObjectRecord
from evidence_app.ingest.sources import Store, Window
from evidence_app.issues import DataIssue
from evidence_app.privacy import not_private, unsafe_ancestor
from evidence_app.reconcile import Reconciliation
from evidence_app.reconcile.window import Period

__all__ = ["EXPECTED", "SNAPSHOT_FORMAT", "Loaded", "Provenance", "SavedViews", "fingerprint", "load_views",
           "print_of", "read_through", "save_views", "snapshot_folder", "snapshot_key"]

EXPECTED = "expected "
"""Progress stages starting with this announce a total before reading (``expected operations``, …)."""
SNAPSHOT_FORMAT = 3
"""Bumped whenever the files' layout changes: older snapshots then simply miss."""
META = "snapshot.json"
_FRAMES = ("operations", "audit", "failures", "replays", "invocations", "rejected-operations", "rejected-audit",
           "reconciled-operations", "reconciled-rows", "reconciled-failures")
_CODE = ("ingest", "reconcile", "columns", "config", "issues.py", "assess/pipeline.py", "persistence/snapshot.py")
"""The code that shapes what is loaded and reconciled: a snapshot written by other code is never served."""

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Provenance:
    """Where one period's data came from, and when: what the page says about it."""

    read_at: datetime
    """When the sources were read (for a snapshot: when it was taken)."""
    from_snapshot: bool
    """True: served from the snapshot, the sources' fingerprints matching at ``checked_at``."""
    checked_at: datetime
    """When this load happened (the fingerprints were compared then)."""
    reason: str
    """Why the sources were (or were not) read, in words: for the log."""

    def describe(self) -> str:
        """One sentence for the page."""
        if self.from_snapshot:
            return (f"Data from a snapshot taken {_minute(self.read_at)} (sources unchanged since; checked "
                    f"{_minute(self.checked_at)}).")
        return f"Data read {_minute(self.read_at)} from the sources."


def _minute(t: datetime) -> str:
    return f"{t.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class Loaded:
    """One period's data as the web app got it, reconciled, and where from."""

    dataset: Dataset
    reconciliation: Reconciliation
    """``reconcile_dataset`` of ``dataset``: computed after a fresh read, kept in the snapshot with it."""
    provenance: Provenance
    print: str | None = None
    """:func:`print_of` the sources' fingerprint taken before this read (None: none could be taken): what views
    derived from this data are kept under (:func:`save_views`)."""


class SnapshotUnusable(Exception):
    """A snapshot that must not be served (missing, stale, damaged): the message says why."""


# ---------------------------------------------------------------------------------------------- the door


def read_through(config: Config, period: Period, stores: tuple[Store, Store] | None = None,
                 progress: Progress | None = None, *, refresh: bool = False, clock: Clock = _utcnow) -> Loaded:
    """The period's dataset from the snapshot when the sources are unchanged, else read afresh and snapshotted.

    ``refresh`` reads afresh whatever the snapshot holds and replaces it. Before reading, ``progress`` hears the
    totals the fingerprints found (stages ``expected operations``, ``expected audit rows``, ``expected log
    files``). Never raises for a snapshot problem: errors of the sources themselves (a store gone) propagate as
    they would without a snapshot."""
    stores = stores or open_stores(config)
    now = clock()
    folder = _usable_folder(config)
    if folder is None:
        return _fresh(config, period, stores, progress, now, "snapshots are off or their folder is refused")
    key = snapshot_key(config, period)
    try:
        fp = fingerprint(config, period, stores)
    except (EvidenceError, sa.exc.SQLAlchemyError, OSError) as exc:
        return _fresh(config, period, stores, progress, now, f"sources could not be fingerprinted ({exc})")
    if not refresh:
        try:
            data, recon, taken = _load(folder / key, key, fp, config, period, stores)
            log.info("snapshot: served %s (taken %s; sources unchanged)", key[:12], taken.isoformat())
            return Loaded(data, recon, Provenance(taken, True, now, "sources unchanged since the snapshot was taken"),
                          print_of(fp))
        except SnapshotUnusable as exc:
            reason = str(exc)
    else:
        reason = "refresh asked for"
    _announce(progress, fp)
    loaded = replace(_fresh(config, period, stores, progress, now, reason), print=print_of(fp))
    _save_quietly(folder, key, fp, loaded)
    return loaded


def print_of(fp: dict) -> str:
    """A fingerprint as one short text (SHA-256 of its canonical JSON): equal prints, unchanged sources."""
    return hashlib.sha256(json.dumps(fp, sort_keys=True, default=str).encode()).hexdigest()


def _fresh(config: Config, period: Period, stores: tuple[Store, Store], progress: Progress | None, now: datetime,
           reason: str) -> Loaded:
    log.info("snapshot: reading the sources: %s", reason)
    if config.compute.distributed:  # [compute] or serve --partitions/--scheduler: the partitioned core
        from evidence_app.compute.configured import evaluate_configured

        data, recon = evaluate_configured(config, period, progress, stores)
        return Loaded(data, recon, Provenance(now, False, now, reason))
    data = load_dataset(config, period, progress, stores)
    return Loaded(data, reconcile_dataset(config, data, period), Provenance(now, False, now, reason))


def _announce(progress: Progress | None, fp: dict) -> None:
    if progress is not None:
        progress(EXPECTED + "operations", fp["operations"]["rows_in_window"])
        progress(EXPECTED + "audit rows", fp["audit"]["rows_in_window"])
        progress(EXPECTED + "log files", len(fp["worker_logs"]["files"]))


def _save_quietly(folder: Path, key: str, fp: dict, loaded: Loaded) -> None:
    try:
        _save(folder, key, fp, loaded.dataset, loaded.reconciliation, loaded.provenance.read_at)
    except (OSError, pa.ArrowException, ValueError, TypeError) as exc:
        log.warning("snapshot: not written (%s: %s); the next start reads the sources", type(exc).__name__, exc)


# ---------------------------------------------------------------------------------------------- key & folder


def snapshot_key(config: Config, period: Period) -> str:
    """SHA-256 over every setting that shapes loading, the loading code, the format and the period."""
    doc = {"format": SNAPSHOT_FORMAT, "code": _code_hash(), "period": [str(period.start), str(period.end)],
           "operations": _store_settings(config.operations), "audit": _store_settings(config.audit),
           "log_paths": list(config.log_paths), "worker_logs": asdict(config.worker_logs),
           "matching": {"tolerance_seconds": config.matching.tolerance_seconds,
                        "max_replay_attempts": config.matching.max_replay_attempts,
                        "actions": sorted(config.matching.actions.items())}}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _store_settings(store: StoreConfig) -> dict:
    """Where and how a store is read; the URL with its password masked (a password does not change the data)."""
    return {"key": store.key, "location": store.display_url, "table": store.table,
            "columns": sorted(store.columns.items()), "optional": sorted(store.optional)}


def _code_hash() -> str:
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for name in _CODE:
        for f in sorted((root / name).rglob("*.py")) if (root / name).is_dir() else [root / name]:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def snapshot_folder(config: Config) -> Path:
    """``[cache] folder``, or ``$XDG_CACHE_HOME/evidence-app`` (default ``~/.cache/evidence-app``)."""
    if config.cache.folder is not None:
        return config.cache.folder
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "evidence-app"


def _usable_folder(config: Config) -> Path | None:
    """The folder, created 0700 if missing; None (with a warning) when it is off, or not private to this user."""
    if not config.cache.enabled:
        return None
    folder = snapshot_folder(config)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        problem = not_private(folder)
        if problem is None and (above := unsafe_ancestor(folder)) is not None:
            problem = f"a folder above it lets another user swap it for theirs: {above}"
    except OSError as exc:
        problem = f"cannot be created or read ({exc.strerror})"
    if problem:
        log.warning("snapshot: folder %s refused: %s; reading the sources, keeping nothing", folder, problem)
        return None
    return folder


# ---------------------------------------------------------------------------------------------- fingerprint


def fingerprint(config: Config, period: Period, stores: tuple[Store, Store]) -> dict:
    """What the sources look like now, cheaply: per store one aggregate query (and its files' :func:`_stat`),
    and the Worker log files' names and :func:`_stat`."""
    window = read_window(config, period)
    ops, audit = stores
    return {"operations": _store_print(ops, "occurred_at", window), "audit": _store_print(audit, "created_at", window),
            "worker_logs": _logs_print(config.log_paths, config.worker_logs.s3)}


def _store_print(store: Store, time_field: str, window: Window | None) -> dict:
    probe = probe_store(store, time_field, window)
    return {"rows": probe.rows, "rows_in_window": probe.rows_in_window, "max_id": _plain(probe.max_id),
            "max_time": _plain(probe.max_time), "min_time": _plain(probe.min_time), "files": _files_print(store.config)}


def _files_print(store: StoreConfig) -> list:
    """The SQLite file (and its WAL) or the D1 dump, by :func:`_stat`: catches changes the aggregates miss."""
    if store.stores:  # a list of stores: each entry's files
        return [f for entry in store.stores for f in _files_print(entry)]
    if store.d1_dump is not None:
        paths = [store.d1_dump]
    elif store.url is not None and store.url.get_backend_name() == "sqlite" and store.url.database:
        db = Path(store.url.database)
        paths = [db, db.with_name(db.name + "-wal")]
    else:
        return []
    return [_stat(p) for p in paths]


def _logs_print(patterns: tuple[str, ...], s3: S3Config) -> dict:
    """Log files by :func:`_stat`; objects in S3/R2 by the listing's key, size, ETag and LastModified."""
    found = locate_log_files(patterns, s3)
    return {"files": [found.objects[f].fingerprint() if f in found.objects else _stat(Path(f)) for f in found.files],
            "unreadable": found.unreadable, "missing_folders": found.missing_folders}


def _stat(path: Path) -> list:
    """A file by size, mtime, ctime and identity (device, inode). mtime alone can be put back (``cp -p``,
    ``rsync -a``, ``touch -d``); ctime cannot — the kernel sets it on every write, rename onto, or metadata
    change — and a file replaced by another has another inode."""
    try:
        st = path.stat()
    except OSError:
        return [str(path), None, None, None, None, None]
    return [str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_dev, st.st_ino]


def _plain(value: Any) -> str | None:
    """An aggregate's value as stable text (type included: 10 and '10' differ)."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes:" + bytes(value).hex()
    if isinstance(value, datetime):
        return "datetime:" + value.isoformat()
    if isinstance(value, (float, Decimal)):
        return f"{type(value).__name__}:{value!r}"
    return f"{type(value).__name__}:{value}"


_FIELD_ORDER = ("rows", "rows_in_window", "max_id", "max_time", "min_time", "files")
"""The order differences are named in: the most telling first."""


def _difference(old: dict, new: dict) -> str:
    """The first difference between two fingerprints, in words."""
    for source in sorted(set(old) | set(new)):
        a, b = old.get(source, {}), new.get(source, {})
        for field in sorted(set(a) | set(b), key=lambda f: (f not in _FIELD_ORDER, _FIELD_ORDER.index(f)
                                                             if f in _FIELD_ORDER else 0, f)):
            if a.get(field) != b.get(field):
                return f"{source}: {field} changed" + (f" ({a.get(field)} → {b.get(field)})"
                                                      if field.startswith("rows") else "")
    return "fingerprint changed"


# ---------------------------------------------------------------------------------------------- write


def _save(folder: Path, key: str, fp: dict, data: Dataset, recon: Reconciliation, read_at: datetime) -> None:
    """Write into a private temporary folder, then swap it in: a reader sees the old snapshot or the new one."""
    tmp = folder / f".{key}.{secrets.token_hex(6)}.tmp"
    tmp.mkdir(mode=0o700)
    try:
        files = {name: _write_frame(tmp / f"{name}.arrow", frame) for name, frame in _frames(data, recon).items()}
        meta = {"format": SNAPSHOT_FORMAT, "key": key, "fingerprint": fp, "read_at": read_at.isoformat(),
                "files": files, "scalars": _scalars(data),
                "reconciliation": {"issues": [_issue_json(i) for i in recon.issues],
                                   "tolerance_seconds": recon.tolerance_seconds}}
        _write_private(tmp / META, json.dumps(meta, sort_keys=True, default=str).encode())
        _swap_in(tmp, folder / key)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("snapshot: written %s (%d operations, %d audit rows)", key[:12], len(data.operations), len(data.audit))


def _frames(data: Dataset, recon: Reconciliation) -> dict[str, pd.DataFrame]:
    return {"operations": data.operations, "audit": data.audit, "failures": data.logs.failures,
            "replays": data.logs.replays, "invocations": data.logs.invocations,
            "rejected-operations": data.rejected["operations"],
            "rejected-audit": data.rejected["audit"], "reconciled-operations": recon.operations,
            "reconciled-rows": recon.rows, "reconciled-failures": recon.failures}


def _write_frame(path: Path, frame: pd.DataFrame) -> dict:
    table = pa.Table.from_pandas(frame, preserve_index=None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    raw = sink.getvalue().to_pybytes()
    _write_private(path, raw)
    return {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


def _write_private(path: Path, raw: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(raw)


def _swap_in(tmp: Path, final: Path) -> None:
    old = final.with_name(f".{final.name}.{secrets.token_hex(6)}.old")
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _scalars(data: Dataset) -> dict:
    logs = data.logs
    return {"logs": {"files": list(logs.files), "lines_read": logs.lines_read,
                     "skipped_log_lines": logs.skipped_log_lines, "issues": [_issue_json(i) for i in logs.issues],
                     "skipped_files": list(logs.skipped_files), "duplicates_dropped": logs.duplicates_dropped,
                     "objects": [o.as_json() for o in logs.objects]},
            "sources": [_source_json(s) for s in data.sources],
            "issues": [_issue_json(i) for i in data.issues],
            "queries": [{**q.as_json(), "parameters_kind": "dict" if isinstance(q.parameters, dict) else "list"}
                        for q in data.queries]}


def _issue_json(i: DataIssue) -> dict:
    return {"source": i.source, "kind": i.kind, "column": i.column, "count": i.count, "examples": list(i.examples),
            "effect": i.effect}


def _source_json(s: SourceReport) -> dict:
    return {"key": s.key, "rows_total": s.rows_total, "rows_loaded": s.rows_loaded, "rows_rejected": s.rows_rejected,
            "time_min": _ts_json(s.time_min), "time_max": _ts_json(s.time_max),
            "columns_present": list(s.columns_present)}


def _ts_json(t: pd.Timestamp | None) -> str | None:
    return None if t is None or pd.isna(t) else t.isoformat()


# ---------------------------------------------------------------------------------------------- read


def _load(path: Path, key: str, fp: dict, config: Config, period: Period,
          stores: tuple[Store, Store]) -> tuple[Dataset, Reconciliation, datetime]:
    """The snapshot's dataset, its reconciliation and when it was taken; SnapshotUnusable (saying why) for
    anything amiss."""
    meta = _read_meta(path, key)
    if meta["fingerprint"] != fp:
        raise SnapshotUnusable(f"sources changed since the snapshot ({_difference(meta['fingerprint'], fp)})")
    try:
        frames = {name: _read_frame(path / f"{name}.arrow", meta["files"][name]) for name in _FRAMES}
        return (_dataset(config, period, frames, meta["scalars"], stores),
                _reconciliation(period, frames, meta["reconciliation"]), datetime.fromisoformat(meta["read_at"]))
    except SnapshotUnusable:
        raise
    except Exception as exc:
        raise SnapshotUnusable(f"snapshot unreadable ({type(exc).__name__}: {exc})") from exc


def _read_meta(path: Path, key: str) -> dict:
    if not path.is_dir():
        raise SnapshotUnusable("no snapshot for this configuration and period")
    for p in (path, path / META):
        if (problem := not_private(p)) is not None:
            raise SnapshotUnusable(f"snapshot {p.name} refused: {problem}")
    try:
        meta = json.loads((path / META).read_bytes())
    except (OSError, ValueError) as exc:
        raise SnapshotUnusable(f"snapshot index unreadable ({type(exc).__name__})") from exc
    if not isinstance(meta, dict) or meta.get("format") != SNAPSHOT_FORMAT or meta.get("key") != key:
        raise SnapshotUnusable("snapshot index of another format or key")
    return meta


def _read_frame(path: Path, expect: dict) -> pd.DataFrame:
    """An Arrow IPC file whose bytes hash as recorded, holding plain Arrow types only (no extension types)."""
    if (problem := not_private(path)) is not None:
        raise SnapshotUnusable(f"snapshot file {path.name} refused: {problem}")
    raw = path.read_bytes()
    if len(raw) != expect["bytes"] or hashlib.sha256(raw).hexdigest() != expect["sha256"]:
        raise SnapshotUnusable(f"snapshot file {path.name} does not match its recorded SHA-256 (damaged)")
    table = pa.ipc.open_file(pa.py_buffer(raw)).read_all()
    if any(isinstance(f.type, pa.ExtensionType) for f in table.schema):
        raise SnapshotUnusable(f"snapshot file {path.name} holds an extension type")
    frame = table.to_pandas()
    for name in frame.columns:  # compact text comes back with its names as text (an empty set of names would not)
        if is_compact(frame[name]):
            frame[name] = compact_text(frame[name])
    return frame


def _dataset(config: Config, period: Period, frames: dict[str, pd.DataFrame], scalars: dict,
             stores: tuple[Store, Store]) -> Dataset:
    lg = scalars["logs"]
    logs = LogScan(failures=frames["failures"], replays=frames["replays"], files=tuple(lg["files"]),
                   lines_read=int(lg["lines_read"]), skipped_log_lines=int(lg["skipped_log_lines"]),
                   issues=tuple(_issue(i) for i in lg["issues"]), skipped_files=tuple(lg["skipped_files"]),
                   invocations=frames["invocations"], duplicates_dropped=int(lg["duplicates_dropped"]),
                   objects=tuple(ObjectRecord(**o) for o in lg.get("objects", [])))
    return Dataset(config=config, period=period, operations=frames["operations"],
                   audit=frames["audit"], logs=logs,
                   sources=tuple(_source(s, store) for s, store in zip(scalars["sources"], stores, strict=True)),
                   rejected={"operations": frames["rejected-operations"], "audit": frames["rejected-audit"]},
                   issues=tuple(_issue(i) for i in scalars["issues"]),
                   queries=tuple(_query(q) for q in scalars["queries"]))


def _reconciliation(period: Period, frames: dict[str, pd.DataFrame], d: dict) -> Reconciliation:
    return Reconciliation(operations=frames["reconciled-operations"], rows=frames["reconciled-rows"],
                          failures=frames["reconciled-failures"], issues=tuple(_issue(i) for i in d["issues"]),
                          period=period, tolerance_seconds=int(d["tolerance_seconds"]))


def _issue(d: dict) -> DataIssue:
    return DataIssue(d["source"], d["kind"], d["column"], int(d["count"]), tuple(d["examples"]), d["effect"])


def _source(d: dict, store: Store) -> SourceReport:
    """The figures as read; how the store is opened (mode, role finding, location) as it is now."""
    if d["key"] != store.key:
        raise SnapshotUnusable("snapshot sources in another order")
    return SourceReport(key=store.key, display_url=store.config.display_url, dialect=store.dialect,
                        table=store.config.table, read_only_mode=store.read_only_mode,
                        write_capable=store.write_capable, rows_total=int(d["rows_total"]),
                        rows_loaded=int(d["rows_loaded"]), rows_rejected=int(d["rows_rejected"]),
                        time_min=_ts(d["time_min"]), time_max=_ts(d["time_max"]),
                        columns_present=tuple(d["columns_present"]))


def _ts(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text).as_unit("us")


def _query(d: dict) -> QueryRecord:
    params = d["parameters"]
    return QueryRecord(source=d["source"], purpose=d["purpose"], sql=d["sql"],
                       parameters=dict(params) if d["parameters_kind"] == "dict" else tuple(params),
                       paramstyle=d["paramstyle"], rows_returned=int(d["rows_returned"]), driver=d["driver"],
                       server_version=d["server_version"])


# ---------------------------------------------------------------------------------------------- derived views


@dataclass(frozen=True)
class SavedViews:
    """Views derived from one snapshot's data (what the web app's pages show), as kept beside it."""

    frames: dict[str, pd.DataFrame]
    doc: dict
    """Their scalars, as JSON."""
    read_at: datetime
    """When the snapshot's data was read."""


_VIEWS = "views"


def save_views(config: Config, period: Period, print_: str, name: str, frames: dict[str, pd.DataFrame],
               doc: dict) -> bool:
    """Keep views derived from the data whose fingerprint :func:`print_of` is ``print_``, beside that period's
    snapshot (``name``: which views, e.g. one scope's; ``doc``: JSON scalars). Only when the snapshot there holds
    that very data; written like the snapshot (private, atomic, SHA-256 per file). False when not kept."""
    folder = _usable_folder(config)
    if folder is None:
        return False
    key = snapshot_key(config, period)
    try:
        meta = _read_meta(folder / key, key)
        if print_of(meta["fingerprint"]) != print_:
            return False
        views = folder / key / _VIEWS
        views.mkdir(mode=0o700, exist_ok=True)
        tmp = views / f".{name}.{secrets.token_hex(6)}.tmp"
        tmp.mkdir(mode=0o700)
        try:
            files = {n: _write_frame(tmp / f"{n}.arrow", f) for n, f in frames.items()}
            _write_private(tmp / META, json.dumps({"format": SNAPSHOT_FORMAT, "print": print_, "name": name,
                                                   "files": files, "doc": doc}, sort_keys=True,
                                                  default=str).encode())
            _swap_in(tmp, views / name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return True
    except (SnapshotUnusable, OSError, pa.ArrowException, ValueError, TypeError) as exc:
        log.warning("snapshot: views %s not kept (%s)", name[:12], exc)
        return False


def load_views(config: Config, period: Period, print_: str, name: str) -> SavedViews | None:
    """Views kept by :func:`save_views` for data of fingerprint ``print_`` — the caller's fingerprint of the
    sources as they are now — or None (none kept, another fingerprint, damaged, not private)."""
    folder = _usable_folder(config)
    if folder is None:
        return None
    key = snapshot_key(config, period)
    try:
        meta = _read_meta(folder / key, key)
        if print_of(meta["fingerprint"]) != print_:
            return None
        path = folder / key / _VIEWS / name
        if not (path / META).is_file():
            return None
        for p in (path.parent, path, path / META):
            if (problem := not_private(p)) is not None:
                raise SnapshotUnusable(f"views {p.name} refused: {problem}")
        doc = json.loads((path / META).read_bytes())
        if doc.get("format") != SNAPSHOT_FORMAT or doc.get("print") != print_ or doc.get("name") != name:
            return None
        frames = {n: _read_frame(path / f"{n}.arrow", expect) for n, expect in doc["files"].items()}
        return SavedViews(frames, doc["doc"], datetime.fromisoformat(meta["read_at"]))
    except SnapshotUnusable:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged file is a miss, never a page failure
        log.warning("snapshot: views %s not served (%s: %s)", name[:12], type(exc).__name__, exc)
        return None
