"""`wrangler d1 export` dumps → a private in-memory SQLite, loaded as data, never run as a program.

A dump is split into statements in one linear pass (SQLite's own rules for quotes, comments and
trigger bodies). Each statement must have a shape a wrangler export writes (``PRAGMA
defer_foreign_keys``/``foreign_keys``, ``BEGIN``/``COMMIT``, ``CREATE TABLE``/``INDEX``/``TRIGGER``/
``VIEW``, ``INSERT INTO … VALUES``, ``DELETE FROM sqlite_sequence``, ``ANALYZE``), and SQLite's
authorizer admits, per shape, only the actions that shape needs. So while loading nothing attaches
or creates a file (ATTACH is also limited to zero databases), vacuums into one, loads an extension,
touches the temp schema, runs a trigger or a view, or reads one table into another; the first
statement outside that refuses the whole dump, naming the statement and its line. After loading,
the connection is ``query_only`` and its authorizer admits reads only.

Every value an INSERT holds is a literal — NULL, a number, ``'text'``, ``X'hex'`` — or what wrangler writes
for text with line breaks, ``replace('…\n…','\n',char(10))`` (nested for ``\r``); any other expression or
function call refuses the dump, so a few bytes of dump cannot become gigabytes of rows. Limits bound one
statement, one value and the whole in-memory database (``MAX_STORE_BYTES``, SQLite's ``max_page_count``; for a
small dump less, in proportion to its size, since the schema's DEFAULT and generated-column expressions and its
indexes also build bytes at INSERT time: :func:`store_cap`), and
loading and every read run against a clock (``LOAD_SECONDS``, ``READ_SECONDS``): a view standing in for a
source table over a cross join is stopped, not read forever. Each limit, when reached, is named in one line.

Decided explicitly: triggers and views are kept (wrangler exports them, after the data) but never
run while loading; at read time a view is data the dump defines, like its rows; recursive queries
are refused at read time too (our own SELECTs never recurse), so a view cannot loop forever.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from evidence_app.errors import SourceError

MAX_STATEMENT_BYTES = 64 * 1024 * 1024
"""Longest statement a dump may hold (a D1 row is at most 2 MB; hex and quoting at most double it)."""
MAX_VALUE_BYTES = 16 * 1024 * 1024
"""Longest text value, or value built by replace() (SQLite's SQLITE_LIMIT_LENGTH on the private connection; SQLite
does not apply it to an ``X'…'`` literal, which ``MAX_STATEMENT_BYTES`` bounds)."""
MAX_STORE_BYTES = 4 * 1024**3
"""Memory cap: the most the private in-memory database may hold, rows and indexes (a D1 database holds at most
10 GB; an audit or operations table past this belongs in a database server, read by URL)."""
STORE_PER_DUMP_BYTE = 16
"""Memory cap relative to the dump: at most this many bytes of database per byte of dump (plus ``STORE_BASE_BYTES``).
The schema's own expressions (a ``DEFAULT (zeroblob(…))``, a stored generated column) and many indexes on one long
value run outside the literal-values check; without this a few hundred bytes of dump would fill ``MAX_STORE_BYTES``."""
STORE_BASE_BYTES = 64 * 1024 * 1024
"""What any dump may use whatever its size (pages, schema, small indexes)."""
LOAD_SECONDS = 900.0
"""Time limit for loading a dump, all its statements together (the most any dump gets: see ``load_limit``)."""
LOAD_BASE_SECONDS = 60.0
LOAD_BYTES_PER_SECOND = 1024 * 1024
"""A dump's own load limit: ``LOAD_BASE_SECONDS`` plus a second per MiB of dump, at most ``LOAD_SECONDS`` — a schema
whose CHECK or DEFAULT expressions burn CPU at every row cannot hold the loader longer than its size warrants."""
READ_SECONDS = 900.0
"""Time limit for one read of the loaded dump (a SELECT, from its start to its last row)."""
_PROGRESS_STEPS = 10_000
"""SQLite virtual-machine steps between two looks at the clock."""

STATEMENT_PIECE = re.compile(
    r"""(?: [^;'"`\[\-/]++              # ordinary text
          | '[^']*+(?:''[^']*+)*+'       # 'string' ('' is a quote inside)
          | "[^"]*+(?:""[^"]*+)*+"       # "identifier"
          | `[^`]*+(?:``[^`]*+)*+`       # `identifier`
          | \[[^\]]*+\]                  # [identifier]
          | --[^\n]*+                    # -- comment
          | /\*(?s:.)*?\*/               # /* comment */
          | [-/]                         # a lone - or /
        )*+;""",
    re.X,
)
"""Text up to and including the next semicolon that is not inside a string, identifier or comment."""
_GAP = r"(?:\s++|--[^\n]*+|/\*(?s:.)*?\*/)*+"
_LEAD = re.compile(r"(?:\s++|;++|--[^\n]*+|/\*(?s:.)*?\*/)*+")
"""Whitespace, comments and empty statements before a statement: skipped in one match however many."""
_TRIGGER = re.compile(r"CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TRIGGER\b", re.I)
_TRIGGER_END = re.compile(_GAP + r"END" + _GAP + r";", re.I)
"""A trigger body ends where ``END ;`` follows a semicolon (sqlite3_complete's rule)."""

_IDENT = r"""(?:"[^"]*+(?:""[^"]*+)*+"|`[^`]*+(?:``[^`]*+)*+`|\[[^\]]*+\]|[A-Za-z_][\w$]*+)"""
_STRING = r"'[^']*+(?:''[^']*+)*+'"
_LITERAL = _STRING + r"""|[xX]'(?:[0-9a-fA-F]{2})*+'|[-+]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][-+]?\d++)?|NULL\b"""


def _replaced(inner: str) -> str:
    """wrangler's spelling of a line break inside text: ``replace(<inner>,'\n',char(10))``."""
    return rf"replace\(\s*(?:{inner})\s*,\s*{_STRING}\s*,\s*char\(\s*\d{{1,3}}\s*\)\s*\)"


_VALUE = _LITERAL
for _ in range(3):  # wrangler nests one replace per kind of line break (\r, then \n)
    _VALUE = f"{_LITERAL}|{_replaced(_VALUE)}"
_ROW = rf"\(\s*(?:{_VALUE})(?:\s*,\s*(?:{_VALUE}))*+\s*\)"
_LITERAL_INSERT = re.compile(
    rf"INSERT\s+INTO\s+{_IDENT}\s*(?:\(\s*{_IDENT}(?:\s*,\s*{_IDENT})*+\s*\)\s*)?"
    rf"VALUES\s*{_ROW}\s*;?\s*", re.I)
"""One row whose every value is a literal or wrangler's replace(…, char(N)) of one: the only INSERT a dump holds."""
_VALUE_FUNCTIONS = frozenset({"replace", "char"})
"""The only functions an INSERT of a dump may call (wrangler's spelling of line breaks)."""

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.I | re.S))
    for kind, pattern in (
        ("pragma", r"PRAGMA\s"),
        ("transaction", r"(?:BEGIN(?:\s+(?:DEFERRED|IMMEDIATE|EXCLUSIVE))?|COMMIT|END)(?:\s+TRANSACTION)?\s*;?\s*\Z"),
        ("create_table", r"CREATE\s+TABLE\s"),
        ("create_index", r"CREATE\s+(?:UNIQUE\s+)?INDEX\s"),
        ("create_trigger", r"CREATE\s+TRIGGER\s"),
        ("create_view", r"CREATE\s+VIEW\s"),
        ("insert", r"INSERT\s+INTO\s"),
        ("delete_sequence", r"DELETE\s+FROM\s+(?:sqlite_sequence|\"sqlite_sequence\")\s*;?\s*\Z"),
        ("analyze", r"ANALYZE\b"),
    )
)
"""Every statement shape a wrangler export (or sqlite3's .dump) writes; anything else is refused."""

A = sqlite3
_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema"})
_LOAD_ACTIONS: dict[str, frozenset[int]] = {
    "pragma": frozenset({A.SQLITE_PRAGMA}),
    "transaction": frozenset({A.SQLITE_TRANSACTION}),
    "create_table": frozenset({A.SQLITE_CREATE_TABLE, A.SQLITE_INSERT, A.SQLITE_UPDATE, A.SQLITE_READ,
                               A.SQLITE_FUNCTION}),
    "create_index": frozenset({A.SQLITE_CREATE_INDEX, A.SQLITE_INSERT, A.SQLITE_UPDATE, A.SQLITE_READ,
                               A.SQLITE_REINDEX, A.SQLITE_FUNCTION}),
    "create_trigger": frozenset({A.SQLITE_CREATE_TRIGGER, A.SQLITE_INSERT, A.SQLITE_UPDATE, A.SQLITE_READ}),
    "create_view": frozenset({A.SQLITE_CREATE_VIEW, A.SQLITE_INSERT, A.SQLITE_UPDATE, A.SQLITE_READ}),
    "insert": frozenset({A.SQLITE_INSERT, A.SQLITE_FUNCTION}),
    "delete_sequence": frozenset({A.SQLITE_DELETE}),
    "analyze": frozenset({A.SQLITE_ANALYZE, A.SQLITE_CREATE_TABLE, A.SQLITE_INSERT, A.SQLITE_UPDATE,
                          A.SQLITE_READ, A.SQLITE_SELECT}),
}
"""Per statement shape, the authorizer actions it may need; every other action is denied."""
_PRAGMAS = frozenset({"defer_foreign_keys", "foreign_keys"})
_SCHEMA_PRAGMAS = frozenset({"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
                             "foreign_key_list"})
"""The PRAGMAs SQLAlchemy's inspector reads a table's columns with (their argument names a table)."""
_SETTING_PRAGMAS = frozenset({"read_uncommitted", "query_only"})
"""Settings the driver may read (never set) after loading."""
_DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"})
"""Functions that reach files or code (most are absent from Python's SQLite; denied wherever they exist)."""
_READ_ACTIONS = frozenset({A.SQLITE_SELECT, A.SQLITE_READ, A.SQLITE_FUNCTION, A.SQLITE_PRAGMA, A.SQLITE_TRANSACTION})
_ACTION_NAMES = {getattr(A, n): n[len("SQLITE_"):] for n in (
    "SQLITE_CREATE_INDEX", "SQLITE_CREATE_TABLE", "SQLITE_CREATE_TEMP_INDEX", "SQLITE_CREATE_TEMP_TABLE",
    "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_CREATE_TEMP_VIEW", "SQLITE_CREATE_TRIGGER", "SQLITE_CREATE_VIEW",
    "SQLITE_DELETE", "SQLITE_DROP_INDEX", "SQLITE_DROP_TABLE", "SQLITE_DROP_TEMP_INDEX", "SQLITE_DROP_TEMP_TABLE",
    "SQLITE_DROP_TEMP_TRIGGER", "SQLITE_DROP_TEMP_VIEW", "SQLITE_DROP_TRIGGER", "SQLITE_DROP_VIEW", "SQLITE_INSERT",
    "SQLITE_PRAGMA", "SQLITE_READ", "SQLITE_SELECT", "SQLITE_TRANSACTION", "SQLITE_UPDATE", "SQLITE_ATTACH",
    "SQLITE_DETACH", "SQLITE_ALTER_TABLE", "SQLITE_REINDEX", "SQLITE_ANALYZE", "SQLITE_CREATE_VTABLE",
    "SQLITE_DROP_VTABLE", "SQLITE_FUNCTION", "SQLITE_SAVEPOINT", "SQLITE_RECURSIVE")}


@dataclass(frozen=True)
class Statement:
    """One statement of a dump, as written."""

    line: int
    """1-based line of the dump where the statement's first keyword stands."""
    text: str
    """The statement, from its first keyword to its semicolon (or the end of the dump)."""

    def excerpt(self, width: int = 80) -> str:
        """The statement on one line, shortened: for messages."""
        flat = " ".join(self.text[: width * 4].split())
        return flat if len(flat) <= width else flat[: width - 1] + "…"


class DumpRefused(Exception):
    """A dump statement that is not data; the message names the statement and why."""

    def __init__(self, statement: Statement, reason: str) -> None:
        super().__init__(f"line {statement.line}: refused {statement.excerpt()!r}: {reason}")
        self.statement = statement


def split_statements(script: str) -> Iterator[Statement]:
    """The dump's statements in order, in one linear pass (empty statements skipped)."""
    pos, line, counted = 0, 1, 0
    while pos < len(script):
        start = _LEAD.match(script, pos).end()
        end = _statement_end(script, start)
        if start < end and script[start] != ";":
            line += script.count("\n", counted, start)
            counted = start
            yield Statement(line, script[start:end])
        pos = end


def _statement_end(script: str, start: int) -> int:
    """Where the statement starting at ``start`` ends: after its semicolon (a trigger's body holds
    semicolons of its own and ends at ``; END ;``), or at the end of the dump."""
    piece = STATEMENT_PIECE.match(script, start)
    end = piece.end() if piece else len(script)
    if not _TRIGGER.match(script, start):
        return end
    while (piece is not None and not _TRIGGER_END.fullmatch(script, piece.start(), end)
           and end - start <= MAX_STATEMENT_BYTES):
        piece = STATEMENT_PIECE.match(script, end)
        end = piece.end() if piece else len(script)
    return end


def shape_of(statement: Statement) -> str | None:
    """Which wrangler-export statement shape this is, or None when a dump never holds it."""
    for kind, pattern in _SHAPES:
        if pattern.match(statement.text):
            return kind
    return None


_LAST_DENIAL = threading.local()


def last_denial() -> str | None:
    """Why this thread's last statement on a dump connection was denied (SQLite itself only says
    "not authorized"): for the message that reports a refused read."""
    return getattr(_LAST_DENIAL, "reason", None)


class _Policy:
    """The authorizer: during loading it admits the current shape's actions; afterwards reads only."""

    def __init__(self) -> None:
        self.shape: str | None = None
        """The shape being executed; None once loading is over (read-only phase)."""
        self.denied: str | None = None
        """Why the last action was denied, in words."""

    def __call__(self, action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
        reason = self._reason(action, arg1, arg2, db, source)
        if reason is None:
            return sqlite3.SQLITE_OK
        self.denied = _LAST_DENIAL.reason = reason
        return sqlite3.SQLITE_DENY

    def _reason(self, action: int, arg1: str | None, arg2: str | None, db: str | None,
                source: str | None) -> str | None:
        what = _describe(action, arg1, arg2)
        if action == A.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
            return f"{what} reaches files or code"
        if action == A.SQLITE_FUNCTION and self.shape == "insert" and (arg2 or "").lower() not in _VALUE_FUNCTIONS:
            return f"{what} in a value: a dump's values are literals"
        if self.shape is None:  # reading: the temp schema is empty and nothing else can be attached
            return _read_reason(action, arg1, arg2, what)
        if db not in (None, "main"):
            return f"{what} touches schema {db!r}: only the dump's own main database may be used"
        if source is not None:
            return f"{what} comes from trigger or view {source!r}: nothing in a dump runs while loading"
        if (action == A.SQLITE_CREATE_INDEX and self.shape == "create_table"
                and (arg1 or "").startswith("sqlite_autoindex_")):
            return None  # the index SQLite itself makes for a TEXT or composite PRIMARY KEY or a UNIQUE column
        if action not in _LOAD_ACTIONS[self.shape]:
            return f"{what} is not something a wrangler export does"
        if action == A.SQLITE_PRAGMA and (arg1 or "").lower() not in _PRAGMAS:
            return f"{what}: a wrangler export sets only {', '.join(sorted(_PRAGMAS))}"
        if action == A.SQLITE_DELETE and arg1 != "sqlite_sequence":
            return f"{what}: a wrangler export deletes only from sqlite_sequence"
        if action in (A.SQLITE_INSERT, A.SQLITE_UPDATE) and self.shape == "insert" and arg1 in _SCHEMA_TABLES:
            return f"{what}: the schema table is not data"
        return None


def _read_reason(action: int, arg1: str | None, arg2: str | None, what: str) -> str | None:
    """After loading: reads, the schema PRAGMAs SQLAlchemy's inspector uses, no recursion."""
    if action not in _READ_ACTIONS:
        return f"{what} after loading: the dump is read-only"
    name = (arg1 or "").lower()
    if action == A.SQLITE_PRAGMA and not (name in _SCHEMA_PRAGMAS or (name in _SETTING_PRAGMAS and arg2 is None)):
        return f"{what} after loading: the dump is read-only"
    return None


def _describe(action: int, arg1: str | None, arg2: str | None) -> str:
    name = _ACTION_NAMES.get(action, f"action {action}").replace("_", " ")
    if action == A.SQLITE_FUNCTION:
        return f"function {arg2}()"
    if action == A.SQLITE_PRAGMA:
        return f"PRAGMA {arg1}" + (f"={arg2}" if arg2 is not None else "")
    return f"{name} {arg1}" if arg1 else name


class _Clock:
    """The time limits: SQLite's progress handler asks it every few thousand steps whether to stop."""

    def __init__(self) -> None:
        self.loading = False
        """True while the dump is loaded (one clock for all its statements); reads each start their own."""
        self.deadline = float("inf")
        """When the running work must stop (``time.monotonic()``)."""
        self.passed = False
        """Whether the deadline stopped the last piece of work."""

    load_seconds = LOAD_SECONDS
    """This dump's load limit (:func:`load_limit`)."""

    def start(self) -> None:
        self.deadline, self.passed = time.monotonic() + (self.load_seconds if self.loading else READ_SECONDS), False

    def limit(self) -> str:
        """The limit in force, in words, for the one line that reports it."""
        if self.loading:
            return f"loading the dump took longer than its {self.load_seconds:g}-second time limit"
        return f"a read of the dump took longer than its {READ_SECONDS:g}-second time limit"

    def __call__(self) -> int:
        if time.monotonic() > self.deadline:
            self.passed = True
            _LAST_DENIAL.reason = f"stopped: {self.limit()}"
            return 1  # SQLite interrupts the statement
        return 0


class _DumpCursor(sqlite3.Cursor):
    """Every read starts the read clock: a view over a cross join stops after ``READ_SECONDS``."""

    def execute(self, sql: str, parameters=(), /):  # noqa: ANN001, ANN201 - the DB-API signature
        clock = _clock(self.connection)
        if not clock.loading:
            clock.start()
        return super().execute(sql, parameters)


class _DumpConnection(sqlite3.Connection):
    """The private connection: its cursors run against the clock."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - sqlite3.connect's arguments
        self.clock = _Clock()
        self.store_cap = MAX_STORE_BYTES
        """The memory cap in force (``MAX_STORE_BYTES``, or less for a small dump: :func:`store_cap`)."""
        super().__init__(*args, **kwargs)

    def cursor(self, factory=_DumpCursor):  # noqa: ANN001, ANN201 - sqlite3's signature
        return super().cursor(factory)

    def execute(self, sql: str, parameters=(), /):  # noqa: ANN001, ANN201
        return self.cursor().execute(sql, parameters)


def _clock(conn: sqlite3.Connection) -> _Clock:
    return conn.clock  # type: ignore[attr-defined]


def private_connection() -> tuple[sqlite3.Connection, _Policy]:
    """A fresh in-memory SQLite that can attach nothing and hold at most ``MAX_STORE_BYTES``, with the dump
    policy as its authorizer and a clock that stops any statement past its time limit."""
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None, factory=_DumpConnection)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_STATEMENT_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    _cap_store(conn, MAX_STORE_BYTES)
    if hasattr(conn, "enable_load_extension"):  # absent when SQLite was built without it
        conn.enable_load_extension(False)
    conn.set_progress_handler(_clock(conn), _PROGRESS_STEPS)
    policy = _Policy()
    conn._policy = policy  # type: ignore[attr-defined]
    conn.set_authorizer(policy)
    return conn, policy


def store_cap(dump_bytes: int) -> int:
    """The memory cap for a dump of this many bytes: ``STORE_PER_DUMP_BYTE`` × its size plus ``STORE_BASE_BYTES``,
    never more than ``MAX_STORE_BYTES``."""
    return min(MAX_STORE_BYTES, STORE_BASE_BYTES + STORE_PER_DUMP_BYTE * dump_bytes)


def _cap_store(conn: sqlite3.Connection, cap: int) -> None:
    """SQLite's ``max_page_count`` for ``cap`` bytes (set with the authorizer out of the way)."""
    conn.set_authorizer(None)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {max(1, cap // page_size)}")
        conn.store_cap = cap  # type: ignore[attr-defined]
    finally:
        conn.set_authorizer(getattr(conn, "_policy", None))


def _failure(conn: sqlite3.Connection, policy: _Policy, exc: BaseException) -> str:
    """Why a statement failed, in words: the limit it reached, the policy's reason, or SQLite's own."""
    clock = _clock(conn)
    if clock.passed:
        return f"stopped: {clock.limit()}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "full" in first:  # SQLITE_FULL: max_page_count reached
        cap = getattr(conn, "store_cap", MAX_STORE_BYTES)
        if cap < MAX_STORE_BYTES:
            return (f"stopped: the dump needs more than the {cap:,}-byte memory cap for a dump of its size "
                    f"({STORE_PER_DUMP_BYTE}× its bytes plus {STORE_BASE_BYTES:,}; at most {MAX_STORE_BYTES:,})")
        return f"stopped: the dump needs more than the {MAX_STORE_BYTES:,}-byte memory cap for D1 dumps"
    return policy.denied or first


def load_limit(dump_bytes: int) -> float:
    """Seconds a dump of this size may take to load: ``LOAD_BASE_SECONDS`` + 1 s per MiB, at most ``LOAD_SECONDS``."""
    return min(LOAD_SECONDS, LOAD_BASE_SECONDS + dump_bytes / LOAD_BYTES_PER_SECOND)


_INSERT = re.compile(r"INSERT\s+INTO\s", re.IGNORECASE)
"""A statement that writes a row (skipped when only the schema is loaded)."""


def execute_dump(conn: sqlite3.Connection, policy: _Policy, script: str, data: bool = True) -> None:
    """Run the dump statement by statement under the policy and the load clock; the first refusal stops all.
    ``data=False``: every statement but the INSERTs (the schema alone: what a dump's tables and columns are)."""
    _cap_store(conn, min(getattr(conn, "store_cap", MAX_STORE_BYTES), store_cap(len(script.encode("utf-8")))))
    clock = _clock(conn)
    clock.loading, clock.load_seconds = True, load_limit(len(script.encode("utf-8")))
    clock.start()
    try:
        for statement in split_statements(script):
            if data or not _INSERT.match(statement.text):
                _execute(conn, policy, statement)
        policy.shape = "transaction"
        if conn.in_transaction:  # a dump that began a transaction and never committed it
            conn.execute("COMMIT")
    finally:
        clock.loading = False


def _execute(conn: sqlite3.Connection, policy: _Policy, statement: Statement) -> None:
    """One statement of the dump, if it is one a wrangler export writes."""
    clock = _clock(conn)
    if time.monotonic() > clock.deadline:  # many quick statements: the clock is also read between them
        raise DumpRefused(statement, f"stopped: {clock.limit()}")
    if len(statement.text) > MAX_STATEMENT_BYTES:
        raise DumpRefused(statement, f"longer than {MAX_STATEMENT_BYTES:,} bytes")
    policy.shape, policy.denied = shape_of(statement), None
    if policy.shape is None:
        raise DumpRefused(statement, "not a statement a wrangler d1 export contains (dumps are data, not programs)")
    if policy.shape == "insert" and not _LITERAL_INSERT.fullmatch(statement.text):
        raise DumpRefused(statement, "an INSERT whose values are not all literals (a dump's values are data: "
                                     "NULL, numbers, 'text', X'hex', or wrangler's replace(…, char(10)))")
    try:
        conn.execute(statement.text)
    except (sqlite3.Error, sqlite3.Warning) as exc:
        raise DumpRefused(statement, _failure(conn, policy, exc)) from exc


def load_dump(path: Path, key: str, data: bool = True) -> sqlite3.Connection:
    """Read ``path`` into a private in-memory SQLite, refusing any dump that is more than data;
    the returned connection is query_only and admits reads only. ``data=False``: its schema alone, no rows (a list
    of stores checks every dump's columns without loading its rows)."""
    try:
        script = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{key}.d1_dump: cannot read {path}: {exc}") from exc
    conn, policy = private_connection()
    try:
        execute_dump(conn, policy, script, data)
    except DumpRefused as exc:
        conn.close()
        raise SourceError(f"{key}.d1_dump: {path} {exc}") from exc
    conn.set_authorizer(None)
    conn.execute("PRAGMA query_only = ON")
    policy.shape = None
    conn.set_authorizer(policy)
    return conn
