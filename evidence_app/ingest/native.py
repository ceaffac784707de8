"""Native columnar reads: SQLite rows go from the driver straight into Arrow (ADBC), with exactly the values,
types and NULLs the Python path (:mod:`evidence_app.ingest._columnar`) would give, or not at all.

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

PostgreSQL and MySQL/MariaDB keep the Python path: ADBC's PostgreSQL driver streams (COPY) only statements
without bound parameters, and holds a parameterised result whole in memory; see docs/DESIGN.md.
``EVIDENCE_APP_PYTHON_READS=1`` forces the Python path everywhere.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import cache
from typing import Callable, Iterator

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from evidence_app.ingest._columnar import Piece, dictionary_encoded, frame_of
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


@cache
def _adbc_sqlite():  # noqa: ANN202 - the driver's dbapi module, or None
    """ADBC's SQLite driver, imported once; a missing or broken one is said once in the log, not raised."""
    try:
        import adbc_driver_sqlite.dbapi as dbapi
    except Exception as exc:  # noqa: BLE001 - any import failure means: use the Python path
        _log.warning("native SQLite reads off (the Python path reads instead): adbc-driver-sqlite: %s", exc)
        return None
    return dbapi


def read(engine: sa.Engine, conn: sa.Connection, stmt: sa.Select, canonical: list[str],
         progress: Callable[[int], None] | None, keep: Callable[[pd.DataFrame], pd.DataFrame] | None,
         record: Record | None, repetitive: frozenset[str], compiled: Compiler) -> Outcome:
    """The frame read natively, or ``Outcome(None, reported)`` when this read must take the Python path."""
    uri = native_uri(engine)
    if uri is None or forced_python() or len(canonical) > _MAX_COLUMNS:
        return Outcome(None)
    dbapi = _adbc_sqlite()
    if dbapi is None:
        return Outcome(None)
    counted = _Counted(progress)
    try:
        checks = _checks(conn, stmt, canonical)
        typed = [check.column for check in checks if not check.expected]
        sql, args = compiled(stmt.add_columns(_classes(typed).label(CLASSES)) if typed else stmt, conn.dialect)
        frame, returned, version = _read(dbapi, uri, sql, args, canonical, checks, counted, keep, repetitive)
    except NotExact as exc:
        _log.info("native read not exact (%s): read again through the Python path", exc)
        return Outcome(None, counted.total)
    except Exception as exc:  # noqa: BLE001 - a driver's error: the Python path reads and reports it properly
        _log.info("native read failed (%s): read again through the Python path", type(exc).__name__)
        return Outcome(None, counted.total)
    if record is not None:
        record(sql, args, returned, conn, driver=f"sqlite+adbc_driver_sqlite {_version()}",
               server_version=f"SQLite {version}")
    return Outcome(frame)


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
    """Declared column affinities of the table read (SQLite's rules); a view's columns have none we can trust."""
    froms = stmt.get_final_froms()
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


def _read(dbapi, uri: str, sql: str, args: object, canonical: list[str], checks: list[_Check],  # noqa: ANN001
          progress: _Counted, keep: Callable[[pd.DataFrame], pd.DataFrame] | None,
          repetitive: frozenset[str]) -> tuple[pd.DataFrame, int, str]:
    from evidence_app.ingest.sources import FETCH_CHUNK  # the Python path's chunk: the same pieces, batch by batch

    pieces: list[list[Piece]] = [[] for _ in canonical]
    encode = [j for j, name in enumerate(canonical) if name in repetitive]
    kept: list[pd.DataFrame] = []
    returned = 0
    with dbapi.connect(uri) as native:
        cursor = native.cursor()
        try:
            cursor.execute("SELECT sqlite_version()")
            version = str(cursor.fetchone()[0])
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(FETCH_CHUNK)})
            cursor.execute(sql, args if args else None)
            for batch in _batches(cursor.fetch_record_batch()):
                columns = _pieces(batch, checks)
                returned += batch.num_rows
                for j in encode:
                    columns[j] = dictionary_encoded(columns[j])
                if keep is not None:
                    kept.append(keep(frame_of([[c] for c in columns], canonical)))
                else:
                    for j, column in enumerate(columns):
                        pieces[j].append(column)
                progress(batch.num_rows)
        finally:
            cursor.close()
            native.rollback()
    if keep is not None:
        return (pd.concat(kept, ignore_index=True) if kept else frame_of(pieces, canonical)), returned, version
    return frame_of(pieces, canonical), returned, version


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
def _version() -> str:
    import adbc_driver_sqlite

    return str(getattr(adbc_driver_sqlite, "__version__", "(version unknown)"))
