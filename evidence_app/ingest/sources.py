"""Read-only engines and bounded, parameterised SELECTs against the audited stores."""

from __future__ import annotations

import sqlite3
import sys
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from evidence_app.columns.text import TEXT_DTYPE, text_in, text_set
from evidence_app.config.settings import StoreConfig
from evidence_app.errors import SourceError
from evidence_app.ingest import native, storelist
from evidence_app.ingest._columnar import Piece, chunk_columns, dictionary_encoded, frame_of, text_columns
from evidence_app.ingest.extraction import QueryRecord, query_record
from evidence_app.ingest.pieces import Pieces, keep_pieces
from evidence_app.ingest.plan import choose, planned

Recorder = Callable[[QueryRecord], None]
"""Hears a :class:`QueryRecord` for every statement run (re-performable extraction)."""
from evidence_app.ingest.d1dump import last_denial, load_dump
from evidence_app.ingest.privileges import write_capable
from evidence_app.ingest.sqlite_files import sqlite_read_only
from evidence_app.issues import DataIssue
from evidence_app.masking import mask_text

FETCH_CHUNK = 50_000
_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval [start, end) used to bound a SELECT."""

    start: datetime
    end: datetime

    def widened(self, seconds: float) -> "Window":
        pad = timedelta(seconds=seconds)
        return Window(self.start - pad, self.end + pad)


MAX_TENANT_PARAMETERS = 30_000
"""Bound tenant values one SELECT may carry (SQLite allows 32,766 parameters, PostgreSQL and MySQL 65,535)."""
IN_LIST = 1_000
"""Values per ``IN (…)`` list; a longer set is several lists joined by OR (no temporary table on a read-only
session)."""


@dataclass(frozen=True)
class TenantFilter:
    """Only the rows of some tenants (a partition's): their values exactly as the store holds them, bound as
    parameters, never formatted into SQL; and whether the rows without a tenant belong too."""

    values: tuple[object, ...]
    null: bool = False
    pieces: Pieces = ()
    """Split tenants (:mod:`evidence_app.ingest.pieces`): of these, only the rows of the pieces named are kept,
    as each chunk arrives (SQL cannot compute a canonical target's hash)."""

    def pushable(self) -> bool:
        """Whether SQL can say it: values a driver binds and compares as stored (text, whole numbers), not too many."""
        return len(self.values) <= MAX_TENANT_PARAMETERS and all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in self.values)


def tenant_predicate(column: sa.ColumnClause, tenants: TenantFilter) -> sa.ColumnElement[bool]:
    """``tenant IN (…) OR tenant IN (…) … [OR tenant IS NULL]``: the filter a partition's reads push into SQL."""
    values = list(tenants.values)
    parts = [column.in_(values[i:i + IN_LIST]) for i in range(0, len(values), IN_LIST)]
    if tenants.null:
        parts.append(column.is_(None))
    return sa.or_(*parts) if parts else sa.false()


@dataclass(frozen=True)
class Store:
    """An opened, read-only store: its engine and what the schema check found."""

    config: StoreConfig
    engine: Engine
    time_kind: str
    """How the time column is stored: ``native``, ``numeric`` or ``text``."""
    read_only_mode: str
    """How read-only is enforced, in words."""
    write_capable: bool | None
    """True when the connected role could write to the table; None where not applicable."""
    columns: Mapping[str, str]
    """canonical → the column's name exactly as the database spells it (config names match
    case-insensitively, e.g. ``createdat`` for ``CreatedAt`` on PostgreSQL)."""

    @property
    def present(self) -> frozenset[str]:
        """Canonical columns the table really has (required ones always)."""
        return frozenset(self.columns)

    @property
    def key(self) -> str:
        return self.config.key

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@dataclass(frozen=True)
class StoreList(Store):
    """A store configured as a list of stores (``[[audit.stores]]``), read as their union: each entry is a
    :class:`Store` of its own, opened read-only (see :mod:`evidence_app.ingest.storelist`)."""

    members: tuple[Store, ...] = ()

    @property
    def dialect(self) -> str:
        return ", ".join(dict.fromkeys(m.dialect for m in self.members))


@contextmanager
def _mapped(store: StoreConfig, action: str) -> Iterator[None]:
    """Translate driver errors into SourceError naming the store and its (masked) URL."""
    try:
        yield
    except SourceError:
        raise
    except (SQLAlchemyError, sqlite3.Error, OSError, UnicodeError, *_dbapi_errors()) as exc:  # UnicodeError: decoding
        reason = mask_text(_first_line(exc))
        if store.d1_dump is not None and reason == "not authorized":
            reason = f"refused: {last_denial()}"
        elif store.d1_dump is not None and reason == "interrupted":  # the dump's read clock stopped it
            reason = last_denial() or reason
        raise SourceError(f"{store.where}: {action} failed on {store.display_url}: {reason}") from None  # cause may hold a DSN


def _dbapi_errors() -> tuple[type[Exception], ...]:
    """The server drivers' own errors (raised from their cursors, not wrapped by SQLAlchemy: psycopg's
    'timestamp too large' for an infinite time, say), for the drivers already loaded."""
    found = [getattr(sys.modules.get(name), "Error", None) for name in ("psycopg", "pymysql")]
    return tuple(kind for kind in found if isinstance(kind, type))


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def open_store(store: StoreConfig) -> Store:
    """Open one store read-only, check its table and columns, and probe its role (a list of stores: each)."""
    if store.stores:
        return storelist.open_list(store, lambda entry: open_store(entry) if entry.d1_dump is None
                                   else open_deferred_dump(entry))
    engine, mode = _engine(store)
    with _mapped(store, "connecting"):
        columns, time_kind = _check_schema(engine, store)
        writable = _write_capable(engine, store)
    return Store(store, engine, time_kind, mode, writable, columns)


def _engine(store: StoreConfig) -> tuple[Engine, str]:
    if store.d1_dump is not None:
        return _d1_engine(store), D1_MODE
    assert store.url is not None
    backend = store.url.get_backend_name()
    if backend == "sqlite":
        return sqlite_read_only(Path(store.url.database or ""))
    url = store.url
    if url.drivername in _DRIVERS:
        url = url.set(drivername=_DRIVERS[url.drivername])
    if backend == "postgresql":
        engine = sa.create_engine(
            url, connect_args={"options": "-c default_transaction_read_only=on"}, pool_pre_ping=True
        )
        _on_connect(engine, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        return engine, "PostgreSQL session READ ONLY (default_transaction_read_only)"
    engine = sa.create_engine(url, pool_pre_ping=True)
    _on_connect(engine, "SET SESSION TRANSACTION READ ONLY")
    return engine, "MySQL/MariaDB session TRANSACTION READ ONLY"


def _on_connect(engine: Engine, statement: str) -> None:
    @sa.event.listens_for(engine, "connect")
    def _set_read_only(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI objects
        cur = dbapi_conn.cursor()
        cur.execute(statement)
        cur.close()
        if hasattr(dbapi_conn, "commit"):
            dbapi_conn.commit()


D1_MODE = "D1 dump loaded into a private in-memory SQLite (query_only)"
_DUMP_SCHEMAS: dict[tuple, tuple[dict[str, str], str, bool | None]] = {}
"""What the schema check found in a dump of a list of stores, by the dump's identity (path, size, times, inode) and
the mapping checked: a process that opens the list again (a partition) does not read every dump again."""
_DUMP_ROWS: dict[tuple, int] = {}
"""The rows of a listed dump's table, counted when it was last read whole, by the same identity."""
_DUMP_SCHEMAS_MAX = 65_536


def open_deferred_dump(store: StoreConfig) -> Store:
    """A D1 dump of a list of stores, opened like any (a private in-memory SQLite, query_only) but loaded only
    when read, and given back after each read (:mod:`evidence_app.ingest.storelist`): a list of a thousand dumps
    never holds them all at once. Its schema is checked once per version of the dump in this process."""
    key = _dump_key(store)
    found = _DUMP_SCHEMAS.get(key)
    if found is None:
        schema = dump_engine(store, data=False)  # its statements run under the same policy, its rows skipped
        try:
            with _mapped(store, "connecting"):
                found = (*_check_schema(schema, store), _write_capable(schema, store))
        finally:
            schema.dispose()
        if len(_DUMP_SCHEMAS) >= _DUMP_SCHEMAS_MAX:
            _DUMP_SCHEMAS.clear()
        _DUMP_SCHEMAS[key] = found
    columns, time_kind, writable = found
    return Store(store, dump_engine(store), time_kind, D1_MODE, writable, columns)


def dump_engine(store: StoreConfig, data: bool = True) -> Engine:
    """An engine that loads the dump (``data=False``: its schema alone) when it first connects, and holds it until
    disposed."""
    assert store.d1_dump is not None
    path, where = store.d1_dump, store.where
    return sa.create_engine("sqlite://", creator=lambda: load_dump(path, where, data), poolclass=StaticPool)


def remember_rows(store: Store) -> None:
    """Count a listed dump's table while it is loaded for a read, for :func:`count_rows` to report later."""
    if store.config.entry is not None and store.config.d1_dump is not None:
        _DUMP_ROWS[_dump_key(store.config)] = _count(store)


def _dump_key(store: StoreConfig) -> tuple:
    """A dump of a list of stores as the schema cache knows it: its path, size, times and inode, and the mapping."""
    assert store.d1_dump is not None
    try:
        st = store.d1_dump.stat()
    except OSError as exc:
        raise SourceError(f"{store.where}.d1_dump: cannot read {store.d1_dump}: {exc.strerror}") from None
    return (str(store.d1_dump), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, store.table,
            tuple(sorted(store.columns.items())), tuple(sorted(store.optional)), store.key)


def _d1_engine(store: StoreConfig) -> Engine:
    """The dump loaded as data into a private in-memory SQLite (see :mod:`evidence_app.ingest.d1dump`)."""
    assert store.d1_dump is not None
    conn = load_dump(store.d1_dump, store.where)
    return sa.create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)


def _table(store: StoreConfig, columns: Sequence[str]) -> sa.TableClause:
    schema, _, name = store.table.rpartition(".")
    return sa.table(name, *(sa.column(c) for c in columns), schema=schema or None)


def _check_schema(engine: Engine, store: StoreConfig) -> tuple[dict[str, str], str]:
    schema, _, name = store.table.rpartition(".")
    insp = sa.inspect(engine)
    try:
        cols = insp.get_columns(name, schema=schema or None)
    except NoSuchTableError as exc:
        raise SourceError(
            f"{store.where}.table: table {store.table!r} not found in {store.display_url}"
        ) from exc
    types = {c["name"]: c["type"] for c in cols}
    lower = {k.lower(): k for k in types}
    present: dict[str, str] = {}
    for canonical, column in store.columns.items():
        if column in types or column.lower() in lower:
            present[canonical] = column if column in types else lower[column.lower()]
        elif canonical not in store.optional:
            raise SourceError(
                f"{store.where}.columns.{canonical}: column {column!r} not found in table "
                f"{store.table!r} of {store.display_url} (it has: {', '.join(sorted(types))})"
            )
    time_col = present["created_at" if store.key == "audit" else "occurred_at"]
    return present, _time_kind(types[time_col], engine.dialect.name)


def _time_kind(col_type: sa.types.TypeEngine, dialect: str) -> str:
    if dialect == "sqlite":
        return "sqlite"  # dynamic typing: one predicate handles every storage class
    if isinstance(col_type, (sa.DateTime, sa.Date)):
        return "native"
    if isinstance(col_type, (sa.Integer, sa.Numeric, sa.Float)):
        return "numeric"
    return "text"


def _write_capable(engine: Engine, store: StoreConfig) -> bool | None:
    """Could the connected role write to the table (see :mod:`evidence_app.ingest.privileges`)?"""
    with engine.connect() as conn:
        return write_capable(conn, store.table)


_ISO_SHAPE = "____-__-__%"
_VALID_ISO = (r"^[0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
              r"([T ]([01][0-9]|2[0-3])(:[0-5][0-9](:[0-5][0-9]([.,][0-9]+)?)?)?)?"
              r"[[:space:]]*(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?[[:space:]]*$")
"""A real ISO-8601 time, as the parser reads them (29 February is left for the parser to judge)."""


def time_predicate(store: Store, column: sa.ColumnClause, window: Window) -> sa.ColumnElement[bool]:
    """A superset filter for the window: every row that could fall in it, plus every row whose
    timestamp the database cannot judge (NULL, unparseable or impossible text such as
    ``2026-13-45T99:99:99Z``, whatever it sorts next to) so those are counted, not lost."""
    lo_s, hi_s = window.start.timestamp(), window.end.timestamp()
    # Epoch seconds, milliseconds or microseconds (canonical.py tells them apart by magnitude the same way).
    numeric = sa.or_(column.between(lo_s, hi_s), column.between(lo_s * 1000, hi_s * 1000),
                     column.between(lo_s * 1_000_000, hi_s * 1_000_000), _unreadable_epoch(column))
    # Text bounds at day granularity, padded for zone offsets; exact filtering happens later.
    lo_t = (window.start - timedelta(days=1)).date().isoformat()
    hi_t = (window.end + timedelta(days=2)).date().isoformat()
    in_range = sa.and_(column >= lo_t, column < hi_t)
    if store.time_kind == "sqlite":
        kind = sa.func.typeof(column)
        return sa.or_(
            in_range,  # the common case first: ISO text in range
            sa.and_(kind.in_(["integer", "real"]), numeric),
            sa.and_(kind == "text", sa.or_(column.not_like(_ISO_SHAPE), _impossible(column, "sqlite"))),
            column.is_(None),
            kind == "blob",
        )
    if store.time_kind == "numeric":
        return sa.or_(column.is_(None), numeric)
    if store.time_kind == "native":
        naive_lo = window.start.astimezone(timezone.utc).replace(tzinfo=None) - timedelta(days=1)
        naive_hi = window.end.astimezone(timezone.utc).replace(tzinfo=None) + timedelta(days=1)
        if store.dialect in ("mysql", "mariadb"):  # zero dates ('0000-00-00') are stored, and no time at all
            return sa.or_(column.is_(None), column.between(naive_lo, naive_hi), column < datetime(1000, 1, 1))
        return sa.or_(column.is_(None), column.between(naive_lo, naive_hi))
    return sa.or_(column.is_(None), in_range, column.not_like(_ISO_SHAPE), _impossible(column, store.dialect))


def _unreadable_epoch(column: sa.ColumnClause) -> sa.ColumnElement[bool]:
    """Numbers the parser cannot place in time (beyond what a timestamp holds, in the unit their magnitude
    implies: seconds below 1e11, milliseconds below 1e14, else microseconds): fetched wherever they lie,
    so they are counted as unparseable in every window, as they are without one."""
    mag = sa.func.abs(column)
    return sa.or_(mag.between(9.2e9, 1e11 - 1e-3), mag.between(9.2e12, 1e14 - 1e-3), mag >= 9.2e15)


def _impossible(column: sa.ColumnClause, dialect: str) -> sa.ColumnElement[bool]:
    """ISO-shaped text that may not be a real time (month 13, hour 99, 30 February): fetched wherever
    it sorts, so the parser can count it; a real time is never fetched by this (the counts of other
    problems stay those of the window). SQLite judges with its own calendar: a date that does not
    survive a round trip through julianday, or an hour past 23; the servers with a pattern."""
    if dialect == "sqlite":
        date = sa.func.substr(column, 1, 10)
        return sa.or_(sa.func.julianday(column).is_(None), sa.func.date(sa.func.julianday(date)) != date,
                      sa.func.substr(column, 12, 2) > "23", column.like("0000%"))
    # MySQL/MariaDB compare text case-insensitively unless told otherwise; the parser does not ('t', 'z').
    operator = "!~" if dialect == "postgresql" else "NOT REGEXP BINARY"
    return sa.or_(column.op(operator)(_VALID_ISO), column.like("0000%"))


def select_frame(
    store: Store,
    time_field: str,
    window: Window | None,
    progress: Callable[[int], None] | None = None,
    record: Recorder | None = None,
    repetitive: frozenset[str] = frozenset(),
    tenants: TenantFilter | None = None,
    columns: Sequence[str] | None = None,
    reduce: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    report: Callable[[DataIssue], None] | None = None,
) -> pd.DataFrame:
    """Fetch the present canonical columns (only those, or only ``columns`` of them), window-filtered in SQL,
    streamed in chunks. Text columns named in ``repetitive`` are dictionary-encoded as each chunk arrives (they come
    back categorical, values unchanged): ten million tenants or routes never exist as ten million strings.
    ``tenants`` (a partition's) is pushed into the WHERE clause; ``reduce`` turns each chunk into what is kept of
    it as it arrives (the routing pre-pass keeps hashes, not text). A list of stores is read entry by entry
    (``report`` hears its rows held by an entry that does not name their tenant)."""
    if storelist.members_of(store) is not None:
        return storelist.read(store, time_field, window, progress, record, repetitive, tenants, columns, reduce,
                              report)
    canonical, tbl, stmt = _select_present(store, columns)
    purpose = "every row (no period)"
    if window is not None:
        plan = choose(store, time_field, window, time_extent)  # scan or index: evidence_app/ingest/plan.py
        stmt = planned(stmt.where(time_predicate(store, tbl.c[store.columns[time_field]], window)), tbl, plan)
        purpose = f"the period's window (± the matching margin); {plan.reason}"
    keep = reduce
    if tenants is not None:
        stmt, only, said = _only_tenants(store, tbl, stmt, tenants)
        keep = only if reduce is None or only is None else (lambda f: reduce(only(f)))
        keep = keep or reduce
        purpose = f"{purpose}; {said}"
    return _fetch(store, stmt, canonical, progress, keep=keep, record=_recording(record, store, purpose),
                  repetitive=repetitive)


def _only_tenants(store: Store, tbl: sa.TableClause, stmt: sa.Select, tenants: TenantFilter,
                  ) -> tuple[sa.Select, Callable[[pd.DataFrame], pd.DataFrame] | None, str]:
    """``stmt`` narrowed to a partition's tenants in SQL, or (values SQL cannot compare as stored) every row
    fetched and the partition's kept as they arrive; and the words saying which."""
    column = store.columns["restaurant_id"]
    pieces = keep_pieces(tenants.pieces) if tenants.pieces else None
    split = (f"; of {len(tenants.pieces)} tenant(s) split by target, only this partition's pieces, kept as rows "
             "arrive" if tenants.pieces else "")
    if tenants.pushable():
        return (stmt.where(tenant_predicate(tbl.c[column], tenants)),
                pieces, f"this partition's {len(tenants.values)} tenants only{split}")
    wanted = set(tenants.values)
    keep = lambda f: f[f["restaurant_id"].map(lambda v: v in wanted if v is not None else tenants.null)  # noqa: E731
                       .astype(bool).to_numpy()]
    both = keep if pieces is None else (lambda f: pieces(keep(f)))
    return stmt, both, f"this partition's {len(tenants.values)} tenants, kept as rows arrive{split}"


def _select_present(store: Store, columns: Sequence[str] | None = None,
                    ) -> tuple[list[str], sa.TableClause, sa.Select]:
    """SELECT of every present column (or of the present ones among ``columns``), labelled with its canonical name
    (sorted, for stable frames)."""
    canonical = sorted(c for c in store.columns if columns is None or c in columns)
    actual = [store.columns[c] for c in canonical]
    tbl = _table(store.config, actual)
    return canonical, tbl, sa.select(*(tbl.c[a].label(c) for a, c in zip(actual, canonical)))


def _fetch(
    store: Store,
    stmt: sa.Select,
    canonical: list[str],
    progress: Callable[[int], None] | None,
    keep: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    record: Callable[..., None] | None = None,
    repetitive: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """Stream the result in chunks. SQLAlchemy compiles, binds and opens a server-side cursor; rows
    are read straight from the DBAPI cursor (no per-row Row objects). Each chunk is turned into
    compact Arrow columns at once (values unchanged; see :mod:`evidence_app.ingest._columnar`), so memory holds
    bytes, not millions of Python objects. ``keep`` may thin each chunk so memory stays bounded; ``record``
    hears the SQL text and parameters as sent and how many rows the database returned.

    SQLite text that is not UTF-8 stops its driver mid-read; the read is then repeated with such
    values handed over as bytes, for canonical.py to count, name and replace (the fast path stays fast).

    SQLite files and PostgreSQL are read natively first (:mod:`evidence_app.ingest.native`: the same values,
    straight into Arrow); where that cannot be exact, the whole read is done again here."""
    with _mapped(store.config, "reading"), store.engine.connect() as conn:
        done = native.read(store.engine, conn, stmt, canonical, progress, keep, record, repetitive, _compiled)
        if done.frame is not None:
            return done.frame
        progress = native.resumed(progress, done.reported)
        try:
            return _read(conn, stmt, canonical, progress, keep, record, repetitive)
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc):
                raise
        with _undecoded_as_bytes(conn.connection.driver_connection):
            return _read(conn, stmt, canonical, None, keep, record, repetitive)


def _read(conn: sa.Connection, stmt: sa.Select, canonical: list[str], progress: Callable[[int], None] | None,
          keep: Callable[[pd.DataFrame], pd.DataFrame] | None,
          record: Callable[[str, object, int, sa.Connection], None] | None,
          repetitive: frozenset[str] = frozenset()) -> pd.DataFrame:
    pieces: list[list[Piece]] = [[] for _ in canonical]
    encode = [j for j, name in enumerate(canonical) if name in repetitive]
    kept: list[pd.DataFrame] = []
    sql, args = _compiled(stmt, conn.dialect)
    cursor = _streaming_cursor(conn.connection.driver_connection, conn.dialect.name)
    try:
        cursor.execute(sql, args)
        text_guess = frozenset(range(len(canonical)))
        returned = 0
        while True:
            chunk = cursor.fetchmany(FETCH_CHUNK)
            if not chunk:
                break
            returned += len(chunk)
            columns = chunk_columns(chunk, len(canonical), text_guess)
            text_guess = text_columns(columns)
            for j in encode:
                columns[j] = dictionary_encoded(columns[j])
            if keep is not None:
                kept.append(keep(frame_of([[c] for c in columns], canonical)))
            else:
                for j, column in enumerate(columns):
                    pieces[j].append(column)
            if progress is not None:
                progress(len(chunk))
    finally:
        cursor.close()
        conn.rollback()
    if record is not None:
        record(sql, args, returned, conn)
    if keep is not None:
        return pd.concat(kept, ignore_index=True) if kept else frame_of(pieces, canonical)
    return frame_of(pieces, canonical)


@contextmanager
def _undecoded_as_bytes(dbapi_conn: sqlite3.Connection) -> Iterator[None]:
    """For one read: SQLite text that is valid UTF-8 comes as str, anything else as its raw bytes."""
    before = dbapi_conn.text_factory
    dbapi_conn.text_factory = _text_or_bytes
    try:
        yield
    finally:
        dbapi_conn.text_factory = before


def _text_or_bytes(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _compiled(stmt: sa.Select, dialect: sa.engine.Dialect) -> tuple[str, object]:
    """SQL text and bound parameters in the driver's own paramstyle (values never formatted into SQL)."""
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    if compiled.positional:
        return str(compiled), tuple(params[name] for name in compiled.positiontup or ())
    return str(compiled), params


def _streaming_cursor(dbapi_conn, dialect: str):  # noqa: ANN001, ANN202 - DBAPI objects
    """A cursor that streams from the server instead of buffering the whole result client-side."""
    if dialect == "postgresql":
        return dbapi_conn.cursor(name="evidence_app_stream")
    if dialect in ("mysql", "mariadb"):
        import pymysql.cursors

        return dbapi_conn.cursor(pymysql.cursors.SSCursor)
    return dbapi_conn.cursor()


def select_outside(store: Store, time_field: str, window: Window, field: str, wanted: Sequence[str],
                   record: Recorder | None = None, columns: Sequence[str] | None = None,
                   keep: Callable[[pd.DataFrame], pd.Series] | None = None,
                   purpose: str | None = None) -> pd.DataFrame:
    """Rows beyond the window whose ``field`` is one of ``wanted`` (or, given ``keep``, whose chunk ``keep``
    marks): one streamed pass, chunks thinned as they arrive (no giant IN lists, no temporary tables on a
    read-only session). ``purpose`` words the recorded query when ``keep`` decides otherwise than by ``wanted``. A
    list of stores: every entry that has ``field``."""
    if storelist.members_of(store) is not None:
        return storelist.read_outside(store, time_field, window, field, wanted, record, columns, keep)
    canonical, tbl, stmt = _select_present(store, columns)
    inside = time_predicate(store, tbl.c[store.columns[time_field]], window)
    stmt = stmt.where(tbl.c[store.columns[field]].is_not(None), sa.not_(inside))
    wanted_set = text_set(pd.Series(list(wanted) if keep is None else [], dtype=TEXT_DTYPE))  # once, not per chunk
    purpose = purpose or (f"rows beyond the window with a {field} among the {len(wanted)} the period's records "
                          "lack (the database returns every row beyond the window with one; the tool keeps the "
                          "wanted ones)")
    thin = (lambda f: f[text_in(f[field], wanted_set)]) if keep is None else (lambda f: f[keep(f).to_numpy()])
    return _fetch(store, stmt, canonical, None, keep=thin, record=_recording(record, store, purpose))


def _recording(record: Recorder | None, store: Store, purpose: str):  # noqa: ANN202 - _fetch's record callback
    """``_fetch``'s callback that turns what ran into a :class:`QueryRecord` for ``record``."""
    if record is None:
        return None
    source = store.key if store.config.entry is None else f"{store.config.where} ({', '.join(store.config.tenants)})"
    return lambda sql, args, rows, conn, **native: record(query_record(source, purpose, sql, args, rows, conn,
                                                                        **native))


def time_extent(store: Store, time_field: str) -> tuple[object, object]:
    """Raw MIN and MAX of the time column (cheap with an index); parsing is the caller's job (a list: over its
    entries)."""
    if storelist.members_of(store) is not None:
        return storelist.extent(store, time_field, time_extent)
    name = store.columns[time_field]
    col = _table(store.config, [name]).c[name]
    stmt = sa.select(sa.func.min(col), sa.func.max(col))
    with _mapped(store.config, "reading the time range"), store.engine.connect() as conn:
        try:
            row = conn.execute(stmt).one()
        except sa.exc.OperationalError as exc:
            if "decode" not in str(exc):
                raise
            conn.rollback()
            with _undecoded_as_bytes(conn.connection.driver_connection):
                row = conn.execute(stmt).one()
    return row[0], row[1]


def count_rows(store: Store) -> int:
    """Total rows in the store's table (for fingerprints and the Sources page; a list: in all its entries — a dump's
    as counted when it was opened, unchanged since: every partition reports the list's total without loading every
    dump)."""
    if storelist.members_of(store) is not None:
        return storelist.count(store, count_rows)
    if store.config.entry is not None and store.config.d1_dump is not None:
        key = _dump_key(store.config)
        if key not in _DUMP_ROWS:  # never read whole here: loaded for the count alone, then given back
            engine = dump_engine(store.config)
            try:
                _DUMP_ROWS[key] = _count(replace(store, engine=engine))
            finally:
                engine.dispose()
        return _DUMP_ROWS[key]
    return _count(store)


def _count(store: Store) -> int:
    """``SELECT count(*)`` of the store's table."""
    tbl = _table(store.config, [])
    with _mapped(store.config, "counting"), store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(tbl)).scalar() or 0)
