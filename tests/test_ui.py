"""The web app (AppTest): every page renders, filters change the numbers, the numbers equal the core's."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from evidence_app.assess.pipeline import evaluate
from evidence_app.config.settings import load_config
from evidence_app.reconcile import Period, Scope, apply_scope
from evidence_app.reconcile.coverage import coverage_table
from evidence_app.ui.components import mask_secrets, plain

from conftest import APP, WAIT_S

PAGES = ("app_pages/coverage_gaps.py", "app_pages/replay.py", "app_pages/remediation.py", "app_pages/evidence_pack.py",
         "app_pages/sources.py")
SAMPLE_PERIOD = Period(date(2026, 8, 1), date(2026, 10, 29))


@pytest.fixture(scope="module")
def core():
    _, recon = evaluate(load_config(None), SAMPLE_PERIOD)
    return recon


def values(trace_field) -> list:
    """Plotly may ship arrays as typed base64 ('bdata'); decode either form."""
    import base64

    import numpy as np

    if isinstance(trace_field, dict) and "bdata" in trace_field:
        return np.frombuffer(base64.b64decode(trace_field["bdata"]), dtype=trace_field["dtype"]).tolist()
    return list(trace_field)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_numbers_equal_the_core(app, core):
    total = coverage_table(core, []).iloc[0]
    m = metrics(app)
    assert m["Coverage as logged"] == f"{total['coverage_logged'] * 100:.2f}%"
    assert m["Coverage after replay"] == f"{total['coverage_after_replay'] * 100:.2f}%"
    assert m["Operations expected"] == f"{total['expected']:,}"
    assert m["Missing"] == f"{total['missing']:,}"
    assert m["Orphan rows"] == str(int((core.rows["status"] == "orphan").sum()))


def test_overview_trend_chart_plots_the_daily_coverage(app, core):
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    by_day = coverage_table(core, ["day"])
    logged = spec["data"][0]
    assert logged["name"] == "as logged" and len(logged["x"]) == len(by_day) == 90
    assert values(logged["y"]) == pytest.approx([v * 100 for v in by_day["coverage_logged"]])


def test_tenant_filter_changes_the_numbers_to_the_cores(app, core):
    before = metrics(app)["Operations expected"]
    app.sidebar.multiselect(key="f_tenant").set_value(["vie-neubau"]).run()
    assert not app.exception
    scoped = coverage_table(apply_scope(core, Scope(tenant=("vie-neubau",))), []).iloc[0]
    after = metrics(app)
    assert after["Operations expected"] == f"{scoped['expected']:,}" != before
    assert after["Coverage as logged"] == f"{scoped['coverage_logged'] * 100:.2f}%"


def test_filters_persist_across_pages(app, core):
    app.sidebar.multiselect(key="f_action").set_value(["cache_purge"]).run()
    app.switch_page("app_pages/replay.py").run()
    assert app.sidebar.multiselect(key="f_action").value == ["cache_purge"]
    fe = apply_scope(core, Scope(action=("cache_purge",))).failures
    assert metrics(app)["Failures replayed"] == str(int((fe["state"] == "replayed").sum()))


def test_period_filter_changes_the_numbers(app, core):
    app.sidebar.date_input(key="f_period").set_value((date(2026, 10, 1), date(2026, 10, 29))).run()
    _, recon = evaluate(load_config(None), Period(date(2026, 10, 1), date(2026, 10, 29)))
    assert metrics(app)["Operations expected"] == f"{len(recon.operations):,}"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_error(app, page):
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert app.title[0].value


def test_coverage_gaps_drill_down_lists_the_cell(app, core):
    app.switch_page("app_pages/coverage_gaps.py").run()
    heat = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert heat["data"][0]["type"] == "heatmap"
    app.selectbox(key="drill_day").set_value("2026-09-17").run()
    app.selectbox(key="drill_operator").set_value("anna.berger").run()
    from evidence_app.reconcile.coverage import exceptions_table

    ex = exceptions_table(core)
    expected = ex[(ex["day"] == "2026-09-17") & (ex["operator"] == "anna.berger")]
    shown = next(d.value for d in app.dataframe if "Kind" in d.value.columns)  # the drill-down's exceptions
    assert len(shown) == len(expected)
    assert set(shown["Operation id"]) - {"—"} == set(expected["operation_id"].dropna())
    assert "kind" not in shown.columns and not shown["Kind"].str.contains("_").any()  # words, not machine names


def test_replay_page_shows_the_core_states(app, core):
    app.switch_page("app_pages/replay.py").run()
    states = core.failures["state"].value_counts()
    m = metrics(app)
    for state in ("replayed", "pending", "retrying", "abandoned", "unconfirmed"):
        assert m[f"Failures {state}"] == str(int(states.get(state, 0)))
    assert any("unconfirmed" in e.value for e in app.error)
    assert len(app.get("plotly_chart")) >= 4


def test_evidence_pack_page_builds_a_pack(app):
    app.switch_page("app_pages/evidence_pack.py").run()
    app.button(key="build_pack").click().run(timeout=WAIT_S)
    assert not app.exception, app.exception
    assert any("is ready" in s.value for s in app.success)


def test_sources_page_shows_read_only_mode_and_problems(app):
    app.switch_page("app_pages/sources.py").run()
    text = " ".join(m.value for m in app.markdown)
    assert plain("mode=ro") in text
    assert any(df.value.shape[0] >= 1 for df in app.dataframe)


def test_sources_page_figures_are_the_cores(app):
    """The Sources page reads its figures by name (LogFacts, StoreFigures), and they are the loaded data's."""
    data, _ = evaluate(load_config(None), SAMPLE_PERIOD)
    app.switch_page("app_pages/sources.py").run()
    shown = [(m.label, m.value) for m in app.metric]
    logs = data.logs
    for label, value in (("Files", len(logs.files)), ("Files skipped", len(logs.skipped_files)),
                         ("Lines read", logs.lines_read), ("Skipped log lines", logs.skipped_log_lines),
                         ("Failure events", len(logs.failures))):
        assert (label, f"{value:,}") in shown
    for label, field in (("Rows in table", "rows_total"), ("Rows loaded for the period", "rows_loaded"),
                         ("Rows rejected", "rows_rejected")):
        assert [v for k, v in shown if k == label] == [f"{getattr(s, field):,}" for s in data.sources]
    assert logs.skipped_log_lines > 0 and len(logs.failures) > 0  # the sample has both: the checks above bite


def test_the_sources_views_types_are_frozen():
    from dataclasses import FrozenInstanceError

    from evidence_app.ui.data import LogFacts, SourcesView, StoreFigures

    logs, figures = LogFacts(1, 0, 10, 2, 3), StoreFigures(5, 4, 1, None, None)
    view = SourcesView(sources=(), logs=logs, log_health=None, issues=None, config_file=None, config_text=None)
    for value, name in ((logs, "skipped_lines"), (figures, "rows_loaded"), (view, "logs")):
        with pytest.raises(FrozenInstanceError):
            setattr(value, name, None)


def test_bad_config_is_explained_not_a_traceback(monkeypatch, tmp_path):
    bad = tmp_path / "evidence.toml"
    bad.write_text('[audit]\nurl = "sqlite:///missing.db"\n[operations]\nurl = "sqlite:///missing.db"\n')
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(bad))
    at = AppTest.from_file(APP, default_timeout=WAIT_S)
    at.run()
    assert not at.exception
    assert any(plain("audit.url") in e.value for e in at.error)


def test_passwords_are_masked_in_free_text():
    assert mask_secrets('url = "postgresql://auditor:hunter2@db/x"') == 'url = "postgresql://auditor:***@db/x"'


def test_verify_page_trusts_the_servers_own_certificate_and_its_chain(monkeypatch, tmp_path):
    from evidence_app.evidence.trust import certificates_in
    from evidence_app.ui import data

    import forge

    ca = forge.make_identity(tmp_path / "ca", "Server CA", "Example GmbH", ca=True)
    leaf = forge.make_identity(tmp_path / "leaf", "evidence server", "Example GmbH", issuer=ca)
    monkeypatch.setenv(data.KEY_ENV, str(leaf.key))
    monkeypatch.setenv(data.CERT_ENV, str(leaf.cert))
    monkeypatch.setenv(data.CHAIN_ENV, str(ca.cert))
    trust = data.server_trust()
    trial_cert = Path(data.trial_identity()[1])
    for cert in (trial_cert, leaf.cert, ca.cert):
        assert certificates_in(cert.read_bytes(), str(cert))[0] in trust.certificates
    assert "this server's trial identity" in trust.sources and "$EVIDENCE_SIGNING_CHAIN" in trust.sources
