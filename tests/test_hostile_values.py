"""What a name can inject (issue 19, point 2): every value from data or a URL is shown as typed wherever it appears.

Three layers: ``plain`` (the one path into Streamlit's markdown) read by a CommonMark parser never gives a link, an
image, HTML or emphasis, only the value's own text; every page, rendered by AppTest on a world whose names and
link parameters are hostile, holds no element that Streamlit would read as a link, image, HTML, math, colour or
icon from them, no raw bidi override, no unshortened 5,000-character name; and in Chromium a hostile link makes no
request off the test server and puts no attacker link or image in the page."""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest
from google.protobuf.json_format import MessageToDict
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from evidence_app.access import AccessLog
from evidence_app.access.pages import REGISTRY
from evidence_app.ui.components import LONGEST, LONGEST_LABEL, chart_text, file_name, plain, shown

from scenario import T0

from conftest import APP

HOST = "attacker.invalid"
IMAGE = f"![p](http://{HOST}/pixel)"
LINK = f"[Session expired, sign in again](http://{HOST}/phish)"
TAG = f"<img src=http://{HOST}/i.png onerror=alert(1)>"
BIDI = "invoice\u202efdp.exe"
LONG = f"![long](http://{HOST}/long)" + "x" * 5000
MATH = "$$x^2$$ $y$"
DIRECTIVES = ":red[alarm] :smile: :material/home: :streamlit:"
BARE = f"www.{HOST} http://{HOST}/bare mail@{HOST}"
ENTITY = "&lt;img src=x&gt; &#x202E;"
HOSTILE = (IMAGE, LINK, TAG, BIDI, LONG, MATH, DIRECTIVES, BARE, ENTITY)
ADMIN = f"[admin](http://{HOST}/sub)\u202e"
SOURCE_MARKERS = ("![", "](http", "<img", "<a ", ":red[", ":material/", "$$", "$y$", "&lt;", "&#x")
"""Markup that must never stand unescaped in a body Streamlit reads as markdown (escaped, it reads as itself)."""
TEXT_MARKERS = (":smile:", ":streamlit:", f"www.{HOST}", f"@{HOST}", f"http://{HOST}")
"""What Streamlit's frontend reads in the text after escapes are resolved: shortcodes and bare links."""
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


# ---------------------------------------------------------------------------------------------- plain, the one path

def _markdown():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"linkify": True, "html": True}).enable(["linkify", "table", "strikethrough"])
    md.linkify.set({"fuzzy_link": False})
    return md


MD = _markdown()
FRAGMENTS = st.sampled_from(["![", "](", "[", "]", "(", ")", "<img src=x>", "<", ">", "&amp;", "&#x202E;", "*", "_",
                             "`", "~~", "$", "$$", "#", "1.", "-", "+", ">", "|", "\\", ":", ":red[", ":smile:",
                             ":material/home:", ":+1:", ":100:", "http://", "https://", "www.", "@", "a.b", "\n", "\t",
                             "\r", " ", "    ", "\u202e", "\u2066", "\u200b", "\ufeff", "\x00", "\x1b", "é", "ß", "👩‍💻",
                             "x", "acme", "2026-10-01 12:00:00"])
VALUES = st.lists(FRAGMENTS | st.text(max_size=4), max_size=12).map("".join)


def _read(markdown: str) -> tuple[set[str], str]:
    """The inline token types a CommonMark reader (with GFM's bare links) makes of ``markdown``, and its text."""
    types, text = set(), []
    for block in MD.parse(markdown):
        types.add(block.type)
        for child in block.children or []:
            types.add(child.type)
            text.append(child.content)
    return types, "".join(text)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_plain_reads_back_as_its_own_text_and_nothing_else(value):
    out = plain(value)
    types, text = _read(out)
    assert types <= {"paragraph_open", "inline", "paragraph_close", "text", "text_special"}, (value, out, types)
    assert text.replace("\u200b", "").replace("\u00a0", " ").strip() == shown(value).replace("\u00a0", " ").strip(), \
        (value, out)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_plain_escapes_every_ascii_punctuation_character(value):
    """CommonMark reads an escaped punctuation character as itself: none is left to start a construct, Streamlit's
    ``:colour[…]`` and ``:material/…:`` and ``$math$`` included (the comma starts nothing and is left)."""
    out = plain(value)
    assert not re.search(r"[!-+\--/:-@\[-`{-~]", re.sub(r"\\[!-/:-@\[-`{-~]", "", out)), (value, out)
    assert not BIDI_CONTROLS.search(out) and "\n" not in out and "\r" not in out


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_plain_breaks_what_streamlit_reads_after_escapes(value):
    """Bare links and shortcodes are read on the text after escapes: a zero-width space keeps each text."""
    text = _read(plain(value))[1]
    assert not re.search(r"://|www\.|@\w|:[\w+-]*[^\W\d][\w+-]*:|:[\w-]*[+-][\w-]*:|:100:|:1234:", text, re.I), text


def test_hostile_names_in_plain():
    assert plain("1,200 routes") == "1,200 routes" and plain(IMAGE).startswith("\\!\\[p\\]\\(http\\:\u200b\\/\\/")
    assert _read(plain(LINK))[0] & {"link_open", "image"} == set()
    assert "⟨U\\+202E⟩" in plain(BIDI) and len(shown(LONG)) == LONGEST and "…" in shown(LONG)
    assert plain("12:00:00") == "12\\:00\\:00"  # times keep no invisible character
    assert plain("  a  b ") == "\u00a0\u00a0a \u00a0b\u00a0"  # spaces markdown would drop stay visible


def test_chart_labels_and_file_names():
    assert chart_text(TAG).startswith("&lt;img") and len(chart_text("y" * 500)) == LONGEST_LABEL
    assert "⟨U+202E⟩" in chart_text(BIDI)
    assert chart_text("a" * 100 + "b" + "c" * 100) != chart_text("a" * 101 + "c" * 100)  # no two rows merged
    for name in (f"evidence-pack-../../etc/{BIDI}.pdf", "a/b\\c:d\x00e.csv", "..csv", "\u202e"):
        safe = file_name(name)
        assert not re.search(r"[/\\:\x00-\x1f]", safe) and not BIDI_CONTROLS.search(safe) and not safe.startswith(".")
    assert file_name("exceptions_2026-10-01_2026-10-02.csv") == "exceptions_2026-10-01_2026-10-02.csv"


# ---------------------------------------------------------------------------------------------- every page, AppTest

def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string (bidi left raw in the file)


@pytest.fixture
def world(scenario, tmp_path) -> Path:
    """Tenants, operators, routes, actions, targets and errors named to be read as markup; some covered, some
    missing, some failed and replayed, an orphan; the organisation too; sign-in on with an admin named likewise."""
    n = len(HOSTILE)
    for i, name in enumerate(HOSTILE):
        at = T0 + timedelta(minutes=10 * i)
        other = HOSTILE[(i + 1) % n]
        scenario.op(f"o{i}", at, operation=HOSTILE[(i + 3) % n], tenant=name, user=other,
                    route=HOSTILE[(i + 2) % n], target=HOSTILE[(i + 4) % n])
        if i % 3 == 0:
            scenario.row(f"a{i}", at, action=HOSTILE[(i + 3) % n], tenant=name, user=other,
                         route=HOSTILE[(i + 2) % n], target=HOSTILE[(i + 4) % n])
        elif i % 3 == 1:
            scenario.failure(f"f{i}", at, operation=HOSTILE[(i + 3) % n], tenant=name, user=other,
                             route=HOSTILE[(i + 2) % n], target=HOSTILE[(i + 4) % n], error=HOSTILE[(i + 5) % n])
            scenario.replay(f"f{i}", 1, "failed", at + timedelta(hours=1), error=HOSTILE[(i + 6) % n])
    scenario.row("orphan", T0 + timedelta(days=1), action=LINK, tenant=TAG, user=IMAGE, target=BIDI, route=LONG)
    scenario.extra_config = (
        '[access]\noidc_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\nclient_id = "c"\n'
        f'client_secret_env = "A"\ncookie_secret_env = "B"\n\n[[access.grant]]\nsub = {_toml(ADMIN)}\nrole = "admin"\n')
    cfg = scenario.write()
    cfg.write_text(cfg.read_text().replace('name = "Test GmbH"', f"name = {_toml(IMAGE + BIDI)}"))
    AccessLog(cfg.parent / "access-log.db").create()
    return cfg


QUERY = {"tenant": f"![p](http://{HOST}/link-pixel)", "operator": f"[Sign in again](http://{HOST}/link-phish)",
         "route": f"<img src=http://{HOST}/link.png>", "action": "link\u202eexe.txt", "cell_operator": "L" + LONG,
         "day": DIRECTIVES, "start": MATH, "end": BARE}
"""A link's values, none in the data: each is refused and named in the sidebar's warning."""


def _app(monkeypatch, cfg: Path, sub: str | None = ADMIN, email: str = LINK, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(cfg))
    at = AppTest.from_file(APP, default_timeout=120)
    if sub is not None:
        at.user = {"is_logged_in": True, "sub": sub, "email": email}
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _nodes(node) -> Iterator[object]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _strings(value, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)


MARKDOWN_FIELDS = {"body", "label", "help", "value", "caption", "text"}
"""Proto fields Streamlit reads as markdown (element bodies, widget, metric, expander and tab labels, help, metric
values, progress and toast text); radio options too."""


def _faults(at: AppTest) -> list[str]:
    """Every string of every element and block AppTest holds, checked by what Streamlit makes of it."""
    faults = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = proto.WhichOneof("type") if hasattr(proto, "WhichOneof") and "type" in proto.DESCRIPTOR.oneofs_by_name \
            else type(node).__name__
        for path, text in _strings(MessageToDict(proto)):
            field = path.rsplit(".", 1)[-1]
            where = f"{type(node).__name__}{path}"
            if BIDI_CONTROLS.search(text):
                faults.append(f"{where}: raw bidi control in {text[:80]!r}")
            if field == "spec":
                faults += _chart_faults(where, json.loads(text))
            elif field in MARKDOWN_FIELDS or (field == "options" and kind == "radio"):
                faults += _markdown_faults(where, text)
            elif field in ("options", "default", "rawValues", "stringValue", "stringArrayValue"):
                if len(text) > LONGEST + 40:
                    faults.append(f"{where}: {len(text)} characters shown whole")
    return faults


def _markdown_faults(where: str, body: str) -> list[str]:
    faults = []
    types, text = _read(body)
    for token in MD.parse(body):
        for child in token.children or []:
            href = str(child.attrs.get("href", "")) + str(child.attrs.get("src", ""))
            if HOST in href or (child.type == "image"):
                faults.append(f"{where}: {child.type} to {href!r} in {body[:120]!r}")
    if types & {"html_inline", "html_block"}:
        faults.append(f"{where}: HTML in {body[:120]!r}")
    source = re.sub(r"\\[!-/:-@\[-`{-~]", " ", body)
    raw = [m for m in SOURCE_MARKERS if m in source] + [m for m in TEXT_MARKERS if m in text]
    if raw:
        faults.append(f"{where}: {raw} as typed in {body[:160]!r}")
    if HOST in text and len(text) > 2 * LONGEST + 400:
        faults.append(f"{where}: a {len(text)}-character body")
    return faults


def _chart_faults(where: str, spec: dict) -> list[str]:
    """Plotly reads tags and entities in labels and hover text: a data label must hold neither, and be short."""
    faults = []
    for trace in spec.get("data", []):
        for axis in ("x", "y", "text", "name"):
            values = trace.get(axis)
            for text in values if isinstance(values, list) else [values]:
                if not isinstance(text, str):
                    continue
                if "<" in text or re.search(r"&(?!amp;|lt;|gt;)", text) or BIDI_CONTROLS.search(text):
                    faults.append(f"{where}.{axis}: markup in chart label {text[:100]!r}")
                if len(text) > LONGEST_LABEL + 40:
                    faults.append(f"{where}.{axis}: a {len(text)}-character chart label")
    return faults


def _visit(at: AppTest, page: str) -> list[str]:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, (page, at.exception)
    return [f"{page}: {f}" for f in _faults(at)]


def test_every_page_shows_hostile_names_and_link_values_as_typed(monkeypatch, world):
    at = _app(monkeypatch, world, query=QUERY)
    assert at.warning and "Left out of the link" in at.warning[0].value
    faults = [f"link: {f}" for f in _faults(at)]
    for p in REGISTRY:
        faults += _visit(at, p.stem)
    assert not faults, "\n".join(faults)


def test_hostile_names_chosen_in_the_sidebar_and_drill_down_show_as_typed(monkeypatch, world):
    at = _app(monkeypatch, world)
    at.sidebar.multiselect(key="f_tenant").set_value([IMAGE, BIDI]).run()
    at.sidebar.multiselect(key="f_route").set_value([TAG, LONG]).run()
    assert not at.exception, at.exception
    faults = [f"sidebar: {f}" for f in _faults(at)]
    faults += _visit(at, "evidence_pack")
    at.sidebar.multiselect(key="f_tenant").set_value([]).run()
    at.sidebar.multiselect(key="f_route").set_value([]).run()
    faults += _visit(at, "coverage_gaps")
    at.selectbox(key="drill_operator").set_value(LONG).run()
    assert not at.exception, at.exception
    at.text_input(key="find_tenant").input(IMAGE[:3]).run()
    assert not at.exception, at.exception
    faults += [f"drill: {f}" for f in _faults(at)]
    assert not faults, "\n".join(faults)


def test_a_link_without_sign_in_warns_as_typed(monkeypatch, world):
    world.write_text(world.read_text().split("[access]")[0])
    at = _app(monkeypatch, world, sub=None, query=QUERY)
    assert at.warning and "Left out of the link" in at.warning[0].value
    faults = _faults(at)
    assert not faults, "\n".join(faults)


def test_a_refused_hostile_identity_is_named_as_typed(monkeypatch, world):
    at = _app(monkeypatch, world, sub=IMAGE, email=LINK)
    assert [t.value for t in at.title] == ["No access"]
    faults = _faults(at)
    assert not faults, "\n".join(faults)


def test_the_access_log_keeps_the_raw_value_and_shows_it_made_visible(monkeypatch, world):
    at = _app(monkeypatch, world, query=QUERY)
    refused = [e for e in AccessLog(world.parent / "access-log.db").entries() if e.action == "link_refused"]
    assert f"tenant {QUERY['tenant']}" in refused[0].params["refused"]  # evidence: the value as it came
    assert f"action {QUERY['action']}" in refused[0].params["refused"]
    at.switch_page("app_pages/access_log.py").run()
    cells = "\n".join(str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel())
    assert QUERY["tenant"] in cells and "link⟨U+202E⟩exe.txt" in cells and "\u202e" not in cells


# ---------------------------------------------------------------------------------------------- Chromium

def test_in_chromium_a_hostile_link_fetches_nothing_and_links_nowhere(world):
    from browser import chromium, free_port, fresh_page, need_browser, running, settle

    need_browser()
    world.write_text(world.read_text().split("[access]")[0])
    port = free_port()
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in QUERY.items())
    with running([sys.executable, "-m", "evidence_app", "serve", "--config", str(world), "--port", str(port)],
                 port) as url, chromium() as browser, fresh_page(browser, url, heading=None) as pg:
        off_site: list[str] = []

        def refuse(route) -> None:  # noqa: ANN001
            off_site.append(route.request.url)
            route.abort()

        # everything but the test server is refused and noted; Streamlit's own page icon (the material-symbols SVG
        # behind page_icon=":material/verified:") is the one other address the app itself names
        pg.context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]|data:|blob:|about:"
                                    r"|https://fonts\.gstatic\.com/s/i/short-term/release/materialsymbols).*"), refuse)
        pg.goto(f"{url}/?{query}")
        pg.get_by_role("heading", name="Audit-trail completeness").wait_for()
        settle(pg)
        warning = pg.get_by_test_id("stAlertContentWarning")
        assert "Left out of the link" in warning.inner_text()
        pg.wait_for_timeout(500)
        assert off_site == [] and pg.locator(f"a[href*='{HOST}'], [src*='{HOST}']").count() == 0, off_site
        assert "[Sign in again](http" in warning.inner_text().replace("\u200b", "")  # shown, as typed, not as a link
        for page in ("Coverage gaps", "Replay & backfill", "Remediation & accuracy", "Sources"):
            pg.get_by_test_id("stSidebarNav").get_by_text(page, exact=True).click()
            settle(pg)
            pg.wait_for_timeout(500)
            assert pg.locator(f"a[href*='{HOST}'], img[src*='{HOST}'], [src*='{HOST}']").count() == 0, page
            assert pg.locator("[data-testid='stException']").count() == 0, page
        assert pg.locator(f"a[href*='{HOST}'], img[src*='{HOST}']").count() == 0
        assert off_site == []
