"""The read plan (issue 21): a window covering most of a table's time range is read by a scan, not through the
time index, the choice is recorded with its reason, and the rows are the same whichever plan reads them."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
import sqlalchemy as sa

from evidence_app.config.settings import load_config
from evidence_app.ingest import sources
from evidence_app.ingest.dataset import load_dataset
from evidence_app.ingest.plan import SCAN_SHARE, Plan, choose, covered, decide, planned
from evidence_app.ingest.sources import Window, open_store, select_frame, time_extent
from evidence_app.reconcile import Period

from scenario import T0, load_server, server_config

DAY = timedelta(days=1)
UTC = timezone.utc


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


YEAR_LO, YEAR_HI = _ts("2026-01-01"), _ts("2027-01-01")

# ------------------------------------------------------------------ the rule


def test_a_window_covering_the_whole_time_range_is_read_by_a_scan():
    plan = decide(YEAR_LO, YEAR_HI, _ts("2025-12-01"), _ts("2027-02-01"), "NOT INDEXED")
    assert plan.scan and "100%" in plan.reason and "NOT INDEXED" in plan.reason


def test_a_day_out_of_a_year_keeps_the_planners_plan():
    plan = decide(YEAR_LO, YEAR_HI, _ts("2026-06-01"), _ts("2026-06-02"), "NOT INDEXED")
    assert not plan.scan and "own plan" in plan.reason and "0%" in plan.reason


def test_a_window_outside_the_time_range_keeps_the_planners_plan():
    assert not decide(YEAR_LO, YEAR_HI, _ts("2028-01-01"), _ts("2028-02-01"), "NOT INDEXED").scan


def test_half_the_time_range_is_the_boundary():
    half = YEAR_LO + (YEAR_HI - YEAR_LO) * SCAN_SHARE
    assert decide(YEAR_LO, YEAR_HI, YEAR_LO, half, "NOT INDEXED").scan
    assert not decide(YEAR_LO, YEAR_HI, YEAR_LO, half - pd.Timedelta(hours=1), "NOT INDEXED").scan


def test_an_empty_table_keeps_the_planners_plan():
    plan = decide(None, None, YEAR_LO, YEAR_HI, "NOT INDEXED")
    assert not plan.scan and "empty" in plan.reason


def test_a_time_range_that_does_not_read_as_times_keeps_the_planners_plan():
    plan = decide(pd.NaT, YEAR_HI, YEAR_LO, YEAR_HI, "NOT INDEXED")
    assert not plan.scan and "does not read as times" in plan.reason


def test_a_database_without_an_index_hint_keeps_its_planners_plan():
    plan = decide(YEAR_LO, YEAR_HI, YEAR_LO, YEAR_HI, None)
    assert not plan.scan and "no index hint" in plan.reason


def test_a_table_of_one_instant_is_covered_wholly_or_not_at_all():
    assert covered(YEAR_LO, YEAR_LO, YEAR_LO, YEAR_HI) == 1.0
    assert covered(YEAR_HI, YEAR_HI, YEAR_LO, YEAR_HI) == 0.0  # the window is half-open


# ------------------------------------------------------------------ SQLite


def test_the_scan_hint_makes_sqlite_scan_instead_of_searching_the_time_index(tmp_path):
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id TEXT, at REAL)")
        conn.execute("CREATE INDEX ix_t_at ON t(at)")
    conn.close()
    engine = sa.create_engine(f"sqlite:///{db}")
    tbl = sa.table("t", sa.column("id"), sa.column("at"))
    stmt = sa.select(tbl.c.id).where(tbl.c.at.between(1.0, 2.0))
    with engine.connect() as conn:
        def plan_of(s: sa.Select) -> str:
            compiled = s.compile(dialect=engine.dialect)
            return " ".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}",
                                                               tuple(compiled.params.values())))
        assert "USING INDEX ix_t_at" in plan_of(stmt)
        hinted = planned(stmt, tbl, Plan(True, "test"))
        assert "FROM t NOT INDEXED" in str(hinted.compile(dialect=engine.dialect))
        assert plan_of(hinted).startswith("SCAN t") and "INDEX" not in plan_of(hinted)
    engine.dispose()


def _indexed(scenario) -> None:
    """The scenario's stores with an index on each time column (as real stores have)."""
    cfg = scenario.write()
    for name, table, column in (("operations.db", "operations", "occurred_at"),
                                ("audit.db", "staff_audit_logs", "created_at")):
        with sqlite3.connect(scenario.root / name) as conn:
            conn.execute(f"CREATE INDEX ix_{table}_t ON {table}({column})")
        conn.close()
    return cfg


ODD_TIMES = (None, "garbage", "2026-13-45T99:99:99Z", b"\x00\x01", 9.9e10, 1_790_000_000_000, "0000-01-01",
             "2026-10-02 08:00:00", 1_790_900_000.5, "  ", 42)
"""Times the window's predicate keeps wherever they lie (missing, unreadable, impossible) and plain ones."""


@pytest.fixture
def odd(scenario):
    """Five days of operations; audit rows with every kind of odd time; time indexes on both tables."""
    for d in range(5):
        scenario.op(f"o{d}", T0 + d * DAY).row(f"a{d}", T0 + d * DAY)
    for i, at in enumerate(ODD_TIMES):
        scenario.row(f"x{i}", at=at)
    scenario.cfg = _indexed(scenario)
    return scenario


def _both_plans(store, field: str, window: Window, monkeypatch) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The window read with the scan hint, then by the planner's own plan (the same predicate both times), and
    the SQL of each as sent."""
    frames, sqls = [], []
    for scan in (True, False):
        with monkeypatch.context() as m:
            m.setattr(sources, "choose", lambda *_, scan=scan: Plan(scan, "forced by the test"))
            frames.append(select_frame(store, field, window, record=lambda q: sqls.append(q.sql)))
    return frames[0], frames[1], sqls


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a, b = (f.astype(object).sort_values("id", key=lambda s: s.astype(str)).reset_index(drop=True) for f in (a, b))
    pd.testing.assert_frame_equal(a, b)


def test_the_scan_reads_the_same_rows_as_the_planners_plan_on_sqlite_odd_times_included(odd, monkeypatch):
    store = open_store(load_config(odd.cfg).audit)
    hinted, own, sqls = _both_plans(store, "created_at", Window(T0 - DAY, T0 + 6 * DAY), monkeypatch)
    store.engine.dispose()
    assert "NOT INDEXED" in sqls[0] and "NOT INDEXED" not in sqls[1]
    assert {"x0", "x1", "x2", "x3", "x4", "x6"} <= set(hinted["id"])  # odd times kept, not lost
    _same_rows(hinted, own)


def test_odd_times_at_the_ends_of_the_range_keep_the_planners_plan(odd):
    store = open_store(load_config(odd.cfg).audit)  # MAX is a blob, MIN the number 42: no readable range
    plan = choose(store, "created_at", Window(T0 - DAY, T0 + 6 * DAY), time_extent)
    store.engine.dispose()
    assert not plan.scan and "does not read as times" in plan.reason


def test_a_period_covering_the_table_is_read_not_indexed_and_the_record_says_why(scenario):
    for d in range(5):
        scenario.op(f"o{d}", T0 + d * DAY).row(f"a{d}", T0 + d * DAY)
    cfg = _indexed(scenario)
    data = load_dataset(load_config(cfg), Period(T0.date(), (T0 + 4 * DAY).date()))
    for q in data.queries:
        assert "NOT INDEXED" in q.sql and "full scan" in q.purpose and "100%" in q.purpose, q
        db = scenario.root / ("operations.db" if q.source == "operations" else "audit.db")
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            assert len(conn.execute(q.sql, q.parameters).fetchall()) == q.rows_returned
            assert not any("USING INDEX" in r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {q.sql}", q.parameters))
        conn.close()


def test_a_day_of_a_long_table_is_read_by_the_planners_plan_and_the_record_says_so(scenario):
    for d in range(0, 300, 10):
        scenario.op(f"o{d}", T0 + d * DAY).row(f"a{d}", T0 + d * DAY)
    cfg = _indexed(scenario)
    data = load_dataset(load_config(cfg), Period((T0 + 100 * DAY).date(), (T0 + 100 * DAY).date()))
    assert data.queries and all("NOT INDEXED" not in q.sql and "own plan" in q.purpose for q in data.queries
                                if "beyond the window" not in q.purpose)


def test_a_table_without_a_time_index_gets_no_hint(scenario):
    scenario.op("o1", T0).row("a1", T0)
    store = open_store(load_config(scenario.write()).operations)
    plan = choose(store, "occurred_at", Window(T0 - DAY, T0 + DAY), time_extent)
    store.engine.dispose()
    assert not plan.scan and "no index leads with occurred_at" in plan.reason


def test_an_empty_indexed_table_gets_no_hint(scenario):
    scenario.op("o1", T0)
    cfg = _indexed(scenario)
    store = open_store(load_config(cfg).audit)
    plan = choose(store, "created_at", Window(T0 - DAY, T0 + DAY), time_extent)
    store.engine.dispose()
    assert not plan.scan and "empty" in plan.reason


# ------------------------------------------------------------------ servers


def _server_indexes(admin: sa.Engine, ops_t: str, audit_t: str, audit_len: int = 40) -> None:
    with admin.begin() as conn:
        if admin.dialect.name in ("mysql", "mariadb"):  # a text column is indexed by a prefix there
            conn.execute(sa.text(f"CREATE INDEX ix_{ops_t}_t ON {ops_t}(occurred_at)"))
            conn.execute(sa.text(f"CREATE INDEX ix_{audit_t}_t ON {audit_t}(created_at({audit_len}))"))
        else:
            conn.execute(sa.text(f"CREATE INDEX ix_{ops_t}_t ON {ops_t}(occurred_at)"))
            conn.execute(sa.text(f"CREATE INDEX ix_{audit_t}_t ON {audit_t}(created_at)"))


def _server_odd(scenario) -> None:
    for d in range(5):
        scenario.op(f"o{d}", T0 + d * DAY).row(f"a{d}", T0 + d * DAY)
    for i, at in enumerate((None, "garbage", "2026-13-45T99:99:99Z", "0000-00-00 00:00:00", "2026-10-02 08:00:00")):
        scenario.row(f"x{i}", at=at)


def _drop(admin: sa.Engine, *tables: str) -> None:
    with admin.begin() as conn:
        for t in tables:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {t}"))


@pytest.mark.mariadb
@pytest.mark.parametrize("scheme", ["mysql", "mariadb"])
def test_mariadb_is_told_to_scan_and_returns_the_same_rows(mariadb_admin, scenario, monkeypatch, scheme):
    _server_odd(scenario)
    ops_t, audit_t = load_server(mariadb_admin, scenario, f"plan{scheme[:2]}", native_times=True)
    try:
        _server_indexes(mariadb_admin, ops_t, audit_t)
        cfg = server_config(scenario, f"{scheme}://root@127.0.0.1:3306/test", ops_t, audit_t)
        data = load_dataset(load_config(cfg), Period(T0.date(), (T0 + 4 * DAY).date()))
        ops_query = next(q for q in data.queries if q.source == "operations")  # native times: a readable range
        assert "USE INDEX ()" in ops_query.sql and "full scan" in ops_query.purpose
        window = Window(T0 - 2 * DAY, T0 + 6 * DAY)
        for key, field in (("operations", "occurred_at"), ("audit", "created_at")):
            store = open_store(getattr(load_config(cfg), key))
            hinted, own, sqls = _both_plans(store, field, window, monkeypatch)
            store.engine.dispose()
            assert "USE INDEX ()" in sqls[0] and "USE INDEX" not in sqls[1]
            _same_rows(hinted, own)
            if key == "audit":
                assert {"x0", "x1", "x2", "x3"} <= set(hinted["id"])  # odd times kept by both plans
    finally:
        _drop(mariadb_admin, ops_t, audit_t)


@pytest.mark.postgres
def test_postgresql_reads_by_its_own_plan_and_the_record_says_so(pg_admin, scenario):
    _server_odd(scenario)
    scenario.rows = [r for r in scenario.rows if r["created_at"] != "0000-00-00 00:00:00"]
    ops_t, audit_t = load_server(pg_admin, scenario, "plan", native_times=True)
    try:
        _server_indexes(pg_admin, ops_t, audit_t)
        cfg = server_config(scenario, "postgresql://postgres@127.0.0.1:5432/postgres", ops_t, audit_t)
        data = load_dataset(load_config(cfg), Period(T0.date(), (T0 + 4 * DAY).date()))
        window_queries = [q for q in data.queries if "beyond the window" not in q.purpose]
        assert {q.source for q in window_queries} == {"operations", "audit"}
        assert all("own plan" in q.purpose and "no index hint" in q.purpose and "INDEX" not in q.sql
                   for q in window_queries)
    finally:
        _drop(pg_admin, ops_t, audit_t)
