"""The CLI's output contracts (docs/DESIGN.md): keys, formats, windows, exit codes."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import timedelta

import pytest

from scenario import T0

DAY = timedelta(days=1)
COVERAGE_KEYS = {"expected", "logged", "replayed", "backfilled", "missing", "missing_pending",
                 "missing_abandoned", "missing_silent", "missing_unprovable", "coverage_logged",
                 "coverage_after_replay"}
"""docs/DESIGN.md's coverage contract, with the count log completeness added (missing_unprovable)."""
EXCEPTION_KEYS = ["kind", "operation_id", "audit_id", "day", "operator", "tenant", "action", "route", "occurred_at",
                  "detail"]


@pytest.fixture
def two_days(scenario):
    scenario.op("o1").row("a1")
    scenario.op("o2", user="u2").row("a2", user="u2", origin="replay")
    scenario.op("o3", T0 + DAY, user="u2")
    scenario.row("orphan", T0 + DAY, tenant="r9")
    return scenario


def test_coverage_json_has_one_key_per_dimension_plus_the_counts(two_days):
    out = two_days.json("coverage", "--by", "day,operator")
    assert [set(r) - COVERAGE_KEYS for r in out] == [{"day", "operator"}] * 3
    assert [(r["day"], r["operator"], r["expected"]) for r in out] == [
        ("2026-10-01", "u1", 1), ("2026-10-01", "u2", 1), ("2026-10-02", "u2", 1)]


def test_coverage_ratios_as_logged_and_after_replay(two_days):
    (total,) = two_days.json("coverage")
    assert total["expected"] == 3 and total["logged"] == 1 and total["replayed"] == 1
    assert total["missing"] == total["missing_silent"] == 1
    assert total["coverage_logged"] == pytest.approx(1 / 3)
    assert total["coverage_after_replay"] == pytest.approx(2 / 3)


def test_dimension_order_follows_the_by_option(two_days):
    out = two_days.json("coverage", "--by", "operator,day")
    assert list(out[0])[:2] == ["operator", "day"]


def test_empty_period_gives_null_ratios(two_days):
    (total,) = two_days.json("coverage", "--start", "2027-01-01", "--end", "2027-01-02")
    assert total["expected"] == 0 and total["coverage_logged"] is None and total["coverage_after_replay"] is None


def test_period_days_are_inclusive(two_days):
    (first,) = two_days.json("coverage", "--start", "2026-10-01", "--end", "2026-10-01")
    (both,) = two_days.json("coverage", "--start", "2026-10-01", "--end", "2026-10-02")
    assert first["expected"] == 2 and both["expected"] == 3


def test_csv_matches_json(two_days):
    rows = list(csv.DictReader(io.StringIO(two_days.cli("coverage", "--by", "operator", "--format", "csv").stdout)))
    data = two_days.json("coverage", "--by", "operator")
    assert [int(r["expected"]) for r in rows] == [d["expected"] for d in data]
    assert [float(r["coverage_logged"]) for r in rows] == [d["coverage_logged"] for d in data]


def test_table_is_readable_with_a_total(two_days):
    res = two_days.cli("coverage", "--by", "operator", "--format", "table")
    assert res.code == 0
    assert "TOTAL" in res.stdout and "33.3%" in res.stdout


def test_exceptions_list_missing_orphans_and_duplicates(two_days):
    two_days.row("dup", T0, origin="replay")
    out = two_days.json("exceptions")
    assert all(list(r) == EXCEPTION_KEYS for r in out)
    kinds = {(r["kind"], r["operation_id"], r["audit_id"]) for r in out}
    assert kinds == {("missing_silent", "o3", None), ("orphan", None, "orphan"), ("duplicate", "o1", "dup")}


def test_exceptions_csv_has_the_contract_header(two_days):
    res = two_days.cli("exceptions", "--format", "csv")
    assert res.stdout.splitlines()[0] == ",".join(EXCEPTION_KEYS)
    assert len(res.stdout.splitlines()) == 3


def test_exceptions_window_selects_by_time(two_days):
    out = two_days.json("exceptions", "--start", "2026-10-02", "--end", "2026-10-02")
    assert {r["kind"] for r in out} == {"missing_silent", "orphan"}


def test_start_after_end_is_a_usage_error(two_days):
    res = two_days.cli("coverage", "--start", "2026-10-05", "--end", "2026-10-01")
    assert res.code == 2 and "--start" in res.stderr


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "evidence_app", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "coverage" in res.stdout


def test_other_names_epoch_ms_and_current_timestamp_forms(scenario):
    """A store with its own table/column names, epoch-ms operations and CURRENT_TIMESTAMP audit rows."""
    scenario.op("o1").row("a1").op("o2", T0 + DAY)
    cfg = scenario.write()
    root = cfg.parent
    with sqlite3.connect(root / "operations.db") as db:
        db.execute("CREATE TABLE ops_log (op_uuid TEXT, ts_ms INTEGER, kind TEXT, tenant TEXT, actor TEXT, payload TEXT)")
        db.executemany("INSERT INTO ops_log VALUES (?,?,?,?,?,?)", [
            ("o1", int(T0.timestamp() * 1000), "purge", "r1", "u1", '["m-1"]'),
            ("o2", int((T0 + DAY).timestamp() * 1000), "purge", "r1", "u1", '["m-1"]'),
        ])
    with sqlite3.connect(root / "audit.db") as db:
        db.execute("CREATE TABLE trail (pk INTEGER PRIMARY KEY, at TEXT DEFAULT CURRENT_TIMESTAMP, what TEXT,"
                   " tenant TEXT, actor TEXT, payload TEXT)")
        db.execute("INSERT INTO trail (at, what, tenant, actor, payload) VALUES (?, 'cache_purge', 'r1', 'u1', '[\"m-1\"]')",
                   (T0.strftime("%Y-%m-%d %H:%M:%S"),))
    cfg.write_text(
        '[audit]\nurl = "sqlite:///audit.db"\ntable = "trail"\n'
        '[audit.columns]\nid = "pk"\ncreated_at = "at"\naction = "what"\nrestaurant_id = "tenant"\n'
        'user_id = "actor"\ntarget = "payload"\n'
        '[operations]\nurl = "sqlite:///operations.db"\ntable = "ops_log"\n'
        '[operations.columns]\nid = "op_uuid"\noccurred_at = "ts_ms"\noperation = "kind"\n'
        'restaurant_id = "tenant"\nuser_id = "actor"\ntarget = "payload"\n'
        '[matching.actions]\npurge = "cache_purge"\n'
    )
    import json

    from click.testing import CliRunner

    from evidence_app.cli import main

    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg), "--by", "day", "--format", "json"])
    assert res.exit_code == 0, res.stderr
    assert [(r["day"], r["logged"], r["missing_silent"]) for r in json.loads(res.stdout)] == [
        ("2026-10-01", 1, 0), ("2026-10-02", 0, 1)]
