"""The coverage gaps page at thousands of operators (AppTest): bounded charts, the core's totals, any one
operator reachable by search, every one in the download."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from evidence_app.reconcile.bounded import bounded_view
from evidence_app.reconcile.coverage import coverage_table
from evidence_app.ui.words import word
from evidence_app.ui.words import word

from conftest import APP, WAIT_S
from scenario import T0, Scenario

OPERATORS, LIMIT = 3_000, 15


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Scenario:
    """3,000 operations, one per operator, over two days; one in three has no audit row."""
    s = Scenario(tmp_path_factory.mktemp("ui-scale"))
    for i in range(OPERATORS):
        at, user, tenant = T0 + timedelta(seconds=40 * i), f"op{i:04d}", f"t{i % 1_000:04d}"
        s.op(f"o{i:05d}", at, tenant=tenant, user=user, target=f'["m-{i}"]')
        if i % 3:
            s.row(f"a{i:05d}", at, tenant=tenant, user=user, target=f'["m-{i}"]')
    s.write()
    return s


@pytest.fixture(scope="module")
def by_operator(store):
    return coverage_table(store.recon(), ["operator"])


@pytest.fixture
def page(monkeypatch, store) -> AppTest:
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(store.root / "evidence.toml"))
    at = AppTest.from_file(APP, default_timeout=WAIT_S)
    at.run()
    at.switch_page("app_pages/coverage_gaps.py").run()
    assert not at.exception, at.exception
    return at


def chart(at: AppTest, title: str) -> dict:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(s for s in specs if s["layout"]["title"]["text"] == title)


def test_operator_bars_show_at_most_the_worst_and_one_all_others_bar(page):
    for trace in chart(page, "Coverage by operator (worst first)")["data"]:
        assert len(trace["y"]) == LIMIT + 1 and trace["y"][-1] == f"all others ({OPERATORS - LIMIT:,} operators)"


def test_heat_map_has_the_worst_rows_and_one_all_others_row(page):
    heat = chart(page, "Coverage after replay, day × operator (worst first)")["data"][0]
    assert len(heat["y"]) == LIMIT + 1 and heat["y"][-1].startswith("all others (")


def test_bounded_table_lines_add_up_to_the_cores_totals(page, by_operator):
    shown = next(d.value for d in page.dataframe if "Operator" in d.value.columns and len(d.value) == LIMIT + 1)
    core = bounded_view(by_operator, "operator", LIMIT, "coverage").lines
    assert shown["Operator"].tolist() == core["operator"].tolist()
    for field in ("expected", "logged", "missing"):  # the table's headers are words, its counts the core's
        assert int(shown[word(field)].sum()) == int(by_operator[field].sum())
        assert shown[word(field)].tolist() == core[field].tolist()


def test_searching_an_operator_far_down_the_list_shows_its_row(page, by_operator):
    page.text_input(key="find_operator").input("op2998").run()
    assert not page.exception, page.exception
    found = [d.value for d in page.dataframe if len(d.value) == 1 and word("operator") in d.value.columns]
    assert len(found) == 1 and found[0][word("operator")].tolist() == ["op2998"]
    assert found[0][word("expected")].astype(int).tolist() == [1] and found[0][word("missing")].astype(int).tolist() == [0]
    assert "operator" not in found[0].columns  # headers in words, as every table on the page


def test_a_smaller_limit_shows_fewer_bars(page):
    page.number_input(key="worst_limit").set_value(5).run()
    assert [len(t["y"]) for t in chart(page, "Coverage by operator (worst first)")["data"]] == [6, 6]


def test_the_orderings_offered_are_exactly_those_a_coverage_view_takes(page):
    from evidence_app.reconcile.bounded import ORDER_WORDS, ORDERINGS

    assert page.selectbox(key="worst_order").options == [ORDER_WORDS[o].removeprefix("by ") for o in ORDERINGS]
