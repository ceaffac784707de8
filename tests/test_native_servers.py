"""Native reads from PostgreSQL (ADBC, COPY) give the Python path's frames, or leave the read to it; read-only."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from unittest import mock

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from evidence_app.config.settings import AUDIT_COLUMNS, StoreConfig
from evidence_app.errors import SourceError
from evidence_app.ingest import native, sources

from conftest import PG_ADMIN_URL

TABLE = f"ev_native_{os.getpid()}"
PLAIN = {"id": "text", "created_at": "timestamptz", "action": "varchar(20)", "restaurant_id": "int4",
         "user_id": "int8", "target": "text", "origin": "char(3)", "inserted_at": "timestamp", "route": "int2",
         "request_id": "float8"}
ROWS = """SELECT 'a' || i, TIMESTAMPTZ '2026-10-01 12:00:00.5+02' + i * INTERVAL '1 hour',
                 CASE WHEN mod(i, 3) = 0 THEN NULL ELSE 'cache_purge' END, i, CASE WHEN i > 6 THEN i END,
                 CASE WHEN mod(i, 2) = 0 THEN '' ELSE '["m-1"]' END, 'z', TIMESTAMP '2026-10-01 12:00:00.25',
                 NULL, i / 3.0 FROM generate_series(1, 9) i"""


def _table(admin: sa.Engine, types: dict[str, str], rows: str = ROWS) -> None:
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
        conn.exec_driver_sql(f"CREATE TABLE {TABLE} ({', '.join(f'{c} {t}' for c, t in types.items())})")
        conn.exec_driver_sql(f"INSERT INTO {TABLE} {rows}")


@pytest.fixture
def pg(pg_admin):
    yield pg_admin
    with pg_admin.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")


def _store(types: dict[str, str]) -> sources.Store:
    required, optional = AUDIT_COLUMNS
    cfg = StoreConfig(key="audit", table=TABLE, columns={c: c for c in types}, optional=frozenset(optional),
                      url=make_url(PG_ADMIN_URL))
    return sources.open_store(cfg)


def _read(store: sources.Store, python: bool, chunk: int, window: sources.Window | None = None):
    records: list = []
    with mock.patch.dict(os.environ, {native.FORCE_PYTHON: "1" if python else "0"}), \
            mock.patch.object(sources, "FETCH_CHUNK", chunk):
        frame = sources.select_frame(store, "created_at", window, record=records.append,
                                     repetitive=frozenset({"action"}))
    return frame, records[0]


def _same(store: sources.Store, chunk: int, window: sources.Window | None = None) -> str:
    (frame, record), (expected, python_record) = _read(store, False, chunk, window), _read(store, True, chunk, window)
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert record.rows_returned == python_record.rows_returned == len(expected)
    return record.driver


@pytest.mark.parametrize("chunk", [1, 2, 4, 50_000])
def test_integers_doubles_text_and_times_read_the_same_natively(pg, chunk):
    _table(pg, PLAIN)
    assert _same(_store(PLAIN), chunk).startswith("postgresql+adbc_driver_postgresql ")


@pytest.mark.parametrize("kind, value", [("numeric", "1.50"), ("float4", "0.1"), ("uuid", "gen_random_uuid()"),
                                         ("json", """'{"a": 1}'"""), ("jsonb", """'{"b": 2, "a": 1}'"""),
                                         ("bool", "true"), ("date", "DATE '2026-10-01'")])
def test_a_type_psycopg_gives_otherwise_is_left_to_the_python_path(pg, kind, value):
    types = {**PLAIN, "target": kind}
    rows = ROWS.replace("""CASE WHEN mod(i, 2) = 0 THEN '' ELSE '["m-1"]' END""", value)
    _table(pg, types, rows)
    assert _same(_store(types), chunk=4).startswith("postgresql+psycopg ")


def test_an_infinite_time_is_never_read_natively(pg):
    _table(pg, PLAIN, ROWS.replace("TIMESTAMP '2026-10-01 12:00:00.25'", "TIMESTAMP 'infinity'"))
    store = _store(PLAIN)
    with pytest.raises(SourceError) as python_error:
        _read(store, True, 4)
    with pytest.raises(SourceError) as native_error:
        _read(store, False, 4)
    assert str(native_error.value) == str(python_error.value)


def test_a_windowed_read_sends_typed_literals_and_returns_the_python_paths_rows(pg):
    _table(pg, PLAIN)
    window = sources.Window(datetime(2026, 10, 1, 14, tzinfo=timezone.utc), datetime(2026, 10, 1, 16, tzinfo=timezone.utc))
    store = _store(PLAIN)
    assert _same(store, 4, window).startswith("postgresql+adbc_driver_postgresql ")
    _, record = _read(store, False, 4, window)
    assert record.parameters == () and "AS TIMESTAMP WITHOUT TIME ZONE" in record.sql
    with pg.connect() as conn:
        assert len(conn.exec_driver_sql(record.sql.replace("%", "%%")).all()) == record.rows_returned


def test_text_times_are_filtered_with_the_same_patterns(pg):
    types = {**PLAIN, "created_at": "text"}
    _table(pg, types, ROWS.replace("TIMESTAMPTZ '2026-10-01 12:00:00.5+02' + i * INTERVAL '1 hour'",
                                   "CASE WHEN i = 4 THEN '2026-13-45T99:99:99Z' ELSE '2026-10-0' || i || 'T12:00:00Z' END"))
    window = sources.Window(datetime(2026, 10, 3, tzinfo=timezone.utc), datetime(2026, 10, 4, tzinfo=timezone.utc))
    assert _same(_store(types), 4, window).startswith("postgresql+adbc_driver_postgresql ")


WRITES = ("INSERT INTO {t} (id) VALUES ('intruder')", "UPDATE {t} SET id = 'changed'", "DELETE FROM {t}")


@pytest.mark.parametrize("statement", WRITES)
def test_the_native_postgresql_session_refuses_writes(pg, statement):
    _table(pg, PLAIN)
    store = _store(PLAIN)
    with store.engine.connect() as conn:
        reader = native._Postgres.prepared(store.engine, conn, sources._select_present(store)[2])
    with native._adbc_postgresql().connect(reader.uri) as conn, conn.cursor() as cur:  # the URI's options alone
        with pytest.raises(Exception, match="read-only transaction"):
            cur.execute(statement.format(t=TABLE))
            conn.commit()
    with pg.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE} WHERE id LIKE 'a%%'").scalar() == 9


def test_a_native_postgresql_failure_never_logs_the_url(pg, monkeypatch, caplog):
    _table(pg, PLAIN)

    def leaky(self):  # noqa: ANN001
        raise RuntimeError(f"could not connect to {self.uri.replace('postgres@', 'postgres:hunter2@')}")
        yield

    monkeypatch.setattr(native._Postgres, "chunks", leaky)
    with caplog.at_level(logging.DEBUG):
        frame, record = _read(_store(PLAIN), False, 4)
    assert len(frame) == 9 and record.driver.startswith("postgresql+psycopg ") and "hunter2" not in caplog.text
