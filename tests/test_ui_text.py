"""Data values are rendered as text, never as markdown or HTML: a tenant named like a markdown image shows
as typed and fetches nothing (AppTest: the element bodies hold the escaped text; Chromium: no <img>,
no request to the planted address)."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from evidence_app.ui.components import chart_text, plain

from conftest import APP, WAIT_S
from scenario import T0

IMAGE = "![x](http://127.0.0.1:9/p.png)"
TAG = "<img src=http://127.0.0.1:9/q.png onerror=alert(1)>"
BOLD_LINK = "**bold** [link](http://127.0.0.1:9/l) :red[red] $x$"
ORG = "Org ![logo](http://127.0.0.1:9/o.png)"


@pytest.fixture
def hostile(scenario) -> Path:
    """Names chosen to be read as markup: a tenant, an operator, a route and the organisation."""
    scenario.op("o1", tenant=IMAGE, user=TAG, route=BOLD_LINK).row("a1", tenant=IMAGE, user=TAG, route=BOLD_LINK)
    scenario.op("o2", T0 + timedelta(minutes=5), tenant=IMAGE, user=TAG, route=BOLD_LINK)
    cfg = scenario.write()
    cfg.write_text(cfg.read_text().replace('name = "Test GmbH"', f'name = "{ORG}"'))
    return cfg


def test_plain_escapes_every_markup_character():
    assert plain(IMAGE) == "\\!\\[x\\]\\(http\\:\u200b\\/\\/127\\.0\\.0\\.1\\:9\\/p\\.png\\)"
    assert plain("# 1. **b**") == "\\# 1\\. \\*\\*b\\*\\*" and plain("2. x").startswith("2\\.")
    assert "<" not in plain(TAG).replace("\\<", "") and "\n" not in plain("a\nb")
    assert chart_text(TAG).startswith("&lt;img")


def _app(monkeypatch, cfg: Path) -> AppTest:
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(cfg))
    at = AppTest.from_file(APP, default_timeout=WAIT_S)
    at.run()
    assert not at.exception, at.exception
    return at


def _bodies(at: AppTest) -> list[str]:
    return [str(e.value) for kind in ("markdown", "caption", "error", "success", "warning", "info")
            for e in at.get(kind)]


def _assert_literal(bodies: list[str], *names: str) -> None:
    text = "\n".join(bodies)
    for name in names:
        assert plain(name) in text, (name, text)
        assert name not in text, (name, text)  # nowhere unescaped


def test_organisation_and_scope_show_as_typed_in_the_sidebar(monkeypatch, hostile):
    at = _app(monkeypatch, hostile)
    at.sidebar.multiselect(key="f_tenant").set_value([IMAGE]).run()
    at.sidebar.multiselect(key="f_operator").set_value([TAG]).run()
    assert not at.exception
    _assert_literal([str(e.value) for kind in ("markdown", "caption") for e in at.sidebar.get(kind)], ORG, IMAGE, TAG)


def test_the_evidence_pack_page_shows_the_scope_as_typed(monkeypatch, hostile):
    at = _app(monkeypatch, hostile)
    at.sidebar.multiselect(key="f_route").set_value([BOLD_LINK]).run()
    at.switch_page("app_pages/evidence_pack.py").run()
    assert not at.exception
    _assert_literal(_bodies(at), BOLD_LINK)


@pytest.mark.parametrize("page", ["app_pages/coverage_gaps.py", "app_pages/replay.py", "app_pages/sources.py"])
def test_no_page_renders_a_data_value_as_markup(monkeypatch, hostile, page):
    at = _app(monkeypatch, hostile)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    for body in _bodies(at):
        for name in (IMAGE, TAG, BOLD_LINK):
            assert name not in body, body
    for chart in at.get("plotly_chart"):
        assert "<img" not in chart.proto.spec and "](http" not in json.loads(chart.proto.spec).get("data", [{}])[0].get(
            "name", "")


def test_chart_labels_are_escaped_for_plotly(monkeypatch, hostile):
    at = _app(monkeypatch, hostile)
    at.switch_page("app_pages/coverage_gaps.py").run()
    heat = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert heat["data"][0]["y"] == [chart_text(TAG)]


def test_an_error_naming_a_hostile_path_shows_it_as_typed(monkeypatch, tmp_path):
    folder = tmp_path / "**boom** <img src=x onerror=alert(1)>"
    folder.mkdir()
    cfg = folder / "evidence.toml"
    cfg.write_text('[audit]\nurl = "sqlite:///missing.db"\n[operations]\nurl = "sqlite:///missing.db"\n')
    at = _app(monkeypatch, cfg)
    errors = [e.value for e in at.error]
    assert errors and all("<img" not in e.replace("\\<img", "") and "**boom**" not in e for e in errors), errors


def test_in_chromium_no_image_is_fetched_and_the_names_show_as_typed(hostile):
    from browser import chromium, free_port, fresh_page, need_browser, running, settle

    need_browser()
    port = free_port()
    with running([sys.executable, "-m", "evidence_app", "serve", "--config", str(hostile), "--port", str(port)],
                 port) as url, chromium() as browser, fresh_page(browser, url) as pg:
        planted: list[str] = []
        pg.on("request", lambda r: planted.append(r.url) if "127.0.0.1:9" in r.url else None)
        pg.reload()
        pg.get_by_role("heading", name="Audit-trail completeness").wait_for()
        settle(pg)
        sidebar = pg.get_by_test_id("stSidebar")
        assert ORG in sidebar.inner_text().replace("\u200b", "")
        assert pg.locator("img[src*='127.0.0.1:9']").count() == 0
        links = pg.locator("a[href*='127.0.0.1:9']")
        assert links.count() == 0, links.first.evaluate("e => e.outerHTML + ' IN ' + e.parentElement.outerHTML")
        assert planted == []
