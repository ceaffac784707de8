"""The web app's side of access control without an IdP: pages stay on the bounded data layer and the recording
download (checked in their source), and an [access] config never shows figures without Streamlit's sign-in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

UI = Path(__file__).resolve().parent.parent / "evidence_app" / "ui"
PAGES_DIR = UI / "app_pages"


def test_an_access_config_started_without_its_secrets_shows_no_figures(monkeypatch, scenario):
    scenario.extra_config = (
        '[access]\noidc_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n'
        'client_id = "c"\nclient_secret_env = "A"\ncookie_secret_env = "B"\n')
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(scenario.write()))
    at = AppTest.from_file(str(UI / "app.py"), default_timeout=60)
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
    direct = {i for i in _imports(tree) if i.startswith(("evidence_app.reconcile", "evidence_app.pipeline",
                                                         "evidence_app.evidence.build", "evidence_app.evidence.verify",
                                                         "evidence_app.ingest", "evidence_app.summary",
                                                         "evidence_app.config"))}
    private = {c for c in _calls(tree) if c.startswith("data._")}
    assert not direct and not private
