"""The Remediation page at thousands of routes (AppTest): the per-route table names the routes most in need and
folds the rest into one line whose counts are exact sums, the not-swept error stays one short line that still
counts every route, any route is reachable by search, every route is in the download."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from evidence_app.assess.pipeline import evaluate
from evidence_app.assess.summary import summarize
from evidence_app.config.settings import load_config
from evidence_app.reconcile import Period
from evidence_app.reconcile.bounded import REMEDIATION_COUNTS, bounded_remediation
from evidence_app.reconcile.remediation import REMEDIATION_FIELDS
from evidence_app.render import records
from evidence_app.ui.components import plain
from evidence_app.ui.words import routes_for_people, word

from conftest import APP, WAIT_S
from scenario import T0, Scenario

ROUTES, SHOWN, NAMED = 1_200, 15, 5
FIXED = T0 + timedelta(seconds=40 * 600)
"""The global fix time: routes 600 and on lie after it."""
LATER = tuple(f"/api/r{i:04d}" for i in range(7, ROUTES, 100))
"""Routes whose own fix time is still to come: no fix time in force, no silent drops, so unknown."""
DOWNLOAD = "Download every route's remediation status (CSV)"


def route(i: int) -> str:
    return f"/api/r{i:04d}"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Scenario:
    """1,200 routes (and the NULL route) with one to three operations each; every fourth route's operations have
    no audit row, so the routes after the fix time among them are not swept (150, and the NULL route)."""
    s = Scenario(tmp_path_factory.mktemp("remediation-scale"))
    for i in range(ROUTES):
        for j in range(1 + i % 3):
            at, key = T0 + timedelta(seconds=40 * i + j), f"{i:05d}-{j}"
            s.op(f"o{key}", at, target=f'["m-{key}"]', route=route(i))
            if i % 4:
                s.row(f"a{key}", at, target=f'["m-{key}"]', route=route(i))
    s.op("o-null", FIXED + timedelta(hours=1), target='["m-null"]', route=None)
    s.extra_config = (f'[remediation]\nfixed_at = "{FIXED:%Y-%m-%dT%H:%M:%SZ}"\n\n[remediation.routes]\n'
                      + "".join(f'"{r}" = "2099-01-01T00:00:00Z"\n' for r in LATER))
    s.write()
    return s


@pytest.fixture(scope="module")
def table(store) -> pd.DataFrame:
    """The core's remediation table, every route."""
    data, recon = evaluate(load_config(store.root / "evidence.toml"), Period())
    return summarize(data, recon, datetime.now(UTC)).remediation.routes


def test_the_scenario_has_every_status_at_scale(table):
    assert len(table) == ROUTES + 1
    assert table["status"].value_counts().to_dict() == {"swept": ROUTES - 150 - len(LATER), "not_swept": 151,
                                                        "unknown": len(LATER)}


@pytest.fixture(scope="module")
def made(store):
    """While the module runs: the app reads the store, and every file its downloads offer is kept here by label."""
    from evidence_app.ui import access

    offer, files = access.download, {}

    def keep(label: str, make, **kwargs) -> None:
        files[label] = make()
        offer(label, make, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVIDENCE_APP_CONFIG", str(store.root / "evidence.toml"))
        mp.setattr(access, "download", keep)
        yield files


def _open() -> AppTest:
    """The Remediation page (of the store, under ``made``)."""
    at = AppTest.from_file(APP, default_timeout=WAIT_S)
    at.run()
    at.switch_page("app_pages/remediation.py").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def page(made) -> AppTest:
    return _open()


SHOWN_COLUMNS = list(routes_for_people(pd.DataFrame({c: pd.Series(dtype=object) for c in REMEDIATION_FIELDS})).columns)
"""The route table's headers as the page shows them (in words, the status beside the route)."""


def _route_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if list(d.value.columns) == SHOWN_COLUMNS)


def test_the_route_table_shows_the_worst_routes_and_one_all_others_line(page, table):
    shown = _route_table(page)
    assert len(shown) <= SHOWN + 1
    assert shown[word("route")].tolist() == bounded_remediation(table, SHOWN).lines["route"].tolist()
    assert shown[word("route")].iloc[-1] == f"all others ({ROUTES + 1 - SHOWN:,} routes)"
    assert set(shown[word("status")].iloc[:-1]) == {word("not_swept")}
    assert any(c.value.startswith(plain(f"15 worst of {ROUTES + 1:,} routes by remediation status")) for c in page.caption)


def test_the_shown_lines_add_up_to_the_totals_of_every_route(page, table):
    shown = _route_table(page)
    assert len(shown) == SHOWN + 1
    for column in REMEDIATION_COUNTS:
        assert int(pd.to_numeric(shown[word(column)]).sum()) == int(pd.to_numeric(table[column]).sum()), column
    named = shown[word("status")].iloc[:-1].map({word(s): s for s in ("not_swept", "unknown", "swept")})
    folded = table["status"].value_counts() - named.value_counts().reindex(table["status"].unique(), fill_value=0)
    assert shown[word("status")].iloc[-1] == word(", ".join(f"{int(folded[s]):,} {s}"
                                                           for s in ("not_swept", "unknown", "swept")))


def test_the_not_swept_error_is_one_short_line_that_counts_every_route(page, table):
    line = next(e.value for e in page.error if e.value.startswith("Not swept"))
    assert len(line) < 300, line
    assert line.startswith("Not swept: 151 routes — ") and "… (all in the CSV download)" in line
    worst = bounded_remediation(table, SHOWN).named["route"].tolist()
    assert [r for r in worst if plain(r) in line] == worst[:NAMED]


def test_the_download_holds_every_route(page, made, table):
    rows = list(csv.DictReader(io.StringIO(made[DOWNLOAD].decode("utf-8"))))
    assert len(rows) == ROUTES + 1
    assert [r["route"] for r in rows] == ["" if r is None else r for r in table["route"]]
    for column in REMEDIATION_COUNTS:
        assert sum(int(r[column]) for r in rows) == int(pd.to_numeric(table[column]).sum()), column


def test_finding_a_route_far_down_the_list_shows_its_full_row(made, table):
    at = _open()
    far = int(table.index[table["route"] == route(1_198)][0])
    at.selectbox(key="find_remediation_route").set_value(far).run()
    assert not at.exception, at.exception
    found = [d.value for d in at.dataframe if len(d.value) == 1 and list(d.value.columns) == SHOWN_COLUMNS]
    assert len(found) == 1 and records(found[0]) == records(routes_for_people(table.iloc[[far]]))
