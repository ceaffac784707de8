"""Re-performable extraction: every query is recorded as sent (SQL, parameters, rows returned, driver, server,
tool) where it runs, and source files by name, size and SHA-256 — so an auditor can run the same query."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from datetime import timedelta

import pytest
from click.testing import CliRunner

from evidence_app.assess.pipeline import evaluate
from evidence_app.cli import main
from evidence_app.config.settings import load_config
from evidence_app.reconcile import Period

from pdftools import tool
from scenario import T0, server_copy

DAY = timedelta(days=1)


@pytest.fixture
def spread(scenario):
    """Operations and rows over five days; one row's request id matches an operation two days outside."""
    for d in range(5):
        scenario.op(f"o{d}", T0 + d * DAY, request_id=f"q{d}").row(f"a{d}", T0 + d * DAY, request_id=f"q{d}")
    scenario.op("far", T0 + 4 * DAY, request_id="q-far").row("late", T0 + 2 * DAY, request_id="q-far")
    return scenario


def _queries(scenario, start=None, end=None):
    data, _ = evaluate(load_config(scenario.write()), Period(start, end))
    return data.queries


def _rerun(db, sql: str, parameters) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        count = len(conn.execute(sql, parameters).fetchall())
    conn.close()
    return count


WHOLE = ("--start", "2026-10-01", "--end", "2026-10-05")


def _pack_manifest(scenario, tmp_path, *period: str) -> dict:
    cfg = scenario.write()
    period = period or WHOLE
    runner = CliRunner()
    assert runner.invoke(main, ["keygen", str(tmp_path / "id"), "--valid-from", "2026-01-01"]).exit_code == 0
    out = tmp_path / "p.pdf"
    res = runner.invoke(main, ["pack", "--config", str(cfg), *period, "--out", str(out), "--key",
                               str(tmp_path / "id" / "key.pem"), "--cert", str(tmp_path / "id" / "cert.pem"),
                               "--generated-at", "2026-10-10T00:00:00Z"])
    assert res.exit_code == 0, res.stderr
    from pyhanko.pdf_utils.reader import PdfFileReader

    from evidence_app.evidence.attachments import read_attachments

    root = PdfFileReader(io.BytesIO(out.read_bytes()), strict=False).root
    return json.loads(read_attachments(root).files["manifest.json"])


def test_the_recorded_sql_run_with_its_parameters_returns_the_recorded_row_count(spread, tmp_path):
    manifest = _pack_manifest(spread, tmp_path, "--start", "2026-10-02", "--end", "2026-10-03")
    queries = manifest["extraction"]["queries"]
    assert {q["source"] for q in queries} == {"operations", "audit"}
    root = spread.root
    for q in queries:
        db = root / ("operations.db" if q["source"] == "operations" else "audit.db")
        assert _rerun(db, q["sql"], q["parameters"]) == q["rows_returned"], q["purpose"]


def test_the_window_query_returns_the_window_not_the_whole_table(spread):
    ops_query = next(q for q in _queries(spread, T0.date() + DAY, T0.date() + DAY) if q.source == "operations")
    assert ops_query.rows_returned < 6 and ops_query.rows_returned == _rerun(spread.root / "operations.db",
                                                                             ops_query.sql, ops_query.parameters)


def test_the_request_id_top_up_beyond_the_window_is_recorded_too(spread):
    queries = _queries(spread, T0.date() + 2 * DAY, T0.date() + 2 * DAY)
    top_up = [q for q in queries if "beyond the window" in q.purpose]
    assert [q.source for q in top_up] == ["operations"]
    assert top_up[0].rows_returned == _rerun(spread.root / "operations.db", top_up[0].sql, top_up[0].parameters)


def test_each_query_names_its_driver_server_and_paramstyle(spread):
    for q in _queries(spread):
        assert q.driver.startswith("sqlite+adbc_driver_sqlite ") and q.server_version.startswith("SQLite 3.")
        assert q.paramstyle == "qmark" and q.sql.count("?") == len(q.parameters)


def test_without_a_period_the_query_selects_every_row(spread):
    (ops_query,) = [q for q in _queries(spread) if q.source == "operations"]
    assert ops_query.parameters == () and ops_query.rows_returned == 6 and "WHERE" not in ops_query.sql


def test_the_manifest_names_the_tool_versions(spread, tmp_path):
    from evidence_app import __version__

    tool = _pack_manifest(spread, tmp_path)["extraction"]["tool"]
    assert tool["evidence-app"] == __version__ and tool["sqlalchemy"] and tool["python"]


def test_log_files_are_identified_by_name_size_and_sha256(spread, tmp_path):
    spread.failure("f1", T0)
    files = _pack_manifest(spread, tmp_path)["extraction"]["files"]
    (log,) = files
    data = (spread.root / "logpush" / "20261001" / "events.log.gz").read_bytes()
    assert log == {"role": "worker_logs", "name": str(spread.root / "logpush" / "20261001" / "events.log.gz"),
                   "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_a_d1_dump_is_identified_by_name_size_and_sha256(spread, tmp_path):
    cfg = spread.write()
    dump = spread.root / "audit-export.sql"
    with sqlite3.connect(spread.root / "audit.db") as db:
        lines = [line for line in db.iterdump() if line not in ("BEGIN TRANSACTION;", "COMMIT;")]
    db.close()
    dump.write_text("PRAGMA defer_foreign_keys=TRUE;\n" + "\n".join(lines) + "\n")
    cfg.write_text(cfg.read_text().replace('url = "sqlite:///audit.db"', 'd1_dump = "audit-export.sql"'))
    spread.write = lambda: cfg  # keep the edited config
    files = _pack_manifest(spread, tmp_path)["extraction"]["files"]
    data = dump.read_bytes()
    assert {"role": "audit.d1_dump", "name": str(dump), "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()} in files


def test_the_methodology_shows_each_query_with_its_row_count(spread, tmp_path):
    import subprocess

    tool("pdftotext")
    manifest = _pack_manifest(spread, tmp_path, "--start", "2026-10-02", "--end", "2026-10-03")
    text = " ".join(subprocess.run(["pdftotext", "-raw", str(tmp_path / "p.pdf"), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "8.6 Re-performable extraction" in text
    for i, q in enumerate(manifest["extraction"]["queries"], start=1):
        assert f"Query {i} — {q['source']}:" in text and f"{q['rows_returned']:,} rows returned" in text
        assert f"parameters (JSON): {json.dumps(q['parameters'])}" in text


@pytest.mark.postgres
def test_the_recorded_sql_reruns_on_postgresql_with_the_recorded_row_count(pg_admin, spread):
    import psycopg

    cfg = server_copy(pg_admin, spread, "ipe", "postgresql://postgres@127.0.0.1:5432/postgres")
    data, _ = evaluate(load_config(cfg), Period(T0.date() + DAY, T0.date() + 2 * DAY))
    assert {q.server_version.split()[0] for q in data.queries} == {"PostgreSQL"}
    # read natively (ADBC streams a COPY, which takes no parameters): the values are written into the SQL
    assert all(q.driver.startswith("postgresql+adbc_driver_postgresql ") and q.paramstyle.startswith("none")
               and q.parameters == () for q in data.queries)
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as conn:
        for q in data.queries:
            assert len(conn.execute(q.sql).fetchall()) == q.rows_returned, q.purpose
