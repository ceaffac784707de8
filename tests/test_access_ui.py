"""The web app's side of access control, server-side through AppTest (a seeded st.user stands in for the IdP;
tests/test_access_browser.py signs in for real): grants bound the numbers, roles the pages and details,
links cannot widen a scope; pages stay on the bounded data layer and the recording download (checked in
their source); an [access] config never shows figures without Streamlit's sign-in."""

from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from evidence_app.access import AccessLog
from evidence_app.cli import main
from evidence_app.ui.components import plain

from conftest import WAIT_S

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "evidence_app" / "ui"
PAGES_DIR = UI / "app_pages"
SAMPLE = ROOT / "sample_data"
GRANTS = """
[[access.grant]]
sub = "werner"
role = "auditor"
tenants = ["vie-neubau"]
period = ["2026-10-01", "2026-10-15"]

[[access.grant]]
sub = "eva"
role = "engineer"
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    cfg = tmp_path / "evidence.toml"
    cfg.write_text(
        f'[audit]\nurl = "sqlite:///{SAMPLE / "audit.db"}"\n[operations]\nurl = "sqlite:///{SAMPLE / "operations.db"}"\n'
        f'[worker_logs]\npaths = ["{SAMPLE}/logpush/**/*.log.gz"]\n'
        '[access]\noidc_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\nclient_id = "c"\n'
        'client_secret_env = "A"\ncookie_secret_env = "B"\n' + GRANTS)
    AccessLog(tmp_path / "access-log.db").create()
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(cfg))
    return cfg


def _signed_in(sub: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(UI / "app.py"), default_timeout=WAIT_S)
    at.user = {"is_logged_in": True, "sub": sub, "email": f"{sub}@example.com"}
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _cli(cfg: Path, *args: str) -> list[dict]:
    res = CliRunner().invoke(main, [args[0], "--config", str(cfg), *args[1:], "--format", "json"])
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def test_a_grants_tenants_and_days_bound_the_numbers(site):
    at = _signed_in("werner")
    want = _cli(site, "coverage", "--start", "2026-10-01", "--end", "2026-10-15", "--by", "tenant")
    neubau = next(r for r in want if r["tenant"] == "vie-neubau")
    assert {m.label: m.value for m in at.metric}["Operations expected"] == f"{neubau['expected']:,}"
    assert at.sidebar.date_input(key="f_period").value == (date(2026, 10, 1), date(2026, 10, 15))


def test_a_link_beyond_the_grants_days_is_pulled_inside_and_logged(site):
    at = _signed_in("werner", {"start": "2026-08-01", "end": "2026-10-29", "tenant": "ist-kadikoy"})
    assert at.sidebar.date_input(key="f_period").value == (date(2026, 10, 1), date(2026, 10, 15))
    assert at.sidebar.multiselect(key="f_tenant").value == []
    assert any(plain("tenant ist-kadikoy") in w.value for w in at.warning)
    refused = [e for e in AccessLog(site.parent / "access-log.db").entries() if e.action == "link_refused"]
    assert refused and "tenant ist-kadikoy" in refused[0].params["refused"]


def test_another_tenants_operator_in_a_link_is_dropped_and_named(site):
    at = _signed_in("werner", {"operator": "ayse.yilmaz"})  # an Istanbul operator; werner sees vie-neubau only
    assert at.sidebar.multiselect(key="f_operator").value == []
    assert "ayse.yilmaz" not in at.sidebar.multiselect(key="f_operator").options
    assert any(plain("operator ayse.yilmaz") in w.value for w in at.warning)


def test_an_auditor_sees_no_connection_details(site):
    at = _signed_in("werner")
    at.switch_page("app_pages/sources.py").run()
    assert not at.exception and len(at.code) == 0
    assert all(str(SAMPLE) not in m.value for m in at.markdown)


def test_an_engineer_sees_the_connection_details(site):
    at = _signed_in("eva")
    at.switch_page("app_pages/sources.py").run()
    assert any(str(SAMPLE / "audit.db") in c.value for c in at.code)


def test_a_page_view_is_recorded_before_the_page_shows_anything(site):
    _signed_in("eva")
    actions = [(e.action, e.page, e.sub) for e in AccessLog(site.parent / "access-log.db").entries()]
    assert actions[:2] == [("sign_in", None, "eva"), ("page_view", "overview", "eva")]


def test_a_broken_access_log_stops_the_page(site):
    (site.parent / "access-log.db").unlink()
    at = AppTest.from_file(str(UI / "app.py"), default_timeout=WAIT_S)
    at.user = {"is_logged_in": True, "sub": "eva", "email": "eva@example.com"}
    at.run()
    assert not at.exception and any("access log" in e.value for e in at.error)
    assert len(at.metric) == 0


def test_an_access_config_started_without_its_secrets_shows_no_figures(monkeypatch, scenario):
    scenario.extra_config = (
        '[access]\noidc_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n'
        'client_id = "c"\nclient_secret_env = "A"\ncookie_secret_env = "B"\n')
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(scenario.write()))
    at = AppTest.from_file(str(UI / "app.py"), default_timeout=WAIT_S)
    at.run()
    assert not at.exception
    assert any("[access]" in e.value for e in at.error)
    assert len(at.metric) == 0 and len(at.get("plotly_chart")) == 0 and len(at.dataframe) == 0


# ---------------------------------------------------------------------------------------------- pages


def _calls(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base = node.func.value
            names.add(f"{base.id if isinstance(base, ast.Name) else '?'}.{node.func.attr}")
    return names


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


@pytest.mark.parametrize("page", sorted(p.name for p in PAGES_DIR.glob("*.py")))
def test_pages_offer_files_only_through_the_recording_download(page):
    tree = ast.parse((PAGES_DIR / page).read_text())
    assert "st.download_button" not in _calls(tree)


@pytest.mark.parametrize("page", sorted(p.name for p in PAGES_DIR.glob("*.py")))
def test_pages_reach_data_only_through_the_bounded_data_layer(page):
    tree = ast.parse((PAGES_DIR / page).read_text())
    direct = {i for i in _imports(tree) if i.startswith(("evidence_app.reconcile", "evidence_app.assess.pipeline",
                                                         "evidence_app.evidence.build", "evidence_app.evidence.verify",
                                                         "evidence_app.ingest", "evidence_app.assess.summary",
                                                         "evidence_app.config.settings"))
              and not i.startswith("evidence_app.reconcile.rules")}  # the vocabulary (state names), not data
    private = {c for c in _calls(tree) if c.startswith("data._")}
    assert not direct and not private


def _offer_a_file_that_fails_when_made() -> None:
    import streamlit as st

    from evidence_app.ui import access

    st.session_state[access.VISITOR_KEY] = access.Visitor(**st.session_state["visitor_fields"])

    def make() -> bytes:
        raise RuntimeError("the file was made at render")

    access.download("Download", make, file_name="x.csv", mime="text/csv", key="dl", action="csv_download",
                    page="test")
    st.write("rendered")


def test_a_download_is_made_when_clicked_not_at_every_render():
    """A page offering a million-line CSV pays for it only when someone asks for it (with or without a log)."""
    import dataclasses

    from evidence_app.ui import access

    fields = {f.name: None for f in dataclasses.fields(access.Visitor)}
    at = AppTest.from_function(_offer_a_file_that_fails_when_made, default_timeout=WAIT_S)
    at.session_state["visitor_fields"] = fields
    at.run()
    assert not at.exception, at.exception
    assert any("rendered" in m.value for m in at.markdown)
