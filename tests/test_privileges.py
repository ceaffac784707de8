"""A role that can write is a finding whichever way the privilege reaches it (a column, TRUNCATE, TRIGGER,
a role), on the real PostgreSQL and MariaDB servers; and every command prints it as a warning."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from evidence_app.cli import main
from evidence_app.config.settings import load_config
from evidence_app.ingest.privileges import granted_roles, mysql_grants_write
from evidence_app.ingest.sources import open_store

from scenario import T0, load_server, server_config

PID = os.getpid()
READER, WRITER, NESTED = f"ev_priv_reader_{PID}", f"ev_priv_writer_{PID}", f"ev_priv_nested_{PID}"


@pytest.fixture
def small(scenario):
    scenario.op("o1").row("a1").op("o2", T0 + timedelta(minutes=5)).failure("f2", T0 + timedelta(minutes=5))
    return scenario


def _exec(admin: sa.Engine, *statements: str) -> None:
    for statement in statements:
        with admin.begin() as conn:
            conn.execute(sa.text(statement))


# ------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def pg_tables(pg_admin, small):
    ops_t, audit_t = load_server(pg_admin, small, "priv", native_times=True)
    _exec(pg_admin, f"DROP ROLE IF EXISTS {READER}", f"DROP ROLE IF EXISTS {WRITER}",
          f"CREATE ROLE {READER} LOGIN", f"CREATE ROLE {WRITER} NOLOGIN",
          f"GRANT SELECT ON {ops_t}, {audit_t} TO {READER}")
    yield ops_t, audit_t
    _exec(pg_admin, f"REVOKE ALL ON {ops_t}, {audit_t} FROM {READER}, {WRITER}, PUBLIC",
          f"DROP ROLE IF EXISTS {READER}", f"DROP ROLE IF EXISTS {WRITER}")


def _pg_write_capable(small, ops_t: str, audit_t: str) -> bool | None:
    cfg = server_config(small, f"postgresql://{READER}@127.0.0.1:5432/postgres", ops_t, audit_t)
    store = open_store(load_config(cfg).audit)
    store.engine.dispose()
    return store.write_capable


@pytest.mark.postgres
@pytest.mark.parametrize("grants", [
    ["GRANT UPDATE (user_id) ON {audit} TO {reader}"],
    ["GRANT INSERT (target) ON {audit} TO {reader}"],
    ["GRANT TRUNCATE ON {audit} TO {reader}"],
    ["GRANT TRIGGER ON {audit} TO {reader}"],
    ["GRANT DELETE ON {audit} TO {writer}", "GRANT {writer} TO {reader}"],
    ["GRANT INSERT ON {audit} TO {writer}", "ALTER ROLE {reader} NOINHERIT", "GRANT {writer} TO {reader}"],
    ["GRANT UPDATE ON {audit} TO PUBLIC"],
], ids=["column-update", "column-insert", "truncate", "trigger", "through-a-role", "set-role", "public"])
def test_postgresql_write_privilege_in_any_form_is_a_finding(pg_admin, pg_tables, small, grants):
    ops_t, audit_t = pg_tables
    _exec(pg_admin, *(g.format(audit=audit_t, reader=READER, writer=WRITER) for g in grants))
    assert _pg_write_capable(small, ops_t, audit_t) is True


@pytest.mark.postgres
@pytest.mark.parametrize("grants", [[], ["GRANT REFERENCES ON {audit} TO {reader}"],
                                    ["GRANT UPDATE ON {ops} TO {reader}"]],
                         ids=["select-only", "references", "another-table"])
def test_postgresql_privileges_that_cannot_write_the_table_are_no_finding(pg_admin, pg_tables, small, grants):
    ops_t, audit_t = pg_tables
    _exec(pg_admin, *(g.format(audit=audit_t, ops=ops_t, reader=READER) for g in grants))
    assert _pg_write_capable(small, ops_t, audit_t) is False


@pytest.mark.postgres
@pytest.mark.parametrize("command", [["coverage"], ["exceptions"], ["replay-status"], ["pack"]])
def test_every_command_prints_the_write_capable_finding(pg_admin, small, tmp_path, command):
    ops_t, audit_t = load_server(pg_admin, small, "warn", native_times=True)
    cfg = server_config(small, "postgresql://postgres@127.0.0.1:5432/postgres", ops_t, audit_t)
    args = [*command, "--config", str(cfg), "--start", "2026-10-01", "--end", "2026-10-01"]
    if command == ["pack"]:
        assert CliRunner().invoke(main, ["keygen", str(tmp_path / "id"), "--valid-from", "2026-01-01"]).exit_code == 0
        args += ["--out", str(tmp_path / "p.pdf"), "--key", str(tmp_path / "id" / "key.pem"),
                 "--cert", str(tmp_path / "id" / "cert.pem")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.stderr
    findings = [line for line in res.stderr.splitlines() if line.startswith("warning: audit: finding: ")]
    assert len(findings) == 1 and "can write" in findings[0]


# ------------------------------------------------------------------ MariaDB


@pytest.fixture
def maria_tables(mariadb_admin, small):
    ops_t, audit_t = load_server(mariadb_admin, small, "priv", native_times=False)
    _exec(mariadb_admin, f"DROP USER IF EXISTS '{READER}'@'%'", f"DROP ROLE IF EXISTS {WRITER}",
          f"DROP ROLE IF EXISTS {NESTED}", f"CREATE USER '{READER}'@'%'", f"CREATE ROLE {WRITER}",
          f"CREATE ROLE {NESTED}", f"GRANT SELECT ON test.{ops_t} TO '{READER}'@'%'",
          f"GRANT SELECT ON test.{audit_t} TO '{READER}'@'%'")
    yield ops_t, audit_t
    _exec(mariadb_admin, f"DROP USER IF EXISTS '{READER}'@'%'", f"DROP ROLE IF EXISTS {WRITER}",
          f"DROP ROLE IF EXISTS {NESTED}")


def _maria_write_capable(small, ops_t: str, audit_t: str) -> bool | None:
    cfg = server_config(small, f"mysql://{READER}@127.0.0.1:3306/test", ops_t, audit_t)
    store = open_store(load_config(cfg).audit)
    store.engine.dispose()
    return store.write_capable


@pytest.mark.mariadb
@pytest.mark.parametrize("grants", [
    ["GRANT UPDATE (user_id) ON test.{audit} TO '{reader}'@'%'"],
    ["GRANT INSERT ON test.{audit} TO {writer}", "GRANT {writer} TO '{reader}'@'%'"],
    ["GRANT DELETE ON test.{audit} TO {writer}", "GRANT {writer} TO '{reader}'@'%'",
     "SET DEFAULT ROLE {writer} FOR '{reader}'@'%'"],
    ["GRANT UPDATE ON test.{audit} TO {nested}", "GRANT {nested} TO {writer}", "GRANT {writer} TO '{reader}'@'%'"],
    ["GRANT DROP ON test.* TO '{reader}'@'%'"],
    ["GRANT TRIGGER ON test.{audit} TO '{reader}'@'%'"],
], ids=["column-update", "granted-role", "default-role", "nested-role", "drop-on-database", "trigger"])
def test_mariadb_write_privilege_in_any_form_is_a_finding(mariadb_admin, maria_tables, small, grants):
    ops_t, audit_t = maria_tables
    _exec(mariadb_admin, *(g.format(audit=audit_t, reader=READER, writer=WRITER, nested=NESTED) for g in grants))
    assert _maria_write_capable(small, ops_t, audit_t) is True


@pytest.mark.mariadb
def test_mariadb_select_only_user_is_no_finding(mariadb_admin, maria_tables, small):
    assert _maria_write_capable(small, *maria_tables) is False


# ------------------------------------------------------------------ the grant parser


def test_a_column_named_like_a_privilege_grants_nothing():
    assert not mysql_grants_write(["GRANT SELECT (`delete`, `update`) ON `db`.`t` TO `u`@`%`"], "db", "t")


def test_database_wildcards_in_grants_are_honoured():
    assert mysql_grants_write(["GRANT INSERT ON `au%`.* TO `u`@`%`"], "audit_db", "t")
    assert not mysql_grants_write(["GRANT INSERT ON `au\\_x`.* TO `u`@`%`"], "auyx", "t")


def test_role_grant_lines_name_their_roles():
    assert granted_roles("GRANT `r1`,`r2` TO `u`@`%` WITH ADMIN OPTION") == ["`r1`", "`r2`"]
    assert granted_roles("GRANT `r`@`%` TO `u`@`%`") == ["`r`@`%`"]
    assert granted_roles("GRANT SELECT ON `db`.* TO `u`@`%`") == []
