"""Read-only by construction: every engine refuses writes; sources are byte-identical afterwards."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import timedelta

import pytest
import sqlalchemy as sa

from evidence_app.config.settings import load_config
from evidence_app.ingest.sources import open_store

from scenario import T0, load_server, server_config, server_copy

WRITES = (
    "INSERT INTO {t} (id) VALUES ('intruder')",
    "UPDATE {t} SET id = 'changed'",
    "DELETE FROM {t}",
)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_refused(engine: sa.Engine, table: str) -> None:
    for statement in WRITES:
        with engine.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError):
                conn.execute(sa.text(statement.format(t=table)))
                conn.commit()


READER = f"evidence_reader_{os.getpid()}"


@pytest.fixture
def small(scenario):
    scenario.op("o1").row("a1").op("o2", T0 + timedelta(minutes=5)).failure("f2", T0 + timedelta(minutes=5))
    return scenario


def test_sqlite_refuses_insert_update_delete(small):
    config = load_config(small.write())
    for store_cfg in (config.audit, config.operations):
        store = open_store(store_cfg)
        assert "mode=ro" in store.read_only_mode
        _assert_refused(store.engine, store_cfg.table)


def test_sources_are_byte_identical_after_every_command(small):
    cfg = small.write()
    files = [cfg.parent / "audit.db", cfg.parent / "operations.db", *sorted((cfg.parent / "logpush").rglob("*.gz"))]
    before = {f: _digest(f) for f in files}
    for command in (["coverage", "--by", "day,operator"], ["exceptions"], ["replay-status"]):
        assert small.cli(*command).code == 0
    assert {f: _digest(f) for f in files} == before
    assert not list(cfg.parent.glob("*-journal")) and not list(cfg.parent.glob("*-wal"))


def test_d1_dump_is_loaded_in_memory_and_never_written(small, tmp_path):
    cfg = small.write()
    dump = tmp_path / "audit-export.sql"
    with sqlite3.connect(cfg.parent / "audit.db") as db:
        dump.write_text("PRAGMA defer_foreign_keys=TRUE;\n" + "\n".join(db.iterdump()) + "\n")
    before = _digest(dump)
    cfg.write_text(cfg.read_text().replace('url = "sqlite:///audit.db"', f'd1_dump = "{dump}"'))
    config = load_config(cfg)
    store = open_store(config.audit)
    assert "in-memory" in store.read_only_mode
    _assert_refused(store.engine, "staff_audit_logs")
    res = small.cli("coverage", "--format", "json")
    assert res.code == 0, res.stderr
    assert _digest(dump) == before


def test_unloadable_d1_dump_is_a_clear_error(small, tmp_path):
    cfg = small.write()
    dump = tmp_path / "broken.sql"
    dump.write_text("CREATE TABLE oops (;\n")
    cfg.write_text(cfg.read_text().replace('url = "sqlite:///audit.db"', f'd1_dump = "{dump}"'))
    from click.testing import CliRunner

    from evidence_app.cli import main

    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg)])
    assert res.exit_code == 2 and "audit.d1_dump" in res.stderr


# ------------------------------------------------------------------ servers


def _coverage(scenario, cfg) -> list:
    import json

    from click.testing import CliRunner

    from evidence_app.cli import main

    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg), "--by", "day,operator", "--format", "json"])
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


@pytest.mark.postgres
def test_postgresql_session_refuses_writes_and_reports_a_write_capable_role(pg_admin, small):
    ops_t, audit_t = load_server(pg_admin, small, "ro", native_times=True)
    cfg = server_config(small, "postgresql://postgres:pw@127.0.0.1:5432/postgres", ops_t, audit_t)
    store = open_store(load_config(cfg).audit)
    assert store.write_capable is True  # the superuser could write: that is a finding
    _assert_refused(store.engine, audit_t)


@pytest.mark.postgres
def test_postgresql_select_only_role_is_not_a_finding(pg_admin, small):
    ops_t, audit_t = load_server(pg_admin, small, "role", native_times=True)
    with pg_admin.begin() as conn:
        conn.execute(sa.text(f"DROP ROLE IF EXISTS {READER}"))
        conn.execute(sa.text(f"CREATE ROLE {READER} LOGIN"))
        conn.execute(sa.text(f"GRANT SELECT ON {ops_t}, {audit_t} TO {READER}"))
    try:
        cfg = server_config(small, f"postgresql://{READER}@127.0.0.1:5432/postgres", ops_t, audit_t)
        store = open_store(load_config(cfg).audit)
        assert store.write_capable is False
        _assert_refused(store.engine, audit_t)
    finally:
        with pg_admin.begin() as conn:
            conn.execute(sa.text(f"REVOKE ALL ON {ops_t}, {audit_t} FROM {READER}"))
        with pg_admin.begin() as conn:
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {READER}"))


@pytest.mark.postgres
def test_postgresql_gives_the_same_numbers_as_sqlite(pg_admin, small):
    expected = _coverage(small, small.write())
    cfg = server_copy(pg_admin, small, "same", "postgresql://postgres@127.0.0.1:5432/postgres")
    assert _coverage(small, cfg) == expected


@pytest.mark.mariadb
def test_mariadb_session_refuses_writes(mariadb_admin, small):
    ops_t, audit_t = load_server(mariadb_admin, small, "ro", native_times=False)
    cfg = server_config(small, "mysql://root@127.0.0.1:3306/test", ops_t, audit_t)
    store = open_store(load_config(cfg).audit)
    assert "READ ONLY" in store.read_only_mode
    assert store.write_capable is True  # root holds ALL PRIVILEGES
    _assert_refused(store.engine, audit_t)


@pytest.mark.mariadb
def test_mariadb_gives_the_same_numbers_as_sqlite(mariadb_admin, small):
    expected = _coverage(small, small.write())
    cfg = server_copy(mariadb_admin, small, "same", "mariadb://root@127.0.0.1:3306/test")
    assert _coverage(small, cfg) == expected


@pytest.mark.postgres
def test_postgresql_column_names_match_case_insensitively(pg_admin, small):
    expected = _coverage(small, small.write())
    cfg = server_copy(pg_admin, small, "case", "postgresql://postgres@127.0.0.1:5432/postgres")
    cfg.write_text(cfg.read_text() + '\n[audit.columns]\ncreated_at = "CREATED_AT"\n')
    assert _coverage(small, cfg) == expected


def test_unreachable_server_is_a_clear_error_with_the_password_masked(small):
    cfg = server_config(small, "postgresql://auditor:hunter2@127.0.0.1:1/none", "ops", "audit")
    from click.testing import CliRunner

    from evidence_app.cli import main

    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg)])
    assert res.exit_code == 2
    assert "operations" in res.stderr and "hunter2" not in res.stderr and "Traceback" not in res.stderr


def _assert_native_refused(dbapi, uri: str, table: str, prepare: str | None = None) -> None:
    """The native (ADBC) connection the tool reads through refuses every write."""
    for statement in WRITES:
        with dbapi.connect(uri) as conn, conn.cursor() as cur:
            if prepare:
                cur.execute(prepare)
            with pytest.raises(Exception, match="(?i)read-?only"):
                cur.execute(statement.format(t=table))
                conn.commit()


def test_sqlite_native_connection_refuses_insert_update_delete(small):
    from evidence_app.ingest import native
    from evidence_app.ingest.sqlite_files import native_uri

    config = load_config(small.write())
    for store_cfg in (config.audit, config.operations):
        store = open_store(store_cfg)
        _assert_native_refused(native._adbc_sqlite(), native_uri(store.engine), store_cfg.table)


@pytest.mark.postgres
def test_postgresql_native_session_refuses_writes(pg_admin, small):
    from evidence_app.ingest import native
    from evidence_app.ingest.sources import _select_present

    ops_t, audit_t = load_server(pg_admin, small, "nro", native_times=True)
    cfg = server_config(small, "postgresql://postgres:pw@127.0.0.1:5432/postgres", ops_t, audit_t)
    store = open_store(load_config(cfg).audit)
    with store.engine.connect() as conn:
        reader = native._Postgres.prepared(store.engine, conn, _select_present(store)[2])
    _assert_native_refused(native._adbc_postgresql(), reader.uri, audit_t)  # the URI's options alone
    _assert_native_refused(native._adbc_postgresql(), reader.uri, audit_t, native._READ_ONLY)


@pytest.mark.mariadb
def test_mariadb_is_read_through_its_read_only_pymysql_session(mariadb_admin, small):
    from evidence_app.ingest.sources import select_frame

    ops_t, audit_t = load_server(mariadb_admin, small, "nat", native_times=False)
    cfg = server_config(small, "mysql://root@127.0.0.1:3306/test", ops_t, audit_t)
    records: list = []
    select_frame(open_store(load_config(cfg).audit), "created_at", None, record=records.append)
    assert records[0].driver.startswith("mysql+pymysql ")
