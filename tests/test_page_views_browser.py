"""In a real headless Chromium (issue 21): the Overview and Coverage gaps draw every figure, a second visitor's
page too, and the browser is offered a bounded list of operators whatever their number."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest

from evidence_app.assess.pipeline import evaluate
from evidence_app.config.settings import load_config
from evidence_app.reconcile import Period
from evidence_app.reconcile.coverage import coverage_table
from evidence_app.ui.views import OFFERED

from browser import chromium, drawn, free_port, fresh_page, need_browser, no_exception, running, shot
from scenario import T0, Scenario

OPERATORS = 2_000
OVERVIEW = ("Audit-trail completeness", "stDataFrame", 2)
GAPS = ("Coverage gaps", "Download every day × operator cell (CSV)", 2)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Scenario:
    """2,000 operators over two days, one operation each (every tenth without its audit row)."""
    s = Scenario(tmp_path_factory.mktemp("views-browser"))
    for i in range(OPERATORS):
        at = T0 + timedelta(seconds=80 * i)
        s.op(f"o{i:05d}", at, user=f"op{i:04d}", tenant=f"t{i % 7}", target=f'["m-{i}"]')
        if i % 10:
            s.row(f"a{i:05d}", at, user=f"op{i:04d}", tenant=f"t{i % 7}", target=f'["m-{i}"]')
    s.extra_config = '[cache]\nfolder = "snapshots"\n'
    s.write()
    return s


@pytest.fixture(scope="module")
def server(store):
    need_browser()
    port = free_port()
    cfg = store.root / "evidence.toml"
    with running([sys.executable, "-m", "evidence_app", "serve", "--config", str(cfg), "--port", str(port)],
                 port) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


def test_the_overview_draws_its_figures_with_the_cores_numbers(browser, server, store):
    recon = evaluate(load_config(store.root / "evidence.toml"), Period())[1]
    expected = int(coverage_table(recon, []).iloc[0]["expected"])
    for visitor in ("first", "second"):
        with fresh_page(browser, server, heading=None) as pg:
            drawn(pg, *OVERVIEW)
            assert pg.get_by_text(f"{expected:,}", exact=True).count() >= 1
            no_exception(pg)
            shot(pg, f"views-overview-{visitor}")


def test_coverage_gaps_draws_its_figures(browser, server):
    with fresh_page(browser, server + "/coverage_gaps", heading=None) as pg:
        drawn(pg, *GAPS)
        no_exception(pg)
        shot(pg, "views-coverage-gaps")


def test_an_operator_beyond_the_list_is_offered_only_as_typed_and_filters(browser, server):
    with fresh_page(browser, server, heading=None) as pg:
        drawn(pg, *OVERVIEW)
        pg.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").nth(1).click()
        pg.get_by_role("option").first.wait_for()
        pg.keyboard.type("op1990")  # the 1,991st of 2,000 operators: not among the OFFERED listed
        pg.get_by_role("option", name="Add: op1990").wait_for()
        assert [o.inner_text() for o in pg.get_by_role("option").all()] == ["Add: op1990"]
        pg.keyboard.press("Enter")
        pg.keyboard.press("Escape")
        pg.get_by_test_id("stSidebar").get_by_text("operator = op1990").wait_for()
        drawn(pg, *OVERVIEW)
        metric = pg.get_by_test_id("stMetric").filter(has_text="Operations expected")
        assert metric.get_by_test_id("stMetricValue").inner_text() == "1"
        shot(pg, "views-typed-operator")
