"""Cloudflare Logpush ``workers_trace_events`` reader → failure and replay events, streamed.

Files are NDJSON, gzip or plain (told apart by their magic bytes, not their names). Each line
is one Worker invocation whose ``Logs[].Message[]`` strings may carry our JSON events. Broken
lines (invalid JSON, a truncated gzip tail) are counted as skipped and reading goes on.

Reading is linear in the file's size whatever its shape: a line longer than
``worker_logs.max_line_bytes`` is skipped (counted, file and line named) without being held, and
at most ``worker_logs.max_file_bytes`` decompressed bytes are read per file (the rest is skipped,
the file named), so neither one endless line nor a gzip bomb can keep the reader busy. A glob that
matches nothing, a folder that cannot be listed or a file that cannot be read is an error (exit 2)
unless ``worker_logs.optional = true``, which turns each into a counted warning.

One seam for every place logs live — find → open → parse → frames: :func:`locate_log_files` finds files on
disk and objects in S3/R2 (:mod:`evidence_app.ingest.objectstore`, ``s3://`` patterns) with one glob dialect,
:meth:`LogFiles.open` gives a binary stream of either, :func:`stream_lines` parses it with the same caps.
"""

from __future__ import annotations

import json
import os
import stat
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterable, Iterator

import pandas as pd

from evidence_app.columns.text import as_text
from evidence_app.config.settings import S3_SCHEME, MatchingConfig, S3Config, WorkerLogsConfig
from evidence_app.errors import SourceError
from evidence_app.ingest._globs import has_magic, segment_matches
from evidence_app.ingest.canonical import (
    DataIssue,
    blank_as_null,
    canonical_target,
    issue,
    parse_timestamps,
)
from evidence_app.ingest.objectstore import ObjectReader, ObjectRecord, StoredObject, locate_objects
from evidence_app.ingest.traces import Entry, audit_events, records_in, trace_record
from evidence_app.reconcile.rules import REPLAY_OUTCOMES

_READ_SIZE = 1 << 16
FAILURE_FIELDS = (
    "failure_id", "created_at", "logged_at", "operation", "action", "route", "tenant",
    "operator", "target", "request_id", "error",
)
REPLAY_FIELDS = ("failure_id", "attempt", "outcome", "error", "logged_at")


@dataclass
class _Tally:
    files: int = 0
    lines: int = 0
    skipped: list[str] = field(default_factory=list)
    oversized: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    cut_files: list[str] = field(default_factory=list)
    unreadable_files: list[str] = field(default_factory=list)
    not_traces: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    invocations: list[tuple] = field(default_factory=list)
    """One tuple of :data:`INVOCATION_FIELDS` per invocation read (tuples: a few hundred bytes each at most)."""
    objects: list[ObjectRecord] = field(default_factory=list)


@dataclass(frozen=True)
class LogScan:
    """What the Worker logs hold: failure events, replay attempts, and what could not be read."""

    failures: pd.DataFrame
    replays: pd.DataFrame
    files: tuple[str, ...]
    lines_read: int
    skipped_log_lines: int
    """Lines set aside: not JSON, cut off by a truncated gzip, or longer than the line cap."""
    issues: tuple[DataIssue, ...]
    skipped_files: tuple[str, ...] = ()
    """Files not read in full: unreadable (with ``worker_logs.optional``), or cut at the size cap."""
    invocations: pd.DataFrame = field(default_factory=lambda: _invocation_frame([]))
    """Every Worker invocation the logs hold, once each (:data:`INVOCATION_FIELDS`), with or without events."""
    duplicates_dropped: int = 0
    """Trace records dropped as already read (at-least-once delivery: a batch or a line delivered again)."""
    objects: tuple[ObjectRecord, ...] = ()
    """Every object read from object storage (``s3://`` names in :attr:`files`): key, size, ETag, SHA-256."""


@dataclass
class LogFiles:
    """What the configured globs found: the files, and what stood in the way."""

    files: list[str]
    unreadable: list[str]
    """``path: reason`` for every folder a pattern had to list, or matching entry, that could not be read
    (no permission, a symlink loop, a dangling link)."""
    missing_folders: list[str]
    """``folder (pattern)`` where a pattern's fixed folder does not exist."""
    objects: dict[str, StoredObject] = field(default_factory=dict)
    """The ``s3://`` names among :attr:`files`, as listed (size, ETag, time)."""

    def open(self, name: str) -> BinaryIO | ObjectReader:
        """A binary stream of one found file or object (close it, or use ``with``)."""
        listed = self.objects.get(name)
        return listed.open() if listed is not None else open(name, "rb")


def find_log_files(patterns: Iterable[str], s3: S3Config | None = None) -> list[str]:
    """Expand the configured globs (``**`` recursive) into a sorted, de-duplicated file list."""
    return locate_log_files(patterns, s3).files


def locate_log_files(patterns: Iterable[str], s3: S3Config | None = None) -> LogFiles:
    """Expand the globs like :func:`glob.glob` (``**`` recursive, hidden names only when asked for), but
    report every folder or matching entry that could not be read instead of passing over it; ``s3://``
    patterns are listed in object storage (:mod:`evidence_app.ingest.objectstore`) with the same dialect."""
    patterns = list(patterns)
    remote = [p for p in patterns if p.startswith(S3_SCHEME)]
    walk = _Walk()
    for pattern in patterns:
        if pattern not in remote:
            walk.expand(pattern)
    listing = locate_objects(remote, s3 or S3Config()) if remote else None
    if listing is not None:
        walk.unreadable.update(listing.unreadable)
        walk.files.update(listing.objects)
    return LogFiles(sorted(walk.files), [f"{k}: {v}" for k, v in sorted(walk.unreadable.items())], walk.missing,
                    listing.objects if listing is not None else {})


@dataclass
class _Walk:
    """One expansion of the globs: what was found and what could not be read."""

    files: set[str] = field(default_factory=set)
    unreadable: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def expand(self, pattern: str) -> None:
        """Add the files matching one pattern (an explicit stack: any folder depth, no recursion)."""
        parts = pattern.split(os.sep)
        fixed = next((i for i, part in enumerate(parts) if has_magic(part)), len(parts))
        if fixed == len(parts):  # no wildcard: one path
            self._literal(pattern, last=True)
            return
        base = os.sep.join(parts[:fixed]) or (os.sep if pattern.startswith(os.sep) else os.curdir)
        if not os.path.isdir(base):
            self.missing.append(f"{base} (pattern {pattern})")
            return
        stack, seen = [(base, fixed)], set()
        while stack:
            folder, i = stack.pop()
            if parts[i] == "**":
                self._recursive(folder, parts, i, stack, seen)
            elif not has_magic(parts[i]):
                path = os.path.join(folder, parts[i])
                if self._literal(path, last=i == len(parts) - 1):
                    stack.append((path, i + 1))
            else:
                for entry, kind in self._entries(folder, parts[i]):
                    self._take(entry.path, kind, parts, i, stack)

    def _literal(self, path: str, last: bool) -> bool:
        """A segment without wildcards: a file found (``last``), or True when it is a folder to enter."""
        if last and os.path.isfile(path):
            self.files.add(path)
        elif os.path.lexists(path) and not os.path.exists(path):
            self.unreadable[path] = "dangling or looping symbolic link"
        elif last and os.path.exists(path) and not os.path.isdir(path):
            self.unreadable[path] = _NOT_A_FILE
        return not last and os.path.isdir(path)

    def _recursive(self, folder: str, parts: list[str], i: int, stack: list, seen: set) -> None:
        """``**``: this folder itself (zero folders), and every non-hidden folder below it."""
        last = i == len(parts) - 1
        if not last:
            stack.append((folder, i + 1))
        try:
            info = os.stat(folder)
        except OSError as exc:
            self.unreadable[folder] = exc.strerror or type(exc).__name__
            return
        if (info.st_dev, info.st_ino, i) in seen:  # reached again through a symlink
            return
        seen.add((info.st_dev, info.st_ino, i))
        for entry, kind in self._entries(folder, "*"):
            if kind == "dir":
                stack.append((entry.path, i))
            elif kind == "file" and last:
                self.files.add(entry.path)
            elif kind == "other" and last:
                self.unreadable[entry.path] = _NOT_A_FILE
            elif kind not in ("file", "other"):  # could be a folder of logs, or a log: cannot tell
                self.unreadable[entry.path] = kind

    def _take(self, path: str, kind: str, parts: list[str], i: int, stack: list) -> None:
        last = i == len(parts) - 1
        if kind == "file" and last:
            self.files.add(path)
        elif kind == "dir" and not last:
            stack.append((path, i + 1))
        elif kind == "other" and last:
            self.unreadable[path] = _NOT_A_FILE
        elif kind not in ("file", "dir", "other"):
            self.unreadable[path] = kind

    def _entries(self, folder: str, segment: str) -> list[tuple[os.DirEntry, str]]:
        """The folder's entries matching ``segment`` (hidden ones only if it asks), each with its kind:
        ``dir``, ``file``, ``other`` or, when it cannot be examined, the reason."""
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            self.unreadable[folder] = exc.strerror or type(exc).__name__
            return []
        return [(e, _kind(e)) for e in entries if segment_matches(e.name, segment)]


_NOT_A_FILE = "not a regular file (a FIFO, socket or device is not read)"


def _kind(entry: os.DirEntry) -> str:
    try:
        info = entry.stat()  # follows symlinks, like glob
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return "dir" if stat.S_ISDIR(info.st_mode) else "file" if stat.S_ISREG(info.st_mode) else "other"


class FileTooLarge(Exception):
    """Raised inside the reader when a file's decompressed size passes the cap."""


def iter_lines(
    path: str,
    on_broken: Callable[[str], None],
    max_line_bytes: int = WorkerLogsConfig.max_line_bytes,
    max_file_bytes: int = WorkerLogsConfig.max_file_bytes,
) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, raw line) from a plain or gzip file, in time linear in its size and bounded
    memory; a line longer than ``max_line_bytes`` comes as (number, None) and is never held whole.

    A gzip stream that ends early reports its partial tail as one broken line; more than
    ``max_file_bytes`` decompressed bytes raise :class:`FileTooLarge` after the lines before the cap.
    """
    with open(path, "rb") as fh:
        yield from stream_lines(fh, path, on_broken, max_line_bytes, max_file_bytes)


def stream_lines(
    fh: BinaryIO | ObjectReader,
    name: str,
    on_broken: Callable[[str], None],
    max_line_bytes: int = WorkerLogsConfig.max_line_bytes,
    max_file_bytes: int = WorkerLogsConfig.max_file_bytes,
) -> Iterator[tuple[int, bytes | None]]:
    """:func:`iter_lines` over any binary stream read forward only (a file, an object's body): gzip told by
    its first bytes, which are read once and never sought back to."""
    head = fh.read(_READ_SIZE)
    gzip = head[:2] == b"\x1f\x8b"
    chunks = _gunzip_chunks(fh, name, on_broken, head) if gzip else _plain_chunks(fh, head)
    yield from split_lines(chunks, max_line_bytes, max_file_bytes)


def _plain_chunks(fh: BinaryIO | ObjectReader, head: bytes) -> Iterator[bytes]:
    if head:
        yield head
    yield from iter(lambda: fh.read(_READ_SIZE), b"")


def split_lines(chunks: Iterable[bytes], max_line: int, max_total: int) -> Iterator[tuple[int, bytes | None]]:
    """Split chunks into numbered lines. The pieces of a line are kept in a list and joined once, when
    its newline arrives (never re-copied per chunk); past ``max_line`` they are dropped."""
    pieces: list[bytes] = []
    size, number, total, oversized = 0, 0, 0, False
    for chunk in chunks:
        total += len(chunk)
        if total > max_total:
            raise FileTooLarge(f"more than {max_total:,} bytes")
        *complete, rest = chunk.split(b"\n")
        for part in complete:
            number += 1
            too_long = oversized or size + len(part) > max_line
            yield number, None if too_long else (b"".join(pieces) + part if pieces else part)
            pieces, size, oversized = [], 0, False
        if not oversized and rest:
            size += len(rest)
            if size > max_line:
                pieces, oversized = [], True
            else:
                pieces.append(rest)
    if pieces or oversized:
        yield number + 1, None if oversized else b"".join(pieces)


def _gunzip_chunks(fh, path: str, on_broken: Callable[[str], None],  # noqa: ANN001
                   pending: bytes = b"") -> Iterator[bytes]:
    """Decompress in bounded pieces (``max_length``), so a highly compressed file cannot balloon; ``pending``:
    the bytes already read from ``fh``."""
    decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
    fresh = True  # no input fed to the current gzip member yet
    while True:
        if not pending:
            pending = fh.read(_READ_SIZE)
            if not pending:
                break
        try:
            fresh = False
            data = decomp.decompress(pending, _READ_SIZE)
            pending = decomp.unconsumed_tail
            if decomp.eof:  # concatenated gzip members
                pending = decomp.unused_data + pending
                decomp, fresh = zlib.decompressobj(zlib.MAX_WBITS | 16), True
        except zlib.error as exc:
            on_broken(f"{path}: corrupt gzip data ({exc})")
            return
        if data:
            yield data
    if not fresh and not decomp.eof:
        on_broken(f"{path}: gzip stream truncated")


def scan_logs(
    patterns: Iterable[str],
    matching: MatchingConfig,
    progress: Callable[[str], None] | None = None,
    options: WorkerLogsConfig | None = None,
) -> LogScan:
    """Read every matching log file and collect our two event kinds; what cannot be read is an error
    naming the pattern, folder or file, or (``options.optional``) a counted warning."""
    options = options or WorkerLogsConfig()
    patterns = list(patterns)
    tally = _Tally()
    failures: list[dict] = []
    replays: list[dict] = []
    found = locate_log_files(patterns, options.s3)
    problems = _problems(patterns, found, options)
    for path in found.files:
        tally.files += 1
        try:
            with found.open(path) as fh:
                _scan_file(path, fh, tally, failures, replays, options)
                if isinstance(fh, ObjectReader):
                    tally.objects.append(fh.record())
        except OSError as exc:
            reason = f"cannot read log file {path}: {exc.strerror or type(exc).__name__}"
            if not options.optional:
                raise SourceError(f"worker_logs.paths: {reason}") from exc
            tally.unreadable_files.append(path)
        if progress is not None:
            progress(path)
    return _build(found.files, tally, failures, replays, matching, problems, options)


def _problems(patterns: list[str], found: LogFiles, options: WorkerLogsConfig) -> list[DataIssue | None]:
    """Missing or unreadable folders and an empty match: errors, or with ``optional`` counted issues."""
    faults = [(f"folder not found: {m}", "missing_log_folder", m) for m in found.missing_folders]
    faults += [(f"cannot read {u}", "unreadable_log_path", u) for u in found.unreadable]
    if patterns and not found.files:
        faults.append((f"no log file matches {', '.join(patterns)}", "no_log_files", ", ".join(patterns)))
    if faults and not options.optional:
        raise SourceError(f"worker_logs.paths: {faults[0][0]} (set worker_logs.optional = true if logs may be missing)")
    effect = "skipped (worker_logs.optional = true); failure events there are not seen, so misses read as silent"
    return [issue("worker_logs", kind, "paths", [where], effect) for _, kind, where in faults]


def _scan_file(path: str, fh: BinaryIO | ObjectReader, tally: _Tally, failures: list[dict], replays: list[dict],
               options: WorkerLogsConfig) -> None:
    """One file, whatever its shape (:mod:`evidence_app.ingest.traces`): its invocations and their events."""
    truncated: list[str] = []
    tail_skipped = False
    lines = stream_lines(fh, path, truncated.append, options.max_line_bytes, options.max_file_bytes)
    names = (options.failure_event, options.replay_event)
    try:
        for number, value in records_in(_counted(lines, tally), options.max_line_bytes):
            where = f"{path}:{number}"
            tail_skipped = _scan_value(value, where, tally, failures, replays, names)
    except FileTooLarge:
        tally.cut_files.append(path)
    # A truncated gzip counts as one broken line: its cut-off tail, or the cut itself.
    if truncated and not tail_skipped:
        tally.skipped.append(truncated[0])


def _counted(lines: Iterator[tuple[int, bytes | None]], tally: _Tally) -> Iterator[tuple[int, bytes | None]]:
    for item in lines:
        tally.lines += 1
        yield item


def _scan_value(value: object, where: str, tally: _Tally, failures: list[dict], replays: list[dict],
                names: tuple[str, str]) -> bool:
    """One record (or a JSON array of them): its events collected; True when it was set aside."""
    if value == "oversized":
        tally.oversized.append(where)
        return True
    records = value if isinstance(value, list) else [value]
    if not records or not all(isinstance(r, dict) for r in records):
        tally.skipped.append(where)
        return True
    for record in records:
        trace = trace_record(record)
        if trace is None:
            tally.not_traces.append(where)
            continue
        inv = trace.invocation
        if inv.key in tally.seen:  # delivered again: counted once, with its events
            tally.duplicates.append(where)
            continue
        tally.seen.add(inv.key)
        tally.invocations.append((inv.started_ms, inv.script, inv.event_type, inv.method, inv.path, inv.ray_id,
                                  inv.outcome, inv.truncated))
        for entry in trace.entries:
            _scan_entry(entry, where, tally, failures, replays, names)
    return False


def _scan_entry(entry: Entry, where: str, tally: _Tally, failures: list[dict], replays: list[dict],
                names: tuple[str, str]) -> None:
    events, malformed = audit_events(entry, names)
    if malformed:
        tally.malformed.append(where)
    for event in events:
        event.setdefault("_logged_ms", entry.logged_ms)
        event["_where"] = where
        target = event.get("target")
        if isinstance(target, (dict, list)):  # logged as an object: the same canonical text as its JSON
            event["target"] = json.dumps(target, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        (failures if event["event"] == names[0] else replays).append(event)


def _build(
    files: list[str], tally: _Tally, failures: list[dict], replays: list[dict], matching: MatchingConfig,
    problems: list[DataIssue | None], options: WorkerLogsConfig,
) -> LogScan:
    fail_df, fail_issues = _failure_frame(failures, matching)
    replay_df, replay_issues = _replay_frame(replays)
    issues = [
        *problems,
        issue("worker_logs", "unreadable_log_file", "paths", tally.unreadable_files,
              "skipped (worker_logs.optional = true); failure events there are not seen"),
        issue("worker_logs", "log_file_over_size_cap", "", tally.cut_files,
              f"only the first {options.max_file_bytes:,} decompressed bytes were read (worker_logs.max_file_bytes); "
              "the rest of the file is skipped"),
        issue("worker_logs", "skipped_log_line", "", tally.skipped,
              "line could not be read as JSON; counted in skipped_log_lines"),
        issue("worker_logs", "oversized_log_line", "", tally.oversized,
              f"line longer than {options.max_line_bytes:,} bytes (worker_logs.max_line_bytes); skipped, counted in "
              "skipped_log_lines"),
        issue("worker_logs", "malformed_event", "Message", tally.malformed,
              "message names an audit event but is not one (not valid JSON, or not the console call's first "
              "argument, where a Worker puts its event: text beside it may come from a client); counted, not used"),
        issue("worker_logs", "not_a_trace_record", "", tally.not_traces,
              "a JSON object that is no Worker trace record (no logs, event time or outcome); not used"),
        issue("worker_logs", "duplicate_delivery", "", tally.duplicates,
              "an invocation delivered again (same Ray ID and time, or an identical record); counted once, "
              "with its events"),
        *fail_issues,
        *replay_issues,
    ]
    return LogScan(
        failures=fail_df,
        replays=replay_df,
        files=tuple(files),
        lines_read=tally.lines,
        skipped_log_lines=len(tally.skipped) + len(tally.oversized),
        issues=tuple(i for i in issues if i is not None),
        skipped_files=tuple(tally.unreadable_files + tally.cut_files),
        invocations=_invocation_frame(tally.invocations),
        duplicates_dropped=len(tally.duplicates),
        objects=tuple(tally.objects),
    )


INVOCATION_FIELDS = ("started_at", "script", "event_type", "method", "path", "ray_id", "outcome", "truncated")


def _invocation_frame(found: list[tuple]) -> pd.DataFrame:
    """Every invocation read (once each), in the order read; its start time in UTC."""
    columns = list(zip(*found)) if found else [()] * len(INVOCATION_FIELDS)
    frame = {name: as_text(pd.Series(list(values), dtype=object)) for name, values in zip(INVOCATION_FIELDS, columns)}
    frame["started_at"] = parse_timestamps(pd.Series(list(columns[0]), dtype=object))
    frame["truncated"] = pd.Series(list(columns[-1]), dtype=bool)
    return pd.DataFrame(frame)[list(INVOCATION_FIELDS)]


def _col(records: list[dict], key: str) -> pd.Series:
    return pd.Series([r.get(key) for r in records], dtype=object)


def _failure_frame(records: list[dict], matching: MatchingConfig) -> tuple[pd.DataFrame, list]:
    if not records:
        return pd.DataFrame({f: pd.Series(dtype=object) for f in FAILURE_FIELDS}), []
    logged_at = parse_timestamps(_col(records, "_logged_ms"))
    created = parse_timestamps(_col(records, "created_at"))
    operation = as_text(_col(records, "operation"))
    action = as_text(_col(records, "action"))
    from_op = as_text(operation.map(matching.action_for, na_action="ignore"))
    df = pd.DataFrame(
        {
            "failure_id": as_text(_col(records, "failure_id")),
            "created_at": created.where(created.notna(), logged_at),
            "logged_at": logged_at,
            "operation": operation,
            "action": action.where(action.notna(), from_op),
            "route": as_text(_col(records, "route")),
            "tenant": as_text(_col(records, "restaurant_id")),
            "operator": as_text(_col(records, "user_id")),
            "target": canonical_target(_col(records, "target")),
            "request_id": as_text(_col(records, "request_id")),
            "error": as_text(_col(records, "error")),
        }
    )
    where = _col(records, "_where")
    issues = [
        *blank_as_null("worker_logs", df, where),
        issue("worker_logs", "unparseable_timestamp", "created_at",
              where[created.isna() & _col(records, "created_at").notna()],
              "the log entry's own time was used instead"),
        issue("worker_logs", "missing_failure_id", "failure_id", where[df["failure_id"].isna()],
              "an id was derived from the log position; replay attempts cannot refer to it"),
    ]
    df["failure_id"] = df["failure_id"].where(df["failure_id"].notna(), "log:" + where)
    dup = df["failure_id"].duplicated()
    issues.append(issue("worker_logs", "duplicate_event", "failure_id", df.loc[dup, "failure_id"],
                        "the same failure logged again; counted once"))
    no_time = df["created_at"].isna()
    issues.append(issue("worker_logs", "unparseable_timestamp", "TimestampMs", where[no_time],
                        "failure event has no usable time; excluded"))
    df = df[~dup & ~no_time].reset_index(drop=True)
    return df[list(FAILURE_FIELDS)], issues


def _replay_frame(records: list[dict]) -> tuple[pd.DataFrame, list]:
    if not records:
        return pd.DataFrame({f: pd.Series(dtype=object) for f in REPLAY_FIELDS}), []
    outcome = as_text(_col(records, "outcome")).str.strip().str.lower()
    attempt = pd.to_numeric(_col(records, "attempt"), errors="coerce")
    df = pd.DataFrame(
        {
            "failure_id": as_text(_col(records, "failure_id")),
            "attempt": attempt,
            "outcome": outcome,
            "error": as_text(_col(records, "error")),
            "logged_at": parse_timestamps(_col(records, "_logged_ms")),
        }
    )
    where = _col(records, "_where")
    bad = df["failure_id"].isna() | ~df["outcome"].isin(REPLAY_OUTCOMES)
    issues = [
        issue("worker_logs", "malformed_event", "audit_log_replay", where[bad],
              "replay event without failure_id or with an unknown outcome; not used"),
    ]
    return df[~bad].reset_index(drop=True), issues
