"""The web app renders from what it holds (issue 21): the Overview's figures and the filters' values are computed
once per dataset and scope, kept beside the snapshot, and what a render sends the browser is bounded."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evidence_app.config.settings import load_config
from evidence_app.persistence import snapshot
from evidence_app.reconcile import Period
from evidence_app.ui import views
from evidence_app.ui import data as ui_data

from conftest import APP, WAIT_S
from scenario import T0

OPERATORS = 5_000


def _restart() -> None:
    """What a server restart does to the web app's memory: every Streamlit cache is gone."""
    st.cache_data.clear()
    st.cache_resource.clear()
    views.STARTED.clear()


@pytest.fixture
def world(scenario, monkeypatch):
    """Three operations (o3 without its audit row) in two tenants; snapshots in the scenario's folder."""
    scenario.op("o1").row("a1").op("o2", T0 + timedelta(minutes=5), tenant="r2")
    scenario.row("a2", T0 + timedelta(minutes=5), tenant="r2").op("o3", T0 + timedelta(minutes=9))
    scenario.extra_config = '[cache]\nfolder = "snapshots"\n'
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(scenario.write()))
    _restart()
    yield scenario
    _restart()


@pytest.fixture
def calls(monkeypatch) -> dict[str, int]:
    """Counts a render's calls into the core's per-row functions the views are computed with, and into loading
    (not the background warm-up's)."""
    counted: dict[str, int] = {}

    def counting(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            if threading.current_thread().name != "evidence-views-warm-up":  # a render's calls only
                counted[name] = counted.get(name, 0) + 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    for module, name in ((views, "summarize"), (views, "coverage_table"), (views, "evaluate_controls"),
                         (ui_data, "read_through"), (ui_data, "apply_scope"), (ui_data, "coverage_table"),
                         (ui_data, "exceptions_table")):
        counting(module, name)
    return counted


def _run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=WAIT_S)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_second_visitor_renders_without_calling_the_core(world, calls):
    first = _metrics(_run())
    assert calls["summarize"] == 1 and calls["read_through"] == 1
    before = dict(calls)
    assert _metrics(_run()) == first
    assert calls == before


def test_a_second_visitor_gets_the_very_views_the_first_one_computed(world):
    _run()
    held = ui_data._views_held()
    computed, kept = held.computed, dict(held.views)
    _run()
    assert held.computed == computed
    assert kept and all(held.views[k] is v for k, v in kept.items())  # the warm-up may add others, never replace


def test_a_filter_change_computes_its_scope_once_then_reuses_it(world, calls):
    at = _run()
    at.sidebar.multiselect(key="f_tenant").set_value(["r2"]).run()
    assert _metrics(at)["Operations expected"] == "1"
    once = calls["summarize"]
    at.sidebar.multiselect(key="f_tenant").set_value([]).run()
    at.sidebar.multiselect(key="f_tenant").set_value(["r2"]).run()
    assert calls["summarize"] == once and _metrics(at)["Operations expected"] == "1"


def test_a_restart_serves_the_kept_views_without_loading_or_computing(world, calls):
    first = _metrics(_run())
    _restart()
    before = dict(calls)
    at = _run()
    assert _metrics(at) == first
    assert calls == before  # no read_through (no snapshot load, no reconcile), no summarize
    assert ui_data._views_held().restored == 1
    note = next(c.value for c in at.sidebar.caption if c.value.startswith("Data "))
    assert note.startswith("Data from a snapshot taken ")


def test_a_restart_after_a_source_changed_computes_the_views_again(world, calls):
    import sqlite3

    _run()
    _restart()
    with sqlite3.connect(world.root / "audit.db") as db:
        db.execute("INSERT INTO staff_audit_logs (id, created_at, action, restaurant_id, user_id, target) "
                   "VALUES ('a3', ?, 'cache_purge', 'r1', 'u1', '[\"m-1\"]')",
                   ((T0 + timedelta(minutes=9)).strftime("%Y-%m-%d %H:%M:%S"),))
    db.close()
    at = _run()
    assert _metrics(at)["Missing"] == "0"
    assert ui_data._views_held().restored == 0


def test_views_judged_longer_ago_than_the_data_cache_life_are_judged_again(world, calls, monkeypatch):
    _run()
    once = calls["summarize"]
    monkeypatch.setattr(ui_data, "TTL", timedelta(seconds=-1))  # every view held or kept is now too old
    _run()
    assert calls["summarize"] > once


# ---------------------------------------------------------------------------------------------- kept views


def _kept(world) -> tuple:
    _run()
    config = load_config(world.root / "evidence.toml")
    held = ui_data._views_held()
    (key, found), = [(k, v) for k, v in held.views.items() if not k[3].items()]
    return config, Period(key[1], key[2]), key[4], found


def test_kept_views_come_back_equal(world):
    config, period, print_, found = _kept(world)
    name = ui_data._views_name(str(world.root / "evidence.toml"), found_scope := ui_data.Scope())
    saved = snapshot.load_views(config, period, print_, name)
    assert saved is not None and found_scope == ui_data.Scope()
    back = views.from_files(saved.frames, saved.doc)
    assert back.totals == found.totals and back.as_of == found.as_of and back.complete == found.complete
    assert back.by_day.equals(found.by_day) or back.by_day.astype(str).equals(found.by_day.astype(str))
    assert back.controls.equals(found.controls)
    assert {c: f.values for c, f in back.facets.items()} == {c: f.values for c, f in found.facets.items()}


def test_kept_views_are_not_served_for_other_sources(world):
    config, period, print_, found = _kept(world)
    name = ui_data._views_name(str(world.root / "evidence.toml"), ui_data.Scope())
    assert snapshot.load_views(config, period, "0" * 64, name) is None


def test_damaged_kept_views_are_not_served(world):
    config, period, print_, found = _kept(world)
    name = ui_data._views_name(str(world.root / "evidence.toml"), ui_data.Scope())
    folder = snapshot.snapshot_folder(config) / snapshot.snapshot_key(config, period) / "views" / name
    target = folder / "controls.arrow"
    target.write_bytes(target.read_bytes()[:-8] + b"\0" * 8)
    assert snapshot.load_views(config, period, print_, name) is None


def test_views_are_not_kept_for_data_the_snapshot_does_not_hold(world):
    config, period, print_, found = _kept(world)
    frames, doc = views.to_files(found)
    assert not snapshot.save_views(config, period, "f" * 64, "views-other", frames, doc)


# ---------------------------------------------------------------------------------------------- bounded


@pytest.fixture
def crowd(scenario, monkeypatch):
    """5,000 operators, one operation each (every tenth without its audit row); op4999 has the fewest."""
    for i in range(OPERATORS):
        at = T0 + timedelta(seconds=10 * i)
        scenario.op(f"o{i:05d}", at, user=f"op{i:04d}", tenant=f"t{i % 7}", target=f'["m-{i}"]')
        if i % 10:
            scenario.row(f"a{i:05d}", at, user=f"op{i:04d}", tenant=f"t{i % 7}", target=f'["m-{i}"]')
    scenario.op("o-extra", T0, user="op0000", tenant="t0", target='["m-x"]').row("a-extra", T0, user="op0000",
                                                                                    tenant="t0", target='["m-x"]')
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(scenario.write()))
    _restart()
    yield scenario
    _restart()


def test_the_operator_filter_lists_a_bounded_number_of_values(crowd):
    at = _run()
    box = at.sidebar.multiselect(key="f_operator")
    assert len(box.options) == views.OFFERED < OPERATORS
    assert box.options[0] == "op0000"  # most operations first
    assert f"{OPERATORS:,} operator values" in box.help


def test_an_operator_not_listed_can_be_typed_and_filters(crowd):
    at = _run()
    assert "op4990" not in at.sidebar.multiselect(key="f_operator").options
    at.session_state["f_operator"] = ["op4990"]  # typed (AppTest's set_value takes only listed options)
    at.run()
    assert not at.exception, at.exception
    assert _metrics(at)["Operations expected"] == "1" and _metrics(at)["Missing"] == "1"
    assert at.sidebar.multiselect(key="f_operator").value == ["op4990"]


def test_a_typed_operator_absent_from_the_period_is_dropped_and_said(crowd):
    at = _run()
    at.session_state["f_operator"] = ["nobody"]
    at.run()
    assert at.sidebar.multiselect(key="f_operator").value == []
    assert any("nobody" in c.value for c in at.sidebar.caption)
    assert _metrics(at)["Operations expected"] == f"{OPERATORS + 1:,}"


def test_a_shared_link_to_an_operator_not_listed_prefills_it(crowd):
    at = _run({"operator": "op4998"})
    assert at.sidebar.multiselect(key="f_operator").value == ["op4998"]
    assert _metrics(at)["Operations expected"] == "1"


def test_the_drill_down_lists_a_bounded_number_of_operators_and_exceptions(crowd, monkeypatch):
    at = _run()
    at.switch_page("app_pages/coverage_gaps.py").run()
    assert not at.exception, at.exception
    assert len(at.selectbox(key="drill_operator").options) == views.OFFERED + 1
    assert at.text_input(key="find_operator").value in ("", None)
    shown = next(d.value for d in at.dataframe if "Kind" in d.value.columns)  # the drill-down, headers in words
    assert len(shown) == OPERATORS // 10  # 500 exceptions: under the bound, every one


def test_a_facet_offers_the_chosen_values_first_then_the_largest():
    facet = views.Facet("tenant", ("big", "mid", "small", "tiny"), (9, 5, 2, 1))
    assert facet.offered(["tiny"], limit=2) == ["tiny", "big", "mid"]
    assert facet.offered(["gone"], limit=2) == ["big", "mid"]
    assert "small" in facet and "gone" not in facet and facet.count == 4


def test_the_filters_offer_exactly_the_values_present_as_before(world):
    from evidence_app.assess.pipeline import evaluate

    recon = evaluate(load_config(world.root / "evidence.toml"), Period())[1]
    found = views.compute(load_config(world.root / "evidence.toml"), evaluate(load_config(world.root / "evidence.toml"),
                                                                             Period())[0], recon,
                          datetime.now(timezone.utc)).facets
    for column in views.FILTERS:
        assert sorted(found[column].values) == sorted(str(x) for x in recon.operations[column].dropna().unique())
    assert found["tenant"].values == ("r1", "r2") and found["tenant"].operations == (2, 1)


def test_the_largest_tenants_are_warmed_in_the_background_and_then_shown_without_computing(world, calls):
    import time

    at = _run()
    held = ui_data._views_held()
    deadline = time.monotonic() + WAIT_S
    while held.warming or held.warmed < 2:  # r1 and r2: the warm-up thread's work, polled
        assert time.monotonic() < deadline, "the warm-up did not finish"
        time.sleep(0.05)
    computed = held.computed
    at.sidebar.multiselect(key="f_tenant").set_value(["r2"]).run()
    assert _metrics(at)["Operations expected"] == "1" and held.computed == computed


def test_the_coverage_gaps_tables_of_a_whole_scope_are_warmed_and_equal_the_cores(world):
    import time

    from evidence_app.assess.pipeline import evaluate
    from evidence_app.reconcile.coverage import coverage_table, exceptions_table

    _run()
    held = ui_data._views_held()
    deadline = time.monotonic() + WAIT_S
    while held.warming or len(held.tables) < len(ui_data.WARM_TABLES):
        assert time.monotonic() < deadline, "the warm-up did not finish"
        time.sleep(0.05)
    recon = evaluate(load_config(world.root / "evidence.toml"), Period())[1]
    for (_, _, _, scope, what), (_, table) in held.tables.items():
        core = exceptions_table(recon) if what == ui_data.EXCEPTIONS else coverage_table(recon, list(what))
        assert table.astype(str).equals(core.astype(str)), what


def test_the_coverage_gaps_page_of_a_warmed_scope_computes_no_table(world, calls):
    import time

    at = _run()
    held = ui_data._views_held()
    deadline = time.monotonic() + WAIT_S
    while held.warming or len(held.tables) < len(ui_data.WARM_TABLES):
        assert time.monotonic() < deadline, "the warm-up did not finish"
        time.sleep(0.05)
    before = dict(calls)
    at.switch_page("app_pages/coverage_gaps.py").run()
    assert not at.exception, at.exception
    assert "exceptions_table" not in calls and calls.get("coverage_table") == before.get("coverage_table")


def test_a_restart_uses_the_period_and_fingerprint_taken_as_the_server_started(world, calls, monkeypatch):
    first = _metrics(_run())
    _restart()
    started = views.at_start(str(world.root / "evidence.toml"))
    config = load_config(world.root / "evidence.toml")
    from evidence_app.ingest.dataset import open_stores

    assert started is not None and views.STARTED == [started]
    assert started.print == snapshot.print_of(snapshot.fingerprint(config, Period(started.start, started.end),
                                                                   open_stores(config)))
    taken = []
    monkeypatch.setattr(ui_data, "fingerprint", lambda *a, **k: taken.append(1) or snapshot.fingerprint(*a, **k))
    before = dict(calls)
    at = _run()
    assert _metrics(at) == first and not taken and calls == before
    assert ui_data._views_held().restored == 1 and views.STARTED == []  # used once, then taken afresh


def test_a_fingerprint_taken_at_start_longer_ago_than_the_data_cache_life_is_not_used(world, monkeypatch):
    _run()
    _restart()
    views.at_start(str(world.root / "evidence.toml"))
    views.STARTED[0] = views.Started(**{**views.STARTED[0].__dict__,
                                        "taken_at": views.STARTED[0].taken_at - ui_data.TTL})
    taken = []
    monkeypatch.setattr(ui_data, "fingerprint", lambda *a, **k: taken.append(1) or snapshot.fingerprint(*a, **k))
    _run()
    assert taken == [1]


@pytest.mark.parametrize("page", sorted(p.name for p in (Path(APP).parent / "app_pages").glob("*.py")))
def test_a_page_writes_no_stray_text_through_streamlit_magic(page):
    import ast

    tree = ast.parse((Path(APP).parent / "app_pages" / page).read_text(encoding="utf-8"))
    stray = [n.lineno for n in tree.body[1:] if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
             and isinstance(n.value.value, str)]  # Streamlit draws a bare string on the page (its docstring aside)
    assert not stray, f"{page}: a bare string at line(s) {stray} is drawn on the page"
