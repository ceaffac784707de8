"""The replay page at thousands of routes: the per-route chart names the routes with most events not yet
replayed and folds the rest into one line whose counts are exact sums; every route is in the download."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from evidence_app.reconcile.bounded import bounded_replay_routes
from evidence_app.reconcile.replay import replay_by_route
from evidence_app.reconcile.rules import REPLAY_STATES

from conftest import APP, WAIT_S
from scenario import T0, Scenario

ROUTES, SHOWN = 1_200, 15


@settings(max_examples=200, deadline=None)
@given(events=st.lists(st.tuples(st.sampled_from(["/a", "/b", "/c", "/d", None]), st.sampled_from(REPLAY_STATES)),
                       max_size=40),
       limit=st.integers(1, 6))
def test_shown_lines_add_up_to_every_route(events, limit):
    failures = pd.DataFrame(events, columns=["route", "state"])
    table = replay_by_route(failures)
    view = bounded_replay_routes(table, limit)
    assert len(view.lines) <= limit + 1
    for state in REPLAY_STATES:
        assert int(view.lines[state].sum()) == int((failures["state"] == state).sum())


def test_routes_with_most_events_not_yet_replayed_come_first():
    failures = pd.DataFrame({"route": ["/done"] * 5 + ["/open"] * 2 + ["/stuck"] * 3,
                             "state": ["replayed"] * 5 + ["pending"] * 2 + ["abandoned"] * 3})
    view = bounded_replay_routes(replay_by_route(failures), 2)
    assert view.lines["route"].tolist() == ["/stuck", "/open", "all others (1 route)"]
    assert view.lines.iloc[-1]["replayed"] == 5


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Scenario:
    """1,200 operations on as many routes, each with a failure event that was never replayed."""
    s = Scenario(tmp_path_factory.mktemp("replay-routes"))
    for i in range(ROUTES):
        at = T0 + timedelta(seconds=40 * i)
        s.op(f"o{i:05d}", at, target=f'["m-{i}"]')
        s.failure(f"f{i:05d}", at, target=f'["m-{i}"]', route=f"/api/r{i:04d}")
    s.write()
    return s


def test_replay_chart_names_the_worst_routes_and_one_all_others_bar(monkeypatch, store):
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(store.root / "evidence.toml"))
    at = AppTest.from_file(APP, default_timeout=WAIT_S)
    at.run()
    at.switch_page("app_pages/replay.py").run()
    assert not at.exception, at.exception
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"]["title"]["text"] == "Replay progress per route")
    for trace in spec["data"]:
        assert len(trace["y"]) == SHOWN + 1
        assert trace["y"][-1] == f"all others ({ROUTES - SHOWN:,} routes)"
    pending = next(t for t in spec["data"] if t["name"].lower() == "pending")["x"]  # the legend names states in words
    if isinstance(pending, dict):  # Plotly's typed-array encoding
        pending = np.frombuffer(base64.b64decode(pending["bdata"]), dtype=pending["dtype"]).tolist()
    assert sum(pending) == ROUTES
    assert any("worst of 1,200 routes" in c.value for c in at.caption)
