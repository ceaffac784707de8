"""Re-performable extraction ("information produced by the entity"): what exactly was asked of each source.

A :class:`QueryRecord` is made where a query runs (``sources._fetch``): the SQL text as sent to the driver, its
bound parameters, the rows the database returned, the driver, the server's version and this tool's — so an
auditor can run the same query and compare the count. Files (a D1 dump, the Logpush files) are identified by
name, size and SHA-256 (:class:`FileRecord`); objects read from S3/R2 also by their key and ETag.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

import sqlalchemy as sa

from evidence_app import __version__

_READ = 1 << 20


@dataclass(frozen=True)
class QueryRecord:
    """One SELECT sent to a source, as sent."""

    source: str
    """``operations`` or ``audit`` (the config section)."""
    purpose: str
    """Why it ran, in words (the period's window, the request-id top-up beyond it)."""
    sql: str
    """The statement text exactly as handed to the driver (in the driver's paramstyle)."""
    parameters: tuple[Any, ...] | dict[str, Any]
    """The bound values, in order (positional paramstyles) or by name; times as ISO-8601 text."""
    paramstyle: str
    """The driver's DBAPI paramstyle (``qmark`` for SQLite, ``pyformat`` for psycopg and PyMySQL)."""
    rows_returned: int
    """Rows the database returned for the statement (before any filtering in this tool)."""
    driver: str
    """DBAPI driver and its version."""
    server_version: str
    """The database's own version (SQLite: the library's)."""

    def as_json(self) -> dict:
        params = dict(self.parameters) if isinstance(self.parameters, dict) else list(self.parameters)
        return {"source": self.source, "purpose": self.purpose, "sql": self.sql, "parameters": params,
                "paramstyle": self.paramstyle, "rows_returned": self.rows_returned, "driver": self.driver,
                "server_version": self.server_version}


@dataclass(frozen=True)
class FileRecord:
    """A file read as a source, identified by its bytes."""

    role: str
    """``audit.d1_dump``, ``operations.d1_dump`` or ``worker_logs``."""
    name: str
    """Its path as read (an object: ``s3://bucket/key``)."""
    size: int
    """Bytes."""
    sha256: str
    key: str | None = None
    """An object's key in its bucket (None: a file on disk)."""
    etag: str | None = None
    """An object's ETag as the store listed it (None: a file on disk)."""

    def as_json(self) -> dict:
        found = {"role": self.role, "name": self.name, "size": self.size, "sha256": self.sha256}
        return found if self.key is None else {**found, "key": self.key, "etag": self.etag}


def query_record(source: str, purpose: str, sql: str, args: object, rows: int, conn: sa.Connection,
                 driver: str | None = None, server_version: str | None = None,
                 paramstyle: str | None = None) -> QueryRecord:
    """The record of one statement just run on ``conn`` (or, where given, through a native ``driver`` whose
    database reports ``server_version``, with its own ``paramstyle``)."""
    dialect = conn.dialect
    params = {k: _plain(v) for k, v in args.items()} if isinstance(args, dict) else tuple(_plain(v) for v in args or ())
    return QueryRecord(source=source, purpose=purpose, sql=sql, parameters=params,
                       paramstyle=paramstyle or str(getattr(dialect, "paramstyle", "") or ""), rows_returned=rows,
                       driver=driver or _driver(dialect), server_version=server_version or _server(dialect))


def tool_versions() -> dict[str, str]:
    """This tool and the libraries that shape its queries."""
    return {"evidence-app": __version__, "sqlalchemy": sa.__version__, "python": platform.python_version()}


def file_record(path: str | Path, role: str) -> FileRecord:
    """Name, size and SHA-256 of a file, read in bounded pieces."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ):
            digest.update(chunk)
            size += len(chunk)
    return FileRecord(role=role, name=str(path), size=size, sha256=digest.hexdigest())


def file_records(dumps: Iterable[tuple[str, Path]], log_files: Iterable[str],
                 objects: Iterable[Any] = ()) -> tuple[FileRecord, ...]:
    """Every source file: the D1 dumps (role, path) and the Logpush files read; a log read from object storage
    by what was recorded while it streamed (``ObjectRecord``: key, size, ETag, SHA-256), never fetched again."""
    streamed = {o.name: o for o in objects}
    return tuple([file_record(path, role) for role, path in dumps]
                 + [_object_record(streamed[p]) if p in streamed else file_record(p, "worker_logs") for p in log_files])


def _object_record(obj: Any) -> FileRecord:
    return FileRecord(role="worker_logs", name=obj.name, size=obj.size, sha256=obj.sha256, key=obj.key, etag=obj.etag)


def _plain(value: object) -> object:
    """A bound value as JSON can hold it (times as ISO-8601 text, as the driver would compare them)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _driver(dialect: sa.Dialect) -> str:
    module = getattr(dialect, "dbapi", None) or getattr(dialect, "loaded_dbapi", None)
    version = getattr(module, "__version__", None) or getattr(module, "VERSION_STRING", None)
    if version is None and dialect.name == "sqlite":
        version = f"Python {platform.python_version()}"
    return f"{dialect.name}+{dialect.driver} {version or '(version unknown)'}"


def _server(dialect: sa.Dialect) -> str:
    info = getattr(dialect, "server_version_info", None)
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB"}.get(
        dialect.name, dialect.name)
    if getattr(dialect, "is_mariadb", False):
        name = "MariaDB"
    return f"{name} {'.'.join(str(p) for p in info)}" if info else f"{name} (version unknown)"
