"""The web app and its snapshot (AppTest): a restarted server with unchanged sources is served from the snapshot
and says so; Refresh reads the sources again; the loading bar counts rows and files."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from conftest import APP, WAIT_S
from scenario import T0, sql_ts


@pytest.fixture
def world(scenario, monkeypatch):
    """Three operations, two audit rows (o3 missing); snapshots in the scenario's folder; caches empty."""
    scenario.op("o1").row("a1").op("o2", T0 + timedelta(minutes=5)).row("a2", T0 + timedelta(minutes=5))
    scenario.op("o3", T0 + timedelta(minutes=9))
    scenario.extra_config = '[cache]\nfolder = "snapshots"\n'
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(scenario.write()))
    _restart()
    yield scenario
    _restart()


def _restart() -> None:
    """What a server restart does to the web app's memory: every Streamlit cache is gone."""
    st.cache_data.clear()
    st.cache_resource.clear()


def _run() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=WAIT_S)
    at.run()
    assert not at.exception, at.exception
    return at


def _read_note(at: AppTest) -> str:
    return next(c.value for c in at.sidebar.caption if c.value.startswith("Data "))


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _land_o3(scenario) -> None:
    with sqlite3.connect(scenario.root / "audit.db") as db:
        db.execute("INSERT INTO staff_audit_logs (id, created_at, action, restaurant_id, user_id, target) "
                   "VALUES ('a3', ?, 'cache_purge', 'r1', 'u1', '[\"m-1\"]')", (sql_ts(T0 + timedelta(minutes=9)),))
    db.close()


def test_first_start_says_the_data_was_read_from_the_sources(world):
    at = _run()
    assert _read_note(at).endswith("from the sources.")
    assert _metrics(at)["Missing"] == "1"


def test_restart_with_unchanged_sources_is_served_from_the_snapshot_and_says_so(world):
    first = _metrics(_run())
    _restart()
    at = _run()
    assert _read_note(at).startswith("Data from a snapshot taken ") and "sources unchanged since" in _read_note(at)
    assert _metrics(at) == first


def test_restart_after_a_source_changed_reads_the_sources(world):
    _run()
    _restart()
    _land_o3(world)
    at = _run()
    assert _read_note(at).endswith("from the sources.")
    assert _metrics(at)["Missing"] == "0"


def test_refresh_reads_the_sources_again(world):
    at = _run()
    _land_o3(world)
    at.run()
    assert _metrics(at)["Missing"] == "1"  # cached until the TTL or a Refresh
    at.sidebar.button(key="refresh_data").click().run()
    assert not at.exception, at.exception
    assert _metrics(at)["Missing"] == "0"
    assert _read_note(at).endswith("from the sources.")


def test_refresh_replaces_the_snapshot(world):
    at = _run()
    _land_o3(world)
    at.sidebar.button(key="refresh_data").click().run()
    _restart()
    again = _run()
    assert _read_note(again).startswith("Data from a snapshot taken ")
    assert _metrics(again)["Missing"] == "0"


def _bar_script() -> None:
    from evidence_app.persistence.snapshot import EXPECTED
    from evidence_app.ui.components import LoadingBar

    bar = LoadingBar(every=0.0)
    bar(EXPECTED + "operations", 1_000_000)
    bar(EXPECTED + "audit rows", 920_000)
    bar(EXPECTED + "log files", 30)
    bar("operations", 500_000)
    bar("operations", 500_000)
    bar("audit rows", 50_000)
    bar("log files", 1)


def test_the_loading_bar_counts_rows_and_files_against_the_announced_totals():
    at = AppTest.from_function(_bar_script, default_timeout=WAIT_S)
    at.run()
    bar = at.get("progress")[0]
    assert bar.proto.text == ("Reading the sources: operations 1,000,000 of 1,000,000 · audit rows 50,000 of "
                              "920,000 · log files 1 of 30")
    assert bar.proto.value == int(100 * 1_050_001 / 1_920_030)


def test_the_loading_bar_is_gone_after_loading(world):
    at = _run()
    assert not at.get("progress")
