"""Cloudflare Logpush ``workers_trace_events`` reader → failure and replay events, streamed.

Files are NDJSON, gzip or plain (told apart by their magic bytes, not their names). Each line
is one Worker invocation whose ``Logs[].Message[]`` strings may carry our JSON events. Broken
lines (invalid JSON, a truncated gzip tail) are counted as skipped and reading goes on.
"""

from __future__ import annotations

import glob
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pandas as pd

from evidence_app._text import as_text
from evidence_app.config import MatchingConfig
from evidence_app.ingest.canonical import (
    DataIssue,
    canonical_target,
    issue,
    parse_timestamps,
)

FAILURE_EVENT = "audit_log_insert_failed"
REPLAY_EVENT = "audit_log_replay"
_READ_SIZE = 1 << 16
FAILURE_FIELDS = (
    "failure_id", "created_at", "logged_at", "operation", "action", "route", "tenant",
    "operator", "target", "request_id", "error",
)
REPLAY_FIELDS = ("failure_id", "attempt", "outcome", "error", "logged_at")
REPLAY_OUTCOMES = ("inserted", "duplicate", "failed")


@dataclass
class _Tally:
    files: int = 0
    lines: int = 0
    skipped: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LogScan:
    """What the Worker logs hold: failure events, replay attempts, and what could not be read."""

    failures: pd.DataFrame
    replays: pd.DataFrame
    files: tuple[str, ...]
    lines_read: int
    skipped_log_lines: int
    issues: tuple[DataIssue, ...]


def find_log_files(patterns: Iterable[str]) -> list[str]:
    """Expand the configured globs (``**`` recursive) into a sorted, de-duplicated file list."""
    found: set[str] = set()
    for pattern in patterns:
        found.update(p for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    return sorted(found)


def iter_lines(path: str, on_broken: Callable[[str], None]) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw line) from a plain or gzip file, in bounded memory.

    A gzip stream that ends early reports its partial tail as one broken line.
    """
    with open(path, "rb") as fh:
        head = fh.read(2)
        fh.seek(0)
        chunks = _gunzip_chunks(fh, path, on_broken) if head == b"\x1f\x8b" else iter(
            lambda: fh.read(_READ_SIZE), b""
        )
        buf = b""
        number = 0
        for chunk in chunks:
            buf += chunk
            *complete, buf = buf.split(b"\n")
            for line in complete:
                number += 1
                yield number, line
        if buf:
            number += 1
            yield number, buf


def _gunzip_chunks(fh, path: str, on_broken: Callable[[str], None]) -> Iterator[bytes]:  # noqa: ANN001
    """Decompress in bounded pieces (``max_length``), so a highly compressed file cannot balloon."""
    decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
    fresh = True  # no input fed to the current gzip member yet
    pending = b""
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
) -> LogScan:
    """Read every matching log file and collect our two event kinds."""
    tally = _Tally()
    failures: list[dict] = []
    replays: list[dict] = []
    files = find_log_files(patterns)
    for path in files:
        tally.files += 1
        _scan_file(path, tally, failures, replays)
        if progress is not None:
            progress(path)
    return _build(files, tally, failures, replays, matching)


def _scan_file(path: str, tally: _Tally, failures: list[dict], replays: list[dict]) -> None:
    truncated: list[str] = []
    tail_skipped = False
    for number, raw in iter_lines(path, truncated.append):
        tally.lines += 1
        where = f"{path}:{number}"
        tail_skipped = False
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            tally.skipped.append(where)
            tail_skipped = True
            continue
        for entry in record.get("Logs") or []:
            if isinstance(entry, dict):
                _scan_entry(entry, where, tally, failures, replays)
    # A truncated gzip counts as one broken line: its cut-off tail, or the cut itself.
    if truncated and not tail_skipped:
        tally.skipped.append(truncated[0])


def _scan_entry(entry: dict, where: str, tally: _Tally, failures: list[dict], replays: list[dict]) -> None:
    logged_ms = entry.get("TimestampMs")
    for message in entry.get("Message") or []:
        event = _event(message)
        if event is None:
            if isinstance(message, str) and (FAILURE_EVENT in message or REPLAY_EVENT in message):
                tally.malformed.append(where)
            continue
        kind = event.get("event")
        event.setdefault("_logged_ms", logged_ms)
        event["_where"] = where
        if kind == FAILURE_EVENT:
            failures.append(event)
        elif kind == REPLAY_EVENT:
            replays.append(event)


def _event(message: object) -> dict | None:
    if isinstance(message, dict):
        data = message
    elif isinstance(message, str) and message.lstrip().startswith("{"):
        try:
            data = json.loads(message)
        except ValueError:
            return None
    else:
        return None
    if isinstance(data, dict) and data.get("event") in (FAILURE_EVENT, REPLAY_EVENT):
        return dict(data)
    return None


def _build(
    files: list[str], tally: _Tally, failures: list[dict], replays: list[dict], matching: MatchingConfig
) -> LogScan:
    fail_df, fail_issues = _failure_frame(failures, matching)
    replay_df, replay_issues = _replay_frame(replays)
    issues = [
        issue("worker_logs", "skipped_log_line", "", tally.skipped,
              "line could not be read as JSON; counted in skipped_log_lines"),
        issue("worker_logs", "malformed_event", "Message", tally.malformed,
              "message names an audit event but is not valid JSON; counted, not used"),
        *fail_issues,
        *replay_issues,
    ]
    return LogScan(
        failures=fail_df,
        replays=replay_df,
        files=tuple(files),
        lines_read=tally.lines,
        skipped_log_lines=len(tally.skipped),
        issues=tuple(i for i in issues if i is not None),
    )


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
