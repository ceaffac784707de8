"""The web app's own audit trail: an append-only, hash-chained SQLite log of who saw and exported what.

Each entry carries the SHA-256 of the previous entry's canonical serialisation (``prev_hash``) and its own
(``hash``, over every field including ``prev_hash``). A one-row ``head`` table holds the last entry's number
and hash; it advances in the same transaction as the append, so a deleted *last* entry is caught too (the
head names an entry the chain no longer has). Triggers refuse UPDATE and DELETE, an INSERT (also ``INSERT OR
REPLACE``) of an entry number that exists, a second head row, and any append that does not extend the head:
through SQLite, with the triggers in place, the log only grows. They do not stop someone who can write the
file: dropping the triggers and editing an entry is caught by ``verify``, which names the first entry that no
longer fits, but rewriting every entry from the edit onwards *and* the head (no secret key is involved) is not
detectable from inside the file. Record the head hash ``access-log verify`` prints somewhere else (a ticket, an
evidence pack) and check it later with ``access-log verify --expect-head HASH``. The file and its folder must
be private to the server's user (:mod:`evidence_app.privacy`), or the server does not start.

Every append is committed with ``synchronous=FULL`` before it returns, so what the app shows after an
action has already been recorded, and a killed server loses nothing it showed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from evidence_app.errors import AccessLogError, ConfigError
from evidence_app.privacy import not_private, unsafe_ancestor

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""
FORMAT = "evidence-app access log 1"
#: The fields the hash covers, in the order the export shows them.
HASHED = ("seq", "at", "session", "sub", "email", "role", "scope", "page", "action", "params", "prev_hash")

#: What the web app records (``action``).
ACTIONS = ("sign_in", "sign_in_denied", "sign_in_failed", "sign_out", "page_view", "filter_change", "link_refused",
           "csv_download", "pack_build", "pack_download", "pack_verify", "access_log_export")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('format', '{FORMAT}');
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, session TEXT, sub TEXT, email TEXT, role TEXT,
    scope TEXT NOT NULL, page TEXT, action TEXT NOT NULL, params TEXT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
INSERT INTO head SELECT 1, 0, '{GENESIS}' WHERE NOT EXISTS (SELECT 1 FROM head);
CREATE TRIGGER IF NOT EXISTS entries_append_only_update BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_append_only_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_extend_head BEFORE INSERT ON entries
    WHEN NEW.seq IS NOT (SELECT seq + 1 FROM head) OR NEW.prev_hash IS NOT (SELECT hash FROM head)
    BEGIN SELECT RAISE(ABORT, 'an access-log entry must extend the head'); END;
CREATE TRIGGER IF NOT EXISTS head_only_advances BEFORE UPDATE ON head
    WHEN NEW.seq IS NOT OLD.seq + 1 OR NEW.hash IS NOT (SELECT hash FROM entries WHERE seq = NEW.seq)
    BEGIN SELECT RAISE(ABORT, 'the access-log head only advances to the newest entry'); END;
CREATE TRIGGER IF NOT EXISTS head_kept BEFORE DELETE ON head
    BEGIN SELECT RAISE(ABORT, 'the access-log head cannot be removed'); END;
CREATE TRIGGER IF NOT EXISTS entries_never_replaced BEFORE INSERT ON entries
    WHEN EXISTS (SELECT 1 FROM entries WHERE seq = NEW.seq)
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only: an entry cannot be replaced'); END;
CREATE TRIGGER IF NOT EXISTS head_never_replaced BEFORE INSERT ON head
    WHEN EXISTS (SELECT 1 FROM head)
    BEGIN SELECT RAISE(ABORT, 'the access-log head only advances to the newest entry'); END;
"""
# INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers; a BEFORE INSERT trigger fires
# before that deletion, so the two above close REPLACE (on the head, it would let the last entry be rewritten).


@dataclass(frozen=True)
class Entry:
    """One recorded action."""

    seq: int
    """1, 2, 3, … without gaps."""
    at: str
    """When, ISO-8601 UTC with microseconds."""
    session: str | None
    """The browser session (random per Streamlit session), to group one visit's entries."""
    sub: str | None
    """The IdP subject; None for an anonymous visitor."""
    email: str | None
    role: str | None
    """auditor | engineer | admin; None when refused or anonymous."""
    scope: dict
    """The user's bound: ``{"tenants": [...], "period": [first, last]}``, only the limited sides."""
    page: str | None
    action: str
    """One of ACTIONS."""
    params: dict
    """What the action concerned: period, filters, file names, pack id, verdicts."""
    prev_hash: str
    """SHA-256 of the previous entry (GENESIS for the first)."""
    hash: str
    """SHA-256 of this entry's canonical serialisation (every field above)."""

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found."""

    ok: bool
    entries: int
    """Entries read."""
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    """The first entry that does not fit (changed, missing or inserted); None when intact."""
    reason: str = ""


def canonical(fields: dict[str, Any]) -> bytes:
    """The bytes an entry's hash is taken over: sorted keys, no whitespace, UTF-8."""
    return json.dumps({k: fields[k] for k in HASHED}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def entry_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class AccessLog:
    """The log file; every method opens its own connection, so Streamlit's threads can share one instance."""

    path: Path
    clock: Callable[[], datetime] = field(default=_now)

    def create(self) -> None:
        """Make the file (private to this user) and its tables if they are missing; a file or folder that is not
        private to this user (another user's, open to others, a symbolic link) is refused."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._check_private(folder_only=True)
        if not self.path.exists():
            try:
                os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                pass
            except OSError as exc:
                raise ConfigError(f"access.log: cannot create {self.path}: {exc.strerror}") from exc
        self._check_private()
        with self._connect("rwc") as db:
            db.executescript(_SCHEMA)

    def _check_private(self, folder_only: bool = False) -> None:
        """ConfigError naming the file or folder that another user could plant, read or empty."""
        problem = unsafe_ancestor(self.path.parent)
        if problem:
            raise ConfigError(f"access.log: {problem}: another user could put their own folder in place of "
                              f"{self.path.parent}; every folder above the access log must be writable only by "
                              "the user running the server (or sticky, like /tmp)")
        for path in (self.path.parent,) if folder_only else (self.path.parent, self.path):
            try:
                problem = not_private(path)
            except OSError as exc:
                problem = f"cannot be examined ({exc.strerror})"
            if problem:
                raise ConfigError(f"access.log: {path} {problem}: the access log and its folder must be private "
                                  "to the user running the server (owned by it, not writable by group or others, "
                                  "not a symbolic link)")

    def append(self, action: str, *, session: str | None = None, sub: str | None = None, email: str | None = None,
               role: str | None = None, scope: dict | None = None, page: str | None = None,
               params: dict | None = None) -> Entry:
        """Record one action; returns once it is committed to disk."""
        if action not in ACTIONS:
            raise ValueError(f"unknown access-log action {action!r}")
        at = self.clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        fields = dict(at=at, session=session, sub=sub, email=email, role=role, scope=_plain(scope or {}),
                      page=page, action=action, params=_plain(params or {}))
        try:
            return self._commit(fields)
        except sqlite3.Error as exc:
            raise AccessLogError(f"access log {self.path}: could not record {action}: {exc}") from exc

    def _commit(self, fields: dict[str, Any]) -> Entry:
        """One immediate transaction: read the head, insert the entry, advance the head, commit (fsync)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                seq, prev = db.execute("SELECT seq, hash FROM head WHERE id = 1").fetchone()
                fields.update(seq=seq + 1, prev_hash=prev)
                digest = entry_hash(fields)
                db.execute("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                           (*(fields[k] if k not in ("scope", "params") else _dump(fields[k]) for k in HASHED),
                            digest))
                db.execute("UPDATE head SET seq = ?, hash = ? WHERE id = 1", (fields["seq"], digest))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return Entry(**fields, hash=digest)

    def entries(self, start: date | None = None, end: date | None = None) -> list[Entry]:
        """Entries whose time falls on the inclusive UTC days ``start`` – ``end``, oldest first."""
        return [e for e in self._read() if _within(e.at, start, end)]

    def verify(self, expect_head: str | None = None) -> Verdict:
        """Walk the chain from the first entry; stop at the first that does not fit. Head and entries are read
        in one read transaction, so an append while verifying is never mistaken for tampering. With
        ``expect_head`` (a head hash recorded elsewhere earlier) the chain must still hold that entry."""
        if not self.path.is_file():
            raise AccessLogError(f"access log not found: {self.path} (serve creates it; was it removed?)")
        (head_seq, head_hash), rows = self._snapshot()
        expected_seq, expected_prev, count, anchored = 1, GENESIS, 0, expect_head in (None, GENESIS)
        for entry in (_entry(row, strict=False) for row in rows):
            count += 1
            problem = _misfit(entry, expected_seq, expected_prev)
            if problem:
                return Verdict(False, count, head_seq, head_hash, problem[0], problem[1])
            expected_seq, expected_prev = entry.seq + 1, entry.hash
            anchored = anchored or entry.hash == expect_head
        last = expected_seq - 1
        if head_seq > last:
            return Verdict(False, count, head_seq, head_hash, last + 1,
                           f"entry {last + 1} is missing: the log's head records {head_seq} entries, "
                           f"the chain ends at entry {last}")
        if head_seq < last or head_hash != expected_prev:
            return Verdict(False, count, head_seq, head_hash, head_seq + 1 if head_seq < last else head_seq,
                           f"the log's head (entry {head_seq}, {head_hash[:12]}…) does not match the chain's end "
                           f"(entry {last}): entries were inserted or the head was altered")
        if not anchored:
            return Verdict(False, count, head_seq, head_hash, None,
                           f"the head recorded elsewhere ({expect_head}) is not in the chain: the log was rewritten "
                           "or cut back since it was recorded")
        return Verdict(True, count, head_seq, head_hash)

    # ------------------------------------------------------------------ reading

    def _connect(self, mode: str = "rw") -> closing[sqlite3.Connection]:
        """A connection that never creates the file by accident (a removed log stays missing, and fails);
        readers open it read-only."""
        uri = f"{self.path.resolve().as_uri()}?mode={mode}"
        try:
            db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
            db.execute("PRAGMA synchronous = FULL")
        except _UNREADABLE as exc:
            raise AccessLogError(f"access log {self.path}: {exc}") from exc
        return closing(db)

    def _snapshot(self) -> tuple[tuple[int, str], list[tuple]]:
        """The head and every entry's row, read in one read transaction (one consistent state of the file)."""
        try:
            with self._connect("ro") as db:
                db.execute("BEGIN")
                head = db.execute("SELECT seq, hash FROM head WHERE id = 1").fetchone()
                rows = db.execute(f"SELECT {', '.join(HASHED)}, hash FROM entries ORDER BY seq").fetchall()
                db.execute("COMMIT")
        except _UNREADABLE as exc:
            raise AccessLogError(f"{self.path} is not an evidence-app access log: {exc}") from exc
        if head is None:
            raise AccessLogError(f"access log {self.path}: its head is gone (the log was tampered with)")
        return (int(head[0]), str(head[1])), rows

    def _read(self) -> Iterator[Entry]:
        if not self.path.is_file():
            raise AccessLogError(f"access log not found: {self.path}")
        try:
            with self._connect("ro") as db:
                rows = db.execute(f"SELECT {', '.join(HASHED)}, hash FROM entries ORDER BY seq").fetchall()
        except _UNREADABLE as exc:
            raise AccessLogError(f"{self.path} is not an evidence-app access log: {exc}") from exc
        for row in rows:
            yield _entry(row, strict=True)


#: What a damaged file can raise while it is opened or read (bad pages, text that is not UTF-8).
_UNREADABLE = (sqlite3.Error, UnicodeError, ValueError, TypeError)


class _Unreadable(dict):
    """A scope/params value that is not valid JSON any more: kept as text so verify can name the entry."""


def _entry(row: tuple, strict: bool) -> Entry:
    values = dict(zip(HASHED + ("hash",), row))
    for key in ("scope", "params"):
        try:
            values[key] = json.loads(values[key])
        except (TypeError, ValueError) as exc:
            if strict:
                raise AccessLogError(f"access-log entry {values['seq']}: {key} is not JSON (tampered?)") from exc
            values[key] = _Unreadable(text=str(values[key]))
    return Entry(**values)


def _misfit(entry: Entry, expected_seq: int, expected_prev: str) -> tuple[int, str] | None:
    """Why an entry breaks the chain (first reason only), or None."""
    if entry.seq > expected_seq:
        return expected_seq, (f"entry {expected_seq} is missing: the chain jumps from entry {expected_seq - 1} "
                              f"to entry {entry.seq}")
    if entry.seq != expected_seq:
        return entry.seq, f"entry {entry.seq} is out of sequence (expected entry {expected_seq})"
    if isinstance(entry.scope, _Unreadable) or isinstance(entry.params, _Unreadable) or \
            entry_hash(entry.as_json()) != entry.hash:
        return entry.seq, f"entry {entry.seq} was changed: its content no longer matches its SHA-256"
    if entry.prev_hash != expected_prev:
        return entry.seq, (f"entry {entry.seq} does not follow entry {entry.seq - 1}: its previous-entry hash "
                           "differs (an entry before it was changed, removed or inserted)")
    return None


def _within(at: str, start: date | None, end: date | None) -> bool:
    day = at[:10]
    return (start is None or day >= start.isoformat()) and (end is None or day <= end.isoformat())


def _plain(value: Any) -> Any:
    """JSON-safe copy (tuples → lists, dates → ISO text), so the stored and the hashed value are the same."""
    return json.loads(_dump(value))


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
