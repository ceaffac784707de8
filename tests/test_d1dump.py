"""Dumps are data, not programs: a `wrangler d1 export` loads; anything a dump could do beyond data is
refused (exit 2, naming the statement and its line) before it touches a file."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.cli import main
from evidence_app.config.settings import load_config
from evidence_app.errors import SourceError
from evidence_app.ingest import d1dump
from evidence_app.ingest.d1dump import DumpRefused, Statement, execute_dump, private_connection, split_statements
from evidence_app.ingest.sources import open_store

from scenario import T0, Scenario

HEADER = "PRAGMA defer_foreign_keys=TRUE;\n"
TABLE = ("CREATE TABLE staff_audit_logs (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, "
         "action TEXT NOT NULL, route TEXT, restaurant_id TEXT, user_id TEXT, target TEXT, request_id TEXT, "
         "origin TEXT, inserted_at TEXT);\n")
ROW = ("INSERT INTO \"staff_audit_logs\" VALUES({id},'2026-10-01 12:00:00','cache_purge','/api/cache-purge',"
       "'r1','u1','[\"m-1\"]',NULL,NULL,NULL);\n")


def _fixture_dir() -> Path:
    """The real wrangler export, kept in the repository (tests/fixtures), so a fresh clone has it."""
    return Path(__file__).resolve().parent / "fixtures" / "wrangler-d1-export"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def world(scenario: Scenario) -> Scenario:
    """Two operations (o1 logged, o2 missing) next to the dump's folder."""
    scenario.op("o1").row("1").op("o2", T0.replace(hour=13))
    scenario.write()
    return scenario


def _with_dump(world: Scenario, body: str) -> tuple[Path, Path]:
    """Point the audit store at a dump next to operations.db; return (config, dump)."""
    cfg = world.write()
    dump = cfg.parent / "audit-export.sql"
    dump.write_text(body, encoding="utf-8")
    cfg.write_text(cfg.read_text().replace('url = "sqlite:///audit.db"', 'd1_dump = "audit-export.sql"'))
    return cfg, dump


def _run(cfg: Path, *args: str):
    return CliRunner().invoke(main, ["coverage", "--config", str(cfg), "--format", "json", *args])


def _assert_refused(res, *named: str) -> None:
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: audit.d1_dump:"), err
    assert "Traceback" not in err
    for text in named:
        assert text in err, (text, err)


# ------------------------------------------------------------------ the real export


def test_the_real_wrangler_export_loads_with_its_readme_figures(tmp_path):
    fixture = _fixture_dir()
    cfg = tmp_path / "evidence.toml"
    cfg.write_text(f'[audit]\nd1_dump = "{fixture / "audit-export.sql"}"\n\n'
                   f'[operations]\nd1_dump = "{fixture / "ops.sql"}"\ntable = "operations"\n')
    before = {p: _digest(p) for p in fixture.iterdir()}
    res = _run(cfg)
    assert res.exit_code == 0, res.stderr
    [total] = json.loads(res.stdout)
    assert (total["expected"], total["logged"], total["replayed"], total["backfilled"], total["missing_silent"]) == (
        4, 1, 1, 1, 1)
    assert {p: _digest(p) for p in fixture.iterdir()} == before


def test_a_dump_from_sqlite3_iterdump_loads(world, tmp_path):
    cfg = world.write()
    with sqlite3.connect(cfg.parent / "audit.db") as db:
        body = "\n".join(db.iterdump()) + "\n"
    db.close()
    cfg, _ = _with_dump(world, body)
    res = _run(cfg)
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)[0]["logged"] == 1


def test_triggers_and_views_after_the_data_are_kept_and_never_run(world):
    append_only = ("CREATE TRIGGER no_update BEFORE UPDATE ON staff_audit_logs BEGIN "
                   "SELECT RAISE(ABORT, 'append only; END;'); END;\n")
    cfg, _ = _with_dump(world, HEADER + TABLE + ROW.format(id=1) + append_only
                        + "CREATE VIEW recent AS SELECT * FROM staff_audit_logs;\n")
    res = _run(cfg)
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)[0]["logged"] == 1


def test_semicolons_inside_strings_and_comments_do_not_split_statements():
    script = ("INSERT INTO t VALUES('a;b', \"c;d\"); -- ; ATTACH 'x' AS y;\n"
              "/* ; */ INSERT INTO t VALUES('it''s;');\nCREATE TRIGGER g AFTER INSERT ON t BEGIN\n"
              "  SELECT CASE WHEN 1 THEN 2 END;\n  SELECT 3;\nEND;\nANALYZE")
    found = [(s.line, s.text.split()[0]) for s in split_statements(script)]
    assert found == [(1, "INSERT"), (2, "INSERT"), (3, "CREATE"), (7, "ANALYZE")]


# ------------------------------------------------------------------ the attacks


def test_attach_and_delete_on_the_neighbouring_operations_store_is_refused(world):
    ops = world.root / "operations.db"
    before = _digest(ops)
    cfg, _ = _with_dump(world, HEADER + TABLE + ROW.format(id=1)
                        + "ATTACH DATABASE 'operations.db' AS ops;\nDELETE FROM ops.operations WHERE id = 'o2';\n")
    res = _run(cfg)
    _assert_refused(res, "line 4", "ATTACH DATABASE")
    assert _digest(ops) == before
    with sqlite3.connect(ops) as db:
        assert db.execute("SELECT count(*) FROM operations").fetchone() == (2,)
    db.close()


def test_attach_creating_a_new_file_is_refused_and_creates_nothing(world, tmp_path):
    target = tmp_path / "planted.db"
    cfg, _ = _with_dump(world, HEADER + TABLE + f"ATTACH '{target}' AS p;\nCREATE TABLE p.x (a);\n")
    _assert_refused(_run(cfg), "line 3", "ATTACH")
    assert not target.exists()


def test_vacuum_into_is_refused_and_writes_nothing(world, tmp_path):
    target = tmp_path / "copy.db"
    cfg, _ = _with_dump(world, HEADER + TABLE + ROW.format(id=1) + f"VACUUM INTO '{target}';\n")
    _assert_refused(_run(cfg), "line 4", "VACUUM")
    assert not target.exists()


@pytest.mark.parametrize("statement", [
    "SELECT load_extension('/tmp/evil.so');",
    "INSERT INTO staff_audit_logs (id, created_at, action) VALUES (9, load_extension('/tmp/evil'), 'x');",
    "PRAGMA temp_store_directory = '/tmp';",
    "PRAGMA writable_schema = ON;",
    "PRAGMA journal_mode = WAL;",
    "PRAGMA main.query_only = OFF;",
    "DETACH DATABASE ops;",
    "CREATE TEMP TABLE staff_audit_logs (id, created_at, action, restaurant_id, user_id, target);",
    "CREATE TABLE temp.shadow (a);",
    "INSERT INTO staff_audit_logs SELECT * FROM staff_audit_logs;",
    "INSERT INTO staff_audit_logs (id, created_at, action) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
    "SELECT x + 1 FROM c) SELECT x, '2026-10-01', 'a' FROM c;",
    "INSERT OR REPLACE INTO staff_audit_logs (id, created_at, action) VALUES (1, '2026-10-01', 'x');",
    "REPLACE INTO staff_audit_logs (id, created_at, action) VALUES (1, '2026-10-01', 'x');",
    "UPDATE staff_audit_logs SET user_id = 'u2';",
    "DELETE FROM staff_audit_logs;",
    "DROP TABLE staff_audit_logs;",
    "ALTER TABLE staff_audit_logs RENAME TO gone;",
    "CREATE VIRTUAL TABLE v USING fts5(a);",
    "CREATE TABLE copy AS SELECT * FROM staff_audit_logs;",
    "SAVEPOINT s;",
    "ROLLBACK;",
    "REINDEX;",
    "SELECT 1;",
    "WITH x AS (SELECT 1) INSERT INTO staff_audit_logs (id, created_at, action) SELECT 5, '2026', 'a' FROM x;",
])
def test_every_statement_outside_a_wrangler_export_is_refused_naming_its_line(world, statement):
    cfg, _ = _with_dump(world, HEADER + TABLE + ROW.format(id=1) + statement + "\n" + ROW.format(id=2))
    _assert_refused(_run(cfg), "line 4", statement.split()[0])


def test_a_trigger_created_before_the_data_cannot_bend_the_rows(world):
    bend = ("CREATE TRIGGER bend AFTER INSERT ON staff_audit_logs BEGIN "
            "UPDATE staff_audit_logs SET user_id = 'someone-else'; END;\n")
    cfg, _ = _with_dump(world, HEADER + TABLE + bend + ROW.format(id=1))
    _assert_refused(_run(cfg), "line 4", "INSERT", "trigger")


def test_a_refused_statement_on_a_line_with_an_allowed_one_is_named(world):
    cfg, _ = _with_dump(world, HEADER + TABLE + ROW.format(id=1).rstrip("\n") + " ATTACH 'x.db' AS x;\n")
    _assert_refused(_run(cfg), "line 3", "ATTACH")
    assert not (world.root / "x.db").exists()


def test_a_view_that_recurses_forever_is_refused_when_read(world):
    view = ("CREATE VIEW staff_audit_logs AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT x AS id, '2026-10-01 12:00:00' AS created_at, 'cache_purge' AS action, NULL AS route, "
            "'r1' AS restaurant_id, 'u1' AS user_id, '[]' AS target FROM c;\n")
    cfg, _ = _with_dump(world, HEADER + view)
    started = time.monotonic()
    res = _run(cfg)
    assert res.exit_code == 2 and "Traceback" not in res.stderr, res.stderr
    assert "RECURSIVE" in res.stderr
    assert time.monotonic() - started < 60  # generous: it is refused at once, not read forever


def test_an_overlong_statement_is_refused_by_length(world, monkeypatch):
    monkeypatch.setattr(d1dump, "MAX_STATEMENT_BYTES", 10_000)
    long_row = ROW.format(id=1).replace("'u1'", "'" + "u" * 20_000 + "'")
    cfg, _ = _with_dump(world, HEADER + TABLE + long_row)
    _assert_refused(_run(cfg), "line 3", "longer than 10,000 bytes")


def test_an_overlong_value_is_refused(world, monkeypatch):
    monkeypatch.setattr(d1dump, "MAX_VALUE_BYTES", 1_000)
    cfg, _ = _with_dump(world, HEADER + TABLE + ROW.format(id=1).replace("'u1'", "'" + "u" * 5_000 + "'"))
    _assert_refused(_run(cfg), "line 3", "too big")


def test_an_unterminated_string_is_a_clear_error_not_a_hang(world):
    cfg, _ = _with_dump(world, HEADER + TABLE + "INSERT INTO staff_audit_logs VALUES(1, 'never closed);\n" * 3)
    _assert_refused(_run(cfg), "line 3")


def test_after_loading_the_connection_reads_only(world):
    cfg, _ = _with_dump(world, HEADER + TABLE + ROW.format(id=1))
    store = open_store(load_config(cfg).audit)
    for statement in ("ATTACH 'elsewhere.db' AS e", "INSERT INTO staff_audit_logs (id) VALUES (7)",
                      "PRAGMA query_only = OFF", "CREATE TABLE x (a)", "VACUUM"):
        with store.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError):
            conn.exec_driver_sql(statement)
    assert not (world.root / "elsewhere.db").exists()


def test_refusal_is_a_source_error_naming_the_key():
    conn, policy = d1dump.private_connection()
    with pytest.raises(d1dump.DumpRefused) as caught:
        d1dump.execute_dump(conn, policy, "CREATE TABLE t (a);\n\nATTACH ':memory:' AS m;")
    assert caught.value.statement == Statement(3, "ATTACH ':memory:' AS m;")
    assert issubclass(SourceError, Exception)


def test_the_dump_is_split_in_one_pass_whatever_its_shape(monkeypatch):
    """By construction: one match per statement (a trigger: one per piece of its body), however many empty
    statements, comments or lines a hostile dump piles up; and no statement text is scanned twice."""
    calls: list[int] = []
    real = d1dump.STATEMENT_PIECE

    class Counting:
        def match(self, script, pos):  # noqa: ANN001, ANN201 - delegating to the real pattern
            calls.append(pos)
            return real.match(script, pos)

    monkeypatch.setattr(d1dump, "STATEMENT_PIECE", Counting())
    script = ";" * 200_000 + "\n/* c */ -- x\n" * 50_000 + TABLE + ROW.format(id=1) * 100 + \
        "CREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;\n"
    found = list(split_statements(script))
    assert len(found) == 102 and len(calls) == 101 + 3 + 1  # statements, trigger pieces, the end
    assert calls == sorted(set(calls))  # forward only


def test_a_dump_without_the_configured_table_says_so(world):
    cfg, _ = _with_dump(world, HEADER + "CREATE TABLE other (a);\n")
    res = _run(cfg)
    assert res.exit_code == 2 and "audit.table" in res.stderr and "not found" in res.stderr


# ------------------------------------------------------------------ bounded cost: literal values, memory cap, clocks
# A dump is data of bounded cost: its values are literals (or wrangler's spelling of line breaks), the in-memory
# store it becomes has a memory cap, and loading and every read run against a clock — each limit, when reached,
# stops the command with exit 2 and one line naming it.

VIEW_HEAD = ("CREATE TABLE n (x INTEGER);\n"
             + "".join(f"INSERT INTO n VALUES({i});\n" for i in range(3000)))
CROSS_JOIN_VIEW = ("CREATE VIEW staff_audit_logs AS SELECT a.x AS id, '2026-10-01 12:00:00' AS created_at, "
                   "'cache_purge' AS action, NULL AS route, 'r1' AS restaurant_id, 'u1' AS user_id, "
                   "'[]' AS target FROM n a, n b, n c;\n")


@pytest.mark.parametrize("value", [
    "randomblob(15000000)", "zeroblob(15000000)", "printf('%.*c', 15000000, 'x')", "hex(randomblob(8))",
    "substr('abc', 1)", "char(10)", "lower('A')", "1 + 1", "'a' || 'b'", "(SELECT 1)", "CAST(1 AS TEXT)",
    "replace('a', 'a', printf('%.*c', 1000, 'x'))", "replace('a', 'a', char(10) || char(10))",
    "replace('a', 'a', 'bbbb')", "current_timestamp", "x'0'", "- - 1", "?", ":name", "NULL NULL",
])
def test_a_value_that_is_not_a_literal_is_refused(world, value):
    cfg, _ = _with_dump(world, HEADER + TABLE + ROW.format(id=1).replace("'u1'", value))
    _assert_refused(_run(cfg), "line 3", "INSERT", "literals")


@pytest.mark.parametrize("value", [
    "NULL", "-1", "+2.5", "1e+300", "-1.5e-7", ".5", "'x'", "''", "'it''s'", "X'00ff'", "x''",
    "replace('a\\nb','\\n',char(10))", "replace(replace('a\\r\\nb','\\r',char(13)),'\\n',char(10))",
    "replace( 'a\\nb' , '\\n' , char( 10 ) )",
])
def test_every_literal_a_dump_writes_loads(world, value):
    cfg, _ = _with_dump(world, HEADER + TABLE + ROW.format(id=1).replace("NULL,NULL,NULL", f"{value},NULL,NULL"))
    res = _run(cfg)
    assert res.exit_code == 0, res.stderr


def test_forty_randomblobs_are_refused_at_the_first_without_building_anything(world):
    rows = "".join(ROW.format(id=i).replace("'u1'", "randomblob(15000000)") for i in range(40))
    cfg, _ = _with_dump(world, HEADER + TABLE + rows)
    started = time.monotonic()
    _assert_refused(_run(cfg), "line 3", "literals")
    assert time.monotonic() - started < 30  # refused before any value is built, not after 600 MB of them


def test_data_past_the_memory_cap_stops_loading_naming_the_cap(world, monkeypatch):
    monkeypatch.setattr(d1dump, "MAX_STORE_BYTES", 256 * 1024)
    rows = "".join(ROW.format(id=i).replace("'u1'", "'" + "u" * 2_000 + "'") for i in range(400))
    cfg, _ = _with_dump(world, HEADER + TABLE + rows)
    _assert_refused(_run(cfg), "memory cap", f"{256 * 1024:,}")


def test_indexes_that_multiply_the_data_stop_at_the_memory_cap(world, monkeypatch):
    monkeypatch.setattr(d1dump, "MAX_STORE_BYTES", 1024 * 1024)
    rows = "".join(ROW.format(id=i).replace("'u1'", "'" + f"{i:06d}" * 100 + "'") for i in range(500))
    indexes = "".join(f"CREATE INDEX i{k} ON staff_audit_logs (user_id, id);\n" for k in range(40))
    cfg, _ = _with_dump(world, HEADER + TABLE + rows + indexes)
    _assert_refused(_run(cfg), "CREATE INDEX", "memory cap")


def test_loading_past_its_time_limit_stops_naming_the_limit(world, monkeypatch):
    monkeypatch.setattr(d1dump, "LOAD_SECONDS", 0.2)
    rows = "".join(ROW.format(id=i) for i in range(1, 200_001))
    cfg, _ = _with_dump(world, HEADER + TABLE + rows)
    started = time.monotonic()
    _assert_refused(_run(cfg), "loading the dump took longer than its 0.2-second time limit")
    assert time.monotonic() - started < 60


def test_a_view_over_a_cross_join_stops_at_the_read_time_limit(world, monkeypatch):
    monkeypatch.setattr(d1dump, "READ_SECONDS", 1.0)
    cfg, _ = _with_dump(world, HEADER + VIEW_HEAD + CROSS_JOIN_VIEW)
    started = time.monotonic()
    res = _run(cfg)
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "a read of the dump took longer than its 1-second time limit" in err, err
    assert time.monotonic() - started < 60  # 27 billion rows would take days


def test_each_read_gets_its_own_clock(world, monkeypatch):
    """The limit is per read: a dump whose reads are each quick loads and reconciles, however many there are."""
    monkeypatch.setattr(d1dump, "READ_SECONDS", 5.0)
    cfg, _ = _with_dump(world, HEADER + TABLE + "".join(ROW.format(id=i) for i in range(1, 2001)))
    res = _run(cfg)
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)[0]["expected"] == 2


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="(),' X0123456789abcdefxNUL.eE+-replacehr\\n", max_size=60))
def test_any_insert_either_loads_as_literals_or_is_refused_cleanly(values):
    """Fuzz: whatever stands between VALUES( and ), the dump loads or is refused — never another exception."""
    conn, policy = private_connection()
    try:
        execute_dump(conn, policy, "CREATE TABLE t (a, b, c);\nINSERT INTO t VALUES(" + values + ");\n")
    except DumpRefused:
        return
    finally:
        conn.close()


# ------------------------------------------------------------------ every table D1 holds, as wrangler exports it
# tests/fixtures/wrangler-d1/export.sql was written by `wrangler d1 export --local` (wrangler 4.86, workerd's D1)
# from schema.sql; regenerate.sh there does it again. Its tables: TEXT (UUID) and composite primary keys,
# UNIQUE columns and constraints, WITHOUT ROWID, STRICT, CHECK, DEFAULT expressions, foreign keys, partial and
# unique indexes, IF NOT EXISTS, quoted names, text with \n and \r\n, BLOBs, a trigger and a view.

WRANGLER = Path(__file__).resolve().parent / "fixtures" / "wrangler-d1"
TABLES = ("staff_audit_logs", '"tenant settings"', "operators", "tenants", "sqlite_sequence", "recent_audit")


def test_every_table_kind_d1_holds_loads_from_a_real_wrangler_export_as_written():
    truth = sqlite3.connect(":memory:")
    truth.executescript((WRANGLER / "schema.sql").read_text(encoding="utf-8"))
    loaded = d1dump.load_dump(WRANGLER / "export.sql", "audit")
    for table in TABLES:
        query = f"SELECT * FROM {table} ORDER BY 1, 2"
        assert loaded.execute(query).fetchall() == truth.execute(query).fetchall(), table
    assert loaded.execute("SELECT target FROM staff_audit_logs WHERE origin = 'replay'").fetchone()[0] == (
        '{"name":"Tafelspitz\nmit Kren","note":"line one\r\nline two"}')
    truth.close()
    loaded.close()


def test_a_real_wrangler_export_with_uuid_keys_reconciles(tmp_path):
    ops = tmp_path / "operations.db"
    with sqlite3.connect(ops) as db:
        db.execute("CREATE TABLE operations (id TEXT PRIMARY KEY, occurred_at TEXT, operation TEXT, route TEXT, "
                   "restaurant_id TEXT, user_id TEXT, target TEXT, request_id TEXT)")
        truth = sqlite3.connect(":memory:")
        truth.executescript((WRANGLER / "schema.sql").read_text(encoding="utf-8"))
        replayed_target = truth.execute("SELECT target FROM staff_audit_logs WHERE origin = 'replay'").fetchone()[0]
        truth.close()
        db.executemany("INSERT INTO operations VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            ("o1", "2026-09-17T11:02:10Z", "cache_purge", "/api/cache-purge", "vie-spittelberg", "u-klara",
             '["m-12","m-14"]', "rq-1"),
            ("o2", "2026-09-17T11:39:30Z", "menu_edit", "/api/menu/:id", "vie-neubau", "u-eva", replayed_target, None),
            ("o3", "2026-09-17T12:15:01Z", "staff_pin_change", None, "vie-neubau", "u-eva",
             'it\'s "quoted" — ünïcödé 🍽', "rq-3"),
            ("o4", "2026-09-17T13:00:00Z", "user_delete", "/api/users/[id]", "vie-spittelberg", "u-klara",
             "tab\tinside; semicolon -- not a comment /* nor this */", "rq-4"),
            ("o5", "2026-09-17T14:00:00Z", "cache_purge", "/api/cache-purge", "vie-neubau", "u-eva", "[]", None),
        ])
    db.close()
    cfg = tmp_path / "evidence.toml"
    cfg.write_text(f'[audit]\nd1_dump = "{WRANGLER / "export.sql"}"\n\n[operations]\nurl = "sqlite:///operations.db"\n'
                   '\n[matching.actions]\ncache_purge = "cache_purge"\nmenu_edit = "menu_edit"\n'
                   'staff_pin_change = "staff_pin_change"\nuser_delete = "user_delete"\n')
    res = _run(cfg, "--start", "2026-09-17", "--end", "2026-09-17")
    assert res.exit_code == 0, res.stderr
    [total] = json.loads(res.stdout)
    assert (total["expected"], total["logged"], total["replayed"], total["backfilled"], total["missing_silent"]) == (
        5, 2, 1, 1, 1)


def test_a_small_dump_gets_a_small_load_limit():
    """A schema whose CHECK burns CPU at every row cannot hold the loader the whole LOAD_SECONDS: a dump's limit grows
    with its size (a 130 kB dump gets about a minute, a 4 GiB one the full limit)."""
    assert d1dump.load_limit(130_000) == pytest.approx(d1dump.LOAD_BASE_SECONDS + 130_000 / 1024**2)
    assert d1dump.load_limit(4 * 1024**3) == d1dump.LOAD_SECONDS
    assert d1dump.load_limit(0) == d1dump.LOAD_BASE_SECONDS


def test_a_cpu_burning_check_stops_at_the_dumps_own_limit_naming_it(world, monkeypatch):
    monkeypatch.setattr(d1dump, "LOAD_BASE_SECONDS", 0.5)
    check = "CREATE TABLE burn (a CHECK (length(replace(hex(zeroblob(4000000)), '0', '1')) > 0));\n"
    cfg, dump = _with_dump(world, HEADER + TABLE + ROW.format(id=1) + check + "INSERT INTO burn VALUES(1);\n" * 200)
    started = time.monotonic()
    limit = d1dump.load_limit(len(dump.read_bytes()))
    _assert_refused(_run(cfg), f"loading the dump took longer than its {limit:g}-second time limit")
    assert time.monotonic() - started < 30
