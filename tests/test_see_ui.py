"""The pages answer each user's question (issue 25), in Streamlit's AppTest on the bundled sample: the Overview
states the period against the data; the Replay page opens on the open failures, the core's; "worst" always orders."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from streamlit.testing.v1 import AppTest

from evidence_app.assess.backlog import open_backlog
from evidence_app.assess.pipeline import evaluate
from evidence_app.config.settings import load_config
from evidence_app.reconcile import Period
from evidence_app.reconcile.bounded import bounded_view
from evidence_app.reconcile.coverage import coverage_table
from evidence_app.ui.components import plain


def open_table(at: AppTest):
    """The Replay page's first table: the open failures (the only one with an age)."""
    return next(d.value for d in at.dataframe if "Age" in d.value.columns)


def test_the_overview_warns_when_the_period_reaches_outside_every_source(app):
    assert not app.warning  # the opening period is the data's own
    app.sidebar.date_input(key="f_period").set_value((date(2026, 7, 1), date(2026, 9, 30))).run()
    assert [w.value for w in app.warning] == [plain(
        "The period reaches outside the data: no source holds any record for 2026-07-01 – 2026-07-31 (31 days). "
        "Nothing can be said about those days.", None)]
    line = next(m.value for m in app.markdown if m.value.startswith("**Data in 2026-07-01 – 2026-09-30:**"))
    assert plain("31 of the period's 92 days have no operation", None) in line


def test_the_replay_page_opens_on_the_cores_open_failures(app):
    app.switch_page("app_pages/replay.py").run()
    assert not app.exception, app.exception
    assert app.header[0].value == "Open failures"
    _, recon = evaluate(load_config(None), Period())
    now = datetime.now(timezone.utc)
    core = open_backlog(recon.failures, now, load_config(None).controls)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Open failures"] == f"{core.pending + core.retrying:,}" and core.pending + core.retrying > 0
    assert metrics["Pending"] == f"{core.pending:,}" and metrics["Retrying"] == f"{core.retrying:,}"
    table = open_table(app)
    assert list(table["Failure id"]) == list(core.table["failure_id"])  # oldest first, as the core orders
    assert {"State", "Route", "Age", "Attempts", "Last error"} <= set(table.columns)
    assert any("over the 24 h limit in force" in e.value for e in app.error)  # the sample's oldest is 38+ days
    app.multiselect(key="open_states").set_value(["retrying"]).run()
    assert set(open_table(app)["State"]) == {"Retrying"}


def test_worst_by_orders_every_line_though_all_fit_under_the_limit(app):
    app.switch_page("app_pages/coverage_gaps.py").run()
    by_operator = coverage_table(evaluate(load_config(None), Period())[1], ["operator"])
    assert len(by_operator) < 15  # the sample's 12 operators: below the limit
    orders = {}
    for order in ("coverage", "missing"):
        app.selectbox(key="worst_order").set_value(order).run()
        shown = next(d.value for d in app.dataframe if "Operator" in d.value.columns and len(d.value) == 12)
        orders[order] = list(shown["Operator"])
        assert orders[order] == list(bounded_view(by_operator, "operator", 15, order).named["operator"])
    assert orders["coverage"] != sorted(orders["coverage"]) and orders["coverage"] != orders["missing"]
    heat = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert heat["layout"]["title"]["text"] == "Coverage after replay, day × operator (worst first)"


def test_a_period_without_failure_events_says_so_instead_of_claiming_every_one_was_replayed(app):
    app.sidebar.date_input(key="f_period").set_value((date(2026, 7, 1), date(2026, 9, 30))).run()
    app.switch_page("app_pages/replay.py").run()
    assert not app.exception, app.exception
    _, recon = evaluate(load_config(None), Period(date(2026, 7, 1), date(2026, 9, 30)))
    assert recon.failures.empty  # the sample's Q3: failure logging came with the fix
    texts = [m.value for m in app.markdown] + [i.value for i in app.info]
    assert any("No failure events in the period" in t for t in texts)
    assert not any("every failed insert has been replayed" in t for t in texts)


def test_worst_days_are_drawn_worst_first_not_by_date(app):
    app.switch_page("app_pages/coverage_gaps.py").run()
    assert not app.exception, app.exception
    days = next(json.loads(c.proto.spec) for c in app.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "").startswith("Coverage by day"))
    assert days["layout"]["yaxis"]["type"] == "category"


def test_a_period_before_every_fix_says_no_fix_was_in_force_beside_the_swept_routes(app):
    app.sidebar.date_input(key="f_period").set_value((date(2026, 7, 1), date(2026, 9, 30))).run()
    app.switch_page("app_pages/remediation.py").run()
    assert not app.exception, app.exception
    assert any(w.value.startswith("No fix was in force in this period") for w in app.warning)
    app.sidebar.date_input(key="f_period").set_value((date(2026, 10, 1), date(2026, 10, 29))).run()
    assert not any(w.value.startswith("No fix was in force") for w in app.warning)
