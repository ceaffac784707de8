"""Native columnar reads: SQLite and PostgreSQL rows go from the driver straight into Arrow (ADBC), with exactly
the values, types and NULLs the Python path (:mod:`evidence_app.ingest._columnar`) would give, or not at all.

ADBC's SQLite driver guesses each column's type from the first batch and then converts silently where it can
(an integer into a REAL column, a number into text, text into a BLOB column), so its output alone cannot be
trusted with SQLite's dynamic typing. A table column's declared affinity narrows what it can hold: TEXT holds
text and blobs (a blob that is UTF-8 becomes text on the Python path too), REAL holds reals, text and blobs,
INTEGER integers, reals, text and blobs; the driver refuses a later value of another class outright in an
INTEGER or REAL column. So a TEXT column is taken when it comes as Arrow text and valid UTF-8, a REAL column
when it comes as doubles, an INTEGER one as 64-bit integers. A column of NUMERIC or no affinity (or of a view)
could mix integers and reals unseen: for those the statement carries one more column in which SQLite names
each row's storage classes (``typeof``), and a batch is taken only when each holds one class matching the
driver's type. Anything else abandons the whole native read (nothing of it kept) and the caller reads through
the Python path, which gives each value as stored. The ADBC connection opens the same read-only ``file:`` URI
as the engine (``mode=ro``, ``immutable=1`` or the private checkpointed copy), so a write through it is
refused too.

PostgreSQL is read with ADBC's PostgreSQL driver, which streams a ``COPY (SELECT ...) TO STDOUT`` in record
batches; COPY takes no bound parameters (a parameterised result would be held whole in memory), so the same
statement is sent with its values written in as typed literals (``CAST(1.5E9 AS DOUBLE PRECISION)``, as psycopg
binds a float) and recorded so. The session is read-only twice over (``default_transaction_read_only`` in the
connection's options and ``SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY``). Integers, doubles, text and
times are taken (times in the zone psycopg would give them, within the years Python can hold); any other type
(numeric, float4, uuid, json, bool, date) leaves the read to the Python path. Batches are cut to the Python
path's chunk size, so each column's pieces are those it would have made.

MySQL/MariaDB keep the Python path (PyMySQL's streaming cursor); see docs/DESIGN.md.
``EVIDENCE_APP_PYTHON_READS=1`` forces the Python path everywhere.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Callable, Iterator
from urllib.parse import quote, urlencode

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from evidence_app.ingest._columnar import Piece, dictionary_encoded, frame_of
from evidence_app.ingest.plan import Unindexed
from evidence_app.ingest.sqlite_files import native_uri

FORCE_PYTHON = "EVIDENCE_APP_PYTHON_READS"
"""Set to ``1`` (or ``true``/``yes``/``on``) to read every source through the Python path."""
CLASSES = "evidence_app_classes"
"""The extra column naming the storage classes of each row's values (see :func:`_classes`)."""

_INTEGER, _REAL, _TEXT, _BLOB = 1, 2, 4, 8
_BITS = 4
_MAX_COLUMNS = 15  # 4 bits each in a signed 64-bit integer
_log = logging.getLogger(__name__)

Compiler = Callable[[sa.Select, sa.engine.Dialect], tuple[str, object]]
Record = Callable[..., None]


class NotExact(Exception):
    """The native reader could not give the Python path's values for this read."""


@dataclass(frozen=True)
class Outcome:
    """A native read: the frame (None: read through the Python path) and the rows already reported as progress."""

    frame: pd.DataFrame | None
    reported: int = 0


def forced_python() -> bool:
    """Has the operator asked for the Python path (a driver problem, a comparison)?"""
    return os.environ.get(FORCE_PYTHON, "").strip().lower() in ("1", "true", "yes", "on")


def _adbc_sqlite():  # noqa: ANN202 - the driver's dbapi module, or None
    """ADBC's SQLite driver (None: not importable)."""
    return _driver("adbc_driver_sqlite")


def _adbc_postgresql():  # noqa: ANN202 - the driver's dbapi module, or None
    """ADBC's PostgreSQL driver (None: not importable)."""
    return _driver("adbc_driver_postgresql")


@cache
def _driver(package: str):  # noqa: ANN202 - the driver's dbapi module, or None
    """A native driver's DBAPI module, imported once; a missing or broken one is said once in the log."""
    try:
        return importlib.import_module(f"{package}.dbapi")
    except Exception as exc:  # noqa: BLE001 - any import failure means: use the Python path
        _log.warning("native reads off for %s (the Python path reads instead): %s: %s",
                     package.removeprefix("adbc_driver_"), package.replace("_", "-"), exc)
        return None


def read(engine: sa.Engine, conn: sa.Connection, stmt: sa.Select, canonical: list[str],
         progress: Callable[[int], None] | None, keep: Callable[[pd.DataFrame], pd.DataFrame] | None,
         record: Record | None, repetitive: frozenset[str], compiled: Compiler) -> Outcome:
    """The frame read natively, or ``Outcome(None, reported)`` when this read must take the Python path."""
    if forced_python() or len(canonical) > _MAX_COLUMNS:
        return Outcome(None)
    uri = native_uri(engine)
    if uri is None and conn.dialect.name != "postgresql":
        return Outcome(None)
    counted = _Counted(progress)
    try:
        reader = (_SQLite.prepared(uri, conn, stmt, canonical, compiled) if uri is not None
                  else _Postgres.prepared(engine, conn, stmt))
        if reader is None:
            return Outcome(None)
        with closing(reader.chunks()) as chunks:  # an abandoned read closes its cursor and connection at once
            frame, returned, version = _assembled(chunks, canonical, counted, keep, repetitive)
    except NotExact as exc:
        _log.info("native read not exact (%s): read again through the Python path", exc)
        return Outcome(None, counted.total)
    except Exception as exc:  # noqa: BLE001 - a driver's error: the Python path reads and reports it properly
        _log.info("native read failed (%s): read again through the Python path", type(exc).__name__)
        return Outcome(None, counted.total)
    if record is not None:
        record(reader.sql, reader.args, returned, conn, **reader.described(version))
    return Outcome(frame)


def _assembled(chunks: Iterator[tuple[list[Piece], str]], canonical: list[str], progress: "_Counted",
               keep: Callable[[pd.DataFrame], pd.DataFrame] | None,
               repetitive: frozenset[str]) -> tuple[pd.DataFrame, int, str]:
    """The frame from the reader's chunks, built as ``sources._read`` builds it from the Python path's."""
    pieces: list[list[Piece]] = [[] for _ in canonical]
    encode = [j for j, name in enumerate(canonical) if name in repetitive]
    kept: list[pd.DataFrame] = []
    returned, version = 0, ""
    for columns, version in chunks:
        rows = len(columns[0])
        returned += rows
        for j in encode:
            columns[j] = dictionary_encoded(columns[j])
        if keep is not None:
            kept.append(keep(frame_of([[c] for c in columns], canonical)))
        else:
            for j, column in enumerate(columns):
                pieces[j].append(column)
        progress(rows)
    if keep is not None:
        return (pd.concat(kept, ignore_index=True) if kept else frame_of(pieces, canonical)), returned, version
    return frame_of(pieces, canonical), returned, version


class _Counted:
    """Progress as batches arrive, remembering how much was reported (a fallback must not count it twice)."""

    def __init__(self, progress: Callable[[int], None] | None) -> None:
        self.progress, self.total = progress, 0

    def __call__(self, rows: int) -> None:
        self.total += rows
        if self.progress is not None:
            self.progress(rows)


def resumed(progress: Callable[[int], None] | None, reported: int) -> Callable[[int], None] | None:
    """``progress`` that stays silent for the first ``reported`` rows (already told by an abandoned native read)."""
    if progress is None or reported <= 0:
        return progress
    owed = [reported]

    def tell(rows: int) -> None:
        skip = min(owed[0], rows)
        owed[0] -= skip
        if rows > skip:
            progress(rows - skip)

    return tell


@dataclass(frozen=True)
class _Check:
    """How one column's storage classes are told apart, and which one it must hold."""

    column: sa.ColumnElement
    expected: int
    """The class the affinity lets the driver's type vouch for (0: none; SQLite names the classes with typeof)."""


def _checks(conn: sa.Connection, stmt: sa.Select, canonical: list[str]) -> list[_Check]:
    affinities = _affinities(conn, stmt)
    checks = []
    for name in canonical:
        column = stmt.selected_columns[name]
        element = getattr(column, "element", column)
        affinity = affinities.get(getattr(element, "name", ""), "")
        checks.append(_Check(element, {"TEXT": _TEXT, "REAL": _REAL, "INTEGER": _INTEGER}.get(affinity, 0)))
    return checks


def _affinities(conn: sa.Connection, stmt: sa.Select) -> dict[str, str]:
    """Declared column affinities of the table read (SQLite's rules); a view's columns have none we can trust.
    A table the plan reads by a scan (``NOT INDEXED``) is the same table: its affinities hold (without them every
    column would be typed by ``typeof`` per row; bench/RESULTS.md, issue 21)."""
    froms = [getattr(f, "table", f) if isinstance(f, Unindexed) else f for f in stmt.get_final_froms()]
    if len(froms) != 1 or not isinstance(froms[0], sa.TableClause):
        return {}
    table = froms[0]
    schema = table.schema or "main"
    kind = conn.exec_driver_sql(f'SELECT type FROM "{_quoted(schema)}".sqlite_master WHERE name = ?',
                                (table.name,)).scalar()
    if kind != "table":
        return {}
    rows = conn.exec_driver_sql(f'PRAGMA "{_quoted(schema)}".table_info("{_quoted(table.name)}")').all()
    return {row[1]: _affinity(row[2] or "") for row in rows}


def _quoted(name: str) -> str:
    return name.replace('"', '""')


def _affinity(declared: str) -> str:
    """SQLite's affinity for a declared type (datatype3.html, section 3.1), in its order of rules."""
    kind = declared.upper()
    if "INT" in kind:
        return "INTEGER"
    if re.search("CHAR|CLOB|TEXT", kind):
        return "TEXT"
    if "BLOB" in kind or not kind:
        return "BLOB"
    if re.search("REAL|FLOA|DOUB", kind):
        return "REAL"
    return "NUMERIC"


def _classes(columns: list[sa.ColumnElement]) -> sa.ColumnElement:
    """Per row, 4 bits per column naming its value's storage class (0 for NULL)."""
    names = {"integer": _INTEGER, "real": _REAL, "text": _TEXT, "blob": _BLOB}
    whens = {sa.literal_column(f"'{name}'"): sa.literal_column(str(bit)) for name, bit in names.items()}
    parts = []
    for j, col in enumerate(columns):
        bits = sa.case(whens, value=sa.func.typeof(col), else_=sa.literal_column("0"))
        parts.append(bits * sa.literal_column(str(1 << (_BITS * j))) if j else bits)
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _chunk_rows() -> int:
    from evidence_app.ingest.sources import FETCH_CHUNK  # the Python path's chunk: the same pieces, chunk by chunk

    return FETCH_CHUNK


@dataclass(frozen=True)
class _SQLite:
    """One read through ADBC's SQLite driver, on the engine's own read-only URI."""

    dbapi: object
    uri: str
    sql: str
    args: object
    checks: list[_Check]

    @classmethod
    def prepared(cls, uri: str, conn: sa.Connection, stmt: sa.Select, canonical: list[str],
                 compiled: Compiler) -> "_SQLite | None":
        dbapi = _adbc_sqlite()
        if dbapi is None:
            return None
        checks = _checks(conn, stmt, canonical)
        typed = [check.column for check in checks if not check.expected]
        sql, args = compiled(stmt.add_columns(_classes(typed).label(CLASSES)) if typed else stmt, conn.dialect)
        return cls(dbapi, uri, sql, args, checks)

    def chunks(self) -> Iterator[tuple[list[Piece], str]]:
        with self.dbapi.connect(self.uri) as native:  # type: ignore[attr-defined]
            cursor = native.cursor()
            try:
                cursor.execute("SELECT sqlite_version()")
                version = str(cursor.fetchone()[0])
                cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(_chunk_rows())})
                cursor.execute(self.sql, self.args if self.args else None)
                for batch in _batches(cursor.fetch_record_batch()):
                    yield _pieces(batch, self.checks), version
            finally:
                cursor.close()
                native.rollback()

    def described(self, version: str) -> dict[str, str]:
        return {"driver": f"sqlite+adbc_driver_sqlite {_version('adbc_driver_sqlite')}",
                "server_version": f"SQLite {version}"}


_READ_ONLY = "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"


@cache
def _literal_dialect() -> sa.engine.Dialect:
    """Renders literals as PostgreSQL reads them, without the ``%%`` a pyformat driver needs (imported when a
    PostgreSQL store is read, not by every command)."""
    from sqlalchemy.dialects import postgresql

    return postgresql.psycopg.dialect(paramstyle="numeric_dollar")


_FIRST_US, _PAST_LAST_US = -62_135_596_800_000_000, 253_402_300_800_000_000
"""Python's datetime range (years 1 to 9999) in microseconds since the epoch."""


@dataclass(frozen=True)
class _Postgres:
    """One read through ADBC's PostgreSQL driver (COPY, streamed), on a read-only session."""

    dbapi: object
    uri: str
    sql: str
    zone: str
    """The zone psycopg gives timestamptz values on this server (Arrow's name for it)."""
    args: tuple = ()

    @classmethod
    def prepared(cls, engine: sa.Engine, conn: sa.Connection, stmt: sa.Select) -> "_Postgres | None":
        dbapi = _adbc_postgresql()
        if dbapi is None or "options" in engine.url.query:
            return None
        zone = pa.array([datetime(2000, 1, 1, tzinfo=conn.connection.driver_connection.info.timezone)]).type.tz
        return cls(dbapi, _libpq_uri(engine.url), literal_sql(stmt), zone)

    def chunks(self) -> Iterator[tuple[list[Piece], str]]:
        with self.dbapi.connect(self.uri) as native:  # type: ignore[attr-defined]
            cursor = native.cursor()
            try:
                cursor.execute(_READ_ONLY)
                cursor.execute("SELECT current_setting('client_encoding'), current_setting('transaction_read_only')")
                encoding, read_only = cursor.fetchone()
                if encoding != "UTF8" or read_only != "on":
                    raise NotExact(f"session encoding {encoding}, read-only {read_only}")
                cursor.execute(self.sql)
                for table in _rechunked(cursor.fetch_record_batch(), _chunk_rows()):
                    yield [_server_piece(table.column(j).chunk(0), self.zone) for j in range(table.num_columns)], ""
            finally:
                cursor.close()
                native.rollback()

    def described(self, _version_seen: str) -> dict[str, str]:
        return {"driver": f"postgresql+adbc_driver_postgresql {_version('adbc_driver_postgresql')}",
                "paramstyle": "none: values written into the SQL as typed literals (COPY takes no parameters)"}


def _libpq_uri(url: sa.URL) -> str:
    """The engine's URL for libpq, with the read-only session option (the password stays in it: never log it)."""
    auth = quote(url.username or "", safe="") + (f":{quote(url.password, safe='')}" if url.password else "")
    host = (url.host or "") + (f":{url.port}" if url.port else "")
    query = {**{k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()},
             "options": "-c default_transaction_read_only=on"}
    return f"postgresql://{auth}{'@' if auth else ''}{host}/{quote(url.database or '', safe='')}?" + urlencode(
        query, quote_via=quote)


def literal_sql(stmt: sa.Select) -> str:
    """The statement with its values written in, each typed as psycopg binds it (a float as double precision,
    a datetime as timestamp with or without time zone; text stays an untyped literal, as psycopg sends it)."""

    from sqlalchemy.dialects import postgresql

    def typed(element: object) -> sa.ColumnElement | None:
        if isinstance(element, BindParameter) and not element.expanding:
            value = element.effective_value
            if isinstance(value, float):
                return sa.cast(element, postgresql.DOUBLE_PRECISION)
            if isinstance(value, datetime):
                return sa.cast(element, postgresql.TIMESTAMP(timezone=value.tzinfo is not None))
        return None

    rendered = visitors.replacement_traverse(stmt, {}, typed)
    return str(rendered.compile(dialect=_literal_dialect(),
                                compile_kwargs={"literal_binds": True, "render_postcompile": True}))


def _rechunked(batches: pa.RecordBatchReader, size: int) -> Iterator[pa.Table]:
    """Record batches (cut by bytes) re-cut into tables of ``size`` rows, one chunk per column."""
    held: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        held.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(held)
            yield table.slice(0, size).combine_chunks()
            held, count = table.slice(size).to_batches(), count - size
    if count:
        yield pa.Table.from_batches(held).combine_chunks()


def _server_piece(values: pa.Array, zone: str) -> Piece:
    """A server column's chunk as the Python path types psycopg's values for it, or :class:`NotExact`."""
    kind = values.type
    if values.null_count == len(values):
        return pa.nulls(len(values), pa.large_string())
    if pa.types.is_signed_integer(kind):
        return values.cast(pa.int64())
    if pa.types.is_float64(kind):
        return values
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _piece(values.cast(pa.string()) if pa.types.is_large_string(kind) else values, _TEXT)
    if pa.types.is_timestamp(kind) and kind.unit == "us":
        low, high = pc.min_max(values.cast(pa.int64())).values()
        if low.as_py() < _FIRST_US or high.as_py() >= _PAST_LAST_US:
            raise NotExact("a time beyond the years Python holds (infinity?)")
        return values if kind.tz is None else values.cast(pa.timestamp("us", tz=zone))
    raise NotExact(f"a column of PostgreSQL type {kind}")


def _batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    for batch in reader:
        if batch.num_rows:
            yield batch


def _pieces(batch: pa.RecordBatch, checks: list[_Check]) -> list[Piece]:
    """One batch as the Python path's pieces for the same rows, or :class:`NotExact`."""
    seen = 0
    if batch.num_columns > len(checks):
        for code in batch.column(len(checks)).unique().to_pylist():
            seen |= int(code or 0)
    pieces, typed = [], 0
    for j, check in enumerate(checks):
        if check.expected:
            pieces.append(_piece(batch.column(j), check.expected))
        else:
            classes = (seen >> (_BITS * typed)) & 0xF
            typed += 1
            pieces.append(_piece(batch.column(j), classes if classes in _ARROW else -1))
    return pieces


_ARROW = {_INTEGER: pa.int64(), _REAL: pa.float64(), _TEXT: pa.string()}


def _piece(values: pa.Array, held: int) -> Piece:
    """A column of one batch holding only class ``held`` (and NULLs), typed as
    :func:`~evidence_app.ingest._columnar.chunk_columns` types it."""
    if values.null_count == len(values):
        return pa.nulls(len(values), pa.large_string())  # all NULL: the Python path's text guess holds
    if held not in _ARROW or values.type != _ARROW[held]:
        raise NotExact(f"a column of storage class {held} read as {values.type}")
    if held == _TEXT:
        try:
            values.validate(full=True)  # SQLite text is bytes the driver does not check: Arrow text is UTF-8
        except pa.ArrowInvalid as exc:
            raise NotExact("text that is not UTF-8") from exc
        return values.cast(pa.large_string())
    return values


@cache
def _version(module: str) -> str:
    return str(getattr(importlib.import_module(module), "__version__", "(version unknown)"))
