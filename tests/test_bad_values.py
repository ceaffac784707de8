"""Bad values bend no number and stop no run: blanks read as NULL, impossible times and undecodable text
are counted and named, odd mixtures in one column are one clear answer, never a traceback."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.cli import main
from evidence_app.resources import sample_config

from scenario import T0, load_server, server_config

WINDOW = ["--start", "2026-10-01", "--end", "2026-10-01"]


def _coverage(cfg: Path, *args: str):
    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg), "--format", "json", *args])
    assert res.exit_code == 0, res.stderr
    assert "Traceback" not in res.stderr
    return json.loads(res.stdout)[0], res.stderr


def _warning(stderr: str, kind: str, column: str) -> str:
    lines = [line for line in stderr.splitlines() if f"× {kind} in {column}" in line]
    assert len(lines) == 1, stderr
    return lines[0]


# ------------------------------------------------------------------ blanks are NULL


def test_blank_request_ids_do_not_pair_unrelated_rows(scenario):
    scenario.op("o1", request_id="").row("a1", user="someone-else", request_id="  ")
    total, err = _coverage(scenario.write())
    assert total["logged"] == 0 and total["missing"] == 1  # a blank is no request id: keys differ
    assert "operations: 1 × blank_value in request_id (e.g. o1)" in err


def test_blank_request_ids_are_counted_in_both_stores(scenario):
    scenario.op("o1", request_id="").row("a1", request_id=" ")
    total, err = _coverage(scenario.write())
    assert total["logged"] == 1  # matched on the keys instead
    assert "operations: 1 × blank_value in request_id (e.g. o1)" in err
    assert "audit: 1 × blank_value in request_id (e.g. a1)" in err


def test_blank_targets_and_routes_read_as_null(scenario):
    scenario.op("o1", target="   ", route="").row("a1", target=None, route=None)
    total, err = _coverage(scenario.write())
    assert total["logged"] == 1
    assert "blank_value in target (e.g. o1)" in err and "blank_value in route (e.g. o1)" in err


def test_blank_request_ids_in_failure_events_are_counted_with_their_log_line(scenario):
    scenario.op("o1").failure("f1", request_id="")
    _, err = _coverage(scenario.write())
    assert "worker_logs: 1 × blank_value in request_id (e.g. " in err and "events.log.gz:1" in err


def test_the_samples_coverage_does_not_bend_when_its_missing_request_ids_are_blank(tmp_path):
    folder = tmp_path / "sample"
    shutil.copytree(sample_config().parent, folder)
    before, _ = _coverage(folder / "evidence.toml")
    for db, table in (("operations.db", "operations"), ("audit.db", "staff_audit_logs")):
        with sqlite3.connect(folder / db) as conn:
            conn.execute(f"UPDATE {table} SET request_id = '' WHERE request_id IS NULL")
        conn.close()
    after, err = _coverage(folder / "evidence.toml")
    assert after == before and round(after["coverage_logged"], 3) == 0.868
    assert "blank_value in request_id" in err


# ------------------------------------------------------------------ impossible times are counted


IMPOSSIBLE = ["2026-13-45T99:99:99Z", "2026-02-30T12:00:00Z", "2026-09-17T24:00:00Z", "2027-00-10 10:00:00",
              "2025-12-31T23:60:00Z", "0000-01-01T00:00:00Z",
              "2026-11-20t12:00:00z",  # lower-case: the parser refuses it (MySQL compares text case-blind)
              "2026-11-20T12:00:00+99:00"]  # no such zone offset


@pytest.mark.parametrize("value", IMPOSSIBLE)
def test_an_impossible_iso_time_is_counted_even_when_a_window_is_set(scenario, value):
    scenario.op("o1").row("a1").row("a-bad", at=value)
    _, err = _coverage(scenario.write(), *WINDOW)
    assert "a-bad" in _warning(err, "unparseable_timestamp", "created_at")


@pytest.mark.parametrize("value", [10 ** 16, 5e10, 99_999_999_999, -(10 ** 17)])
def test_an_epoch_number_beyond_any_timestamp_is_counted_even_when_a_window_is_set(scenario, value):
    scenario.op("o1").row("a1").row("a-bad", at=value)
    _, err = _coverage(scenario.write(), *WINDOW)
    assert "a-bad" in _warning(err, "unparseable_timestamp", "created_at")


@pytest.mark.parametrize("scale", [1, 1_000, 1_000_000])
def test_epoch_seconds_milliseconds_and_microseconds_are_read_inside_a_window(scenario, scale):
    scenario.op("o1").row("a1", at=int(T0.timestamp()) * scale)
    res = scenario.json("coverage", *WINDOW)
    assert res[0]["logged"] == 1


def test_a_real_time_outside_the_window_is_not_fetched(scenario):
    scenario.op("o1").row("a1").row("far", at=T0 + timedelta(days=40), origin="weird")
    _, err = _coverage(scenario.write(), *WINDOW)
    assert "unknown_origin" not in err and "far" not in err


def _server_impossible_times(admin, scenario, tag: str, url: str) -> str:
    scenario.op("o1").row("a1")
    for i, value in enumerate(IMPOSSIBLE):
        scenario.row(f"bad{i}", at=value)
    scenario.row("fine-late", at=T0 + timedelta(days=40), origin="weird")  # a real time, out of the window
    ops_t, audit_t = load_server(admin, scenario, tag, native_times=True)
    _, err = _coverage(server_config(scenario, url, ops_t, audit_t), *WINDOW)
    return err


@pytest.mark.postgres
def test_impossible_iso_times_are_counted_on_postgresql(pg_admin, scenario):
    err = _server_impossible_times(pg_admin, scenario, "imp", "postgresql://postgres@127.0.0.1:5432/postgres")
    line = _warning(err, "unparseable_timestamp", "created_at")
    assert line.startswith(f"warning: audit: {len(IMPOSSIBLE)} ×") and "fine-late" not in err


@pytest.mark.mariadb
def test_impossible_iso_times_are_counted_on_mariadb(mariadb_admin, scenario):
    err = _server_impossible_times(mariadb_admin, scenario, "imp", "mysql://root@127.0.0.1:3306/test")
    line = _warning(err, "unparseable_timestamp", "created_at")
    assert line.startswith(f"warning: audit: {len(IMPOSSIBLE)} ×") and "fine-late" not in err


# ------------------------------------------------------------------ odd values: one clear answer


def _poke(cfg: Path, db: str, sql: str, *params) -> None:
    with sqlite3.connect(cfg.parent / db) as conn:
        conn.execute(sql, params)
    conn.close()


def test_a_timestamp_column_mixing_a_blob_and_a_nanosecond_iso_string(scenario):
    scenario.op("o1").row("a1").row("a-blob")
    cfg = scenario.write()
    nanoseconds = "2026-10-01T12:00:00.123456789Z"
    _poke(cfg, "audit.db", "UPDATE staff_audit_logs SET created_at = ? WHERE id = 'a1'", nanoseconds)
    _poke(cfg, "audit.db", "UPDATE staff_audit_logs SET created_at = ? WHERE id = 'a-blob'", b"\x00\xffblob")
    total, err = _coverage(cfg)
    assert total["logged"] == 1
    assert "a-blob" in _warning(err, "unparseable_timestamp", "created_at")


def test_one_non_utf8_text_value_is_counted_replaced_and_its_row_named(scenario):
    scenario.op("o1").row("a1").op("o2", T0 + timedelta(minutes=5)).row("a2", T0 + timedelta(minutes=5))
    cfg = scenario.write()
    _poke(cfg, "audit.db", "UPDATE staff_audit_logs SET user_id = CAST(X'75C328' AS TEXT) WHERE id = 'a2'")
    total, err = _coverage(cfg)
    assert total["expected"] == 2 and total["logged"] == 1  # a2's operator is no longer u1: o2 is missing
    assert "a2" in _warning(err, "invalid_utf8", "user_id")


def test_deeply_nested_json_targets_are_compared_as_text(scenario):
    deep = "[" * 100_000 + "]" * 100_000
    scenario.op("o1", target=deep).row("a1", target=deep)
    total, _ = _coverage(scenario.write())
    assert total["logged"] == 1


@pytest.mark.mariadb
def test_a_zero_date_in_a_native_mariadb_column_is_counted_even_when_a_window_is_set(mariadb_admin, scenario):
    import sqlalchemy as sa

    scenario.op("o1").row("a1").op("o-zero", T0)
    ops_t, audit_t = load_server(mariadb_admin, scenario, "zero", native_times=True)
    with mariadb_admin.begin() as conn:
        conn.execute(sa.text("SET SESSION sql_mode = ''"))
        conn.execute(sa.text(f"UPDATE {ops_t} SET occurred_at = '0000-00-00 00:00:00' WHERE id = 'o-zero'"))
    cfg = server_config(scenario, "mysql://root@127.0.0.1:3306/test", ops_t, audit_t)
    _, err = _coverage(cfg, *WINDOW)
    assert "o-zero" in _warning(err, "unparseable_timestamp", "occurred_at")


def test_a_non_utf8_time_value_is_counted_and_does_not_stop_the_time_range(scenario):
    from evidence_app.config.settings import load_config
    from evidence_app.ingest.sources import open_store, time_extent

    scenario.op("o1").row("a1").op("o-bad", T0)
    cfg = scenario.write()
    _poke(cfg, "operations.db", "UPDATE operations SET occurred_at = CAST(X'FF32' AS TEXT) WHERE id = 'o-bad'")
    total, err = _coverage(cfg)
    assert total["expected"] == 1 and "o-bad" in _warning(err, "unparseable_timestamp", "occurred_at")
    assert time_extent(open_store(load_config(cfg).operations), "occurred_at")[0] is not None


# ------------------------------------------------------------------ origins and blanks, read once per distinct value


def _audit_raw(origins: list, routes: list | None = None) -> pd.DataFrame:
    n = len(origins)
    return pd.DataFrame({"id": [f"a{i}" for i in range(n)], "created_at": ["2026-10-01T10:00:00Z"] * n,
                         "action": ["x"] * n, "route": routes or ["/r"] * n, "restaurant_id": ["t"] * n,
                         "user_id": ["u"] * n, "target": ["[1]"] * n, "request_id": [None] * n, "origin": origins,
                         "inserted_at": [None] * n})


def test_origins_are_trimmed_lowered_null_and_blank_live_unknown_backfill_and_counted():
    from evidence_app.ingest.canonical import canonical_audit

    origins = [None, "", "  ", " LIVE ", "Replay", "backfill", "weird", "weird", "Backfill\t"]
    got = canonical_audit(_audit_raw(origins))
    assert got.frame["origin"].tolist() == ["live", "live", "live", "live", "replay", "backfill", "backfill",
                                            "backfill", "backfill"]
    unknown = [i for i in got.issues if i.kind == "unknown_origin"]
    assert len(unknown) == 1 and unknown[0].count == 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x85\xa0\u2003\u3000ab", max_size=4)),
                min_size=1, max_size=12))
def test_a_route_is_blank_exactly_when_stripping_leaves_nothing(routes):
    from evidence_app.ingest.canonical import canonical_audit

    got = canonical_audit(_audit_raw(["live"] * len(routes), routes)).frame["route"]
    for given_route, held in zip(routes, got):
        if given_route is None or given_route.strip() == "":
            assert pd.isna(held), repr(given_route)
        else:
            assert held == given_route, repr(given_route)
