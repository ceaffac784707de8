"""Clause 10, log completeness: with every invocation in the logs (`traces = "all"`), a silent drop must be traced by
a complete invocation of its route; a lost batch or a truncated invocation makes it unprovable, never silent. With a
filtered job (`traces = "failures"`, the default) states stay as they were and every output says silence was not
proven from the logs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evidence_app
from evidence_app.ingest.traces import LOGPUSH_TRUNCATED
from evidence_app.reconcile import rules
from evidence_app.reconcile.rules import OpState, Trace
from evidence_app.reconcile.tracing import TRACES, trace_operations

from scenario import T0

S = timedelta(seconds=1)


@pytest.mark.parametrize("template, path, expected", [
    ("/api/menu/:id", "/api/menu/42", True), ("/api/users/[id]", "/api/users/u-7", True),
    ("/api/{tenant}/refunds", "/api/vie/refunds", True), ("/api/cache-purge", "/api/cache-purge", True),
    ("/api/menu/:id", "/api/menu/", False), ("/api/menu/:id", "/api/menu/1/2", False),
    ("/api/menu/:id", "/api/menus/1", False), ("/api/cache-purge", "/api/cache-purge/", False),
    ("/api/:a/:b", "/api/x/y", True), ("/api/menu/special", "/api/menu/42", False),
])
def test_a_route_template_segment_matches_any_one_segment(template, path, expected):
    assert rules.route_matches(template, path) is expected


@pytest.mark.parametrize("trace, state", [(None, OpState.MISSING_SILENT), (Trace.COMPLETE, OpState.MISSING_SILENT),
                                          (Trace.TRUNCATED, OpState.MISSING_UNPROVABLE),
                                          (Trace.NOT_IN_LOGS, OpState.MISSING_UNPROVABLE)])
def test_silence_stands_only_where_a_complete_invocation_traces_the_operation(trace, state):
    assert rules.operation_state(None, None, trace) == state
    assert rules.operation_state(None, "pending", trace) == OpState.MISSING_PENDING  # a failure event proves itself
    assert rules.operation_state("live", None, trace) == OpState.LOGGED


def _ops(*specs) -> pd.DataFrame:
    return pd.DataFrame({"id": [s[0] for s in specs], "route": [s[1] for s in specs],
                         "occurred_at": pd.to_datetime([T0 + s[2] * S for s in specs], utc=True)})


def _invs(*specs) -> pd.DataFrame:
    return pd.DataFrame({"path": [s[0] for s in specs],
                         "started_at": pd.to_datetime([T0 + s[1] * S for s in specs], utc=True),
                         "truncated": [s[2] if len(s) > 2 else False for s in specs]})


def _traced(ops, invs, tol=120) -> list[str]:
    return [TRACES[i] for i in trace_operations(ops, invs, tol)]


def test_one_invocation_traces_one_operation_nearest_first():
    ops = _ops(("o1", "/api/menu/:id", 0), ("o2", "/api/menu/:id", 10))
    assert _traced(ops, _invs(("/api/menu/4", 9))) == [Trace.NOT_IN_LOGS, Trace.COMPLETE]
    assert _traced(ops, _invs(("/api/menu/4", 9), ("/api/menu/5", 200))) == [Trace.NOT_IN_LOGS, Trace.COMPLETE]
    assert _traced(ops, _invs(("/api/menu/4", 9), ("/api/menu/5", -100))) == [Trace.COMPLETE, Trace.COMPLETE]


def test_equal_distances_go_to_the_lower_operation_id():
    ops = _ops(("b", "/r", 0), ("a", "/r", 10), ("10", "/s", 0), ("9", "/s", 10))
    traced = _traced(ops, _invs(("/r", 5), ("/s", 5)))
    assert traced[:2] == [Trace.NOT_IN_LOGS, Trace.COMPLETE]  # "a" before "b"
    assert traced[2:] == [Trace.COMPLETE, Trace.NOT_IN_LOGS]  # the rules' id order: not every id is a number here


def test_the_tolerance_is_inclusive_and_other_routes_never_trace():
    ops = _ops(("o1", "/api/a", 0), ("o2", "/api/b", 0))
    assert _traced(ops, _invs(("/api/a", 120), ("/api/c", 0))) == [Trace.COMPLETE, Trace.NOT_IN_LOGS]
    assert _traced(ops, _invs(("/api/a", 121))) == [Trace.NOT_IN_LOGS, Trace.NOT_IN_LOGS]


def test_a_truncated_invocation_traces_but_proves_nothing():
    ops = _ops(("o1", "/api/a", 0))
    assert _traced(ops, _invs(("/api/a", 1, True))) == [Trace.TRUNCATED]


def test_an_operation_without_a_route_cannot_be_traced():
    ops = _ops(("o1", None, 0))
    assert _traced(ops, _invs(("/api/a", 0))) == [Trace.NOT_IN_LOGS]


def test_tracing_agrees_with_a_brute_force_greedy_over_random_logs():
    rng = np.random.default_rng(7)
    routes = ["/api/a", "/api/m/:id", "/api/u/[u]"]
    paths = ["/api/a", "/api/m/1", "/api/m/2", "/api/u/x", "/api/zz"]
    for _ in range(60):
        n_ops, n_inv = rng.integers(0, 12), rng.integers(0, 12)
        ops = _ops(*((f"o{i}", routes[rng.integers(3)], int(rng.integers(0, 400))) for i in range(n_ops)))
        invs = _invs(*((paths[rng.integers(5)], int(rng.integers(0, 400)), bool(rng.random() < 0.3))
                       for _ in range(n_inv)))
        ranks = rules.id_order(list(ops["id"]))
        pairs = sorted((abs((t - u).total_seconds()), ranks[o], v, o)
                       for o, (r, t) in enumerate(zip(ops["route"], ops["occurred_at"]))
                       for v, (p, u) in enumerate(zip(invs["path"], invs["started_at"]))
                       if rules.route_matches(r, p) and abs((t - u).total_seconds()) <= 120)
        taken = rules.accept_greedily((o, v) for _, _, v, o in pairs)
        expected = [(Trace.TRUNCATED if invs["truncated"][taken[o]] else Trace.COMPLETE) if o in taken
                    else Trace.NOT_IN_LOGS for o in range(n_ops)]
        assert _traced(ops, invs) == expected


# ------------------------------------------------------------------ end to end

def _invocation(scenario, at, path, *messages, truncated=False, ray=None):
    ms = int(at.timestamp() * 1000)
    logs = [{"Level": "warn", "Message": [m if isinstance(m, str) else json.dumps(m)], "TimestampMs": ms}
            for m in messages]
    if truncated:
        logs.append({"Level": "log", "Message": [LOGPUSH_TRUNCATED], "TimestampMs": ms})
    scenario.log_lines.append(json.dumps({"EventTimestampMs": ms, "EventType": "fetch", "Outcome": "ok",
                                          "Event": {"Request": {"URL": f"https://api.example{path}", "Method": "POST"},
                                                    "RayID": ray or f"ray-{ms}-{path}"},
                                          "Logs": logs}))


def _world(scenario, traces: str | None):
    """o1 logged; o2 silent with its complete invocation; o3 only a truncated invocation; o4 none (a lost batch);
    o5 pending (its failure event is in its invocation)."""
    for i in range(1, 6):
        scenario.op(f"o{i}", T0 + i * timedelta(minutes=10), route="/api/menu/:id")
    scenario.row("a1", T0 + 10 * timedelta(minutes=1))
    _invocation(scenario, T0 + timedelta(minutes=10, seconds=1), "/api/menu/1")
    _invocation(scenario, T0 + timedelta(minutes=20, seconds=2), "/api/menu/2")
    _invocation(scenario, T0 + timedelta(minutes=30, seconds=1), "/api/menu/3", "rendering", truncated=True)
    failure = {"event": "audit_log_insert_failed", "route": "/api/menu/:id", "operation": "cache_purge",
               "restaurant_id": "r1", "user_id": "u1", "error": "D1_ERROR", "failure_id": "f5",
               "created_at": (T0 + timedelta(minutes=50)).isoformat(), "action": "cache_purge", "target": '["m-1"]'}
    _invocation(scenario, T0 + timedelta(minutes=50, seconds=1), "/api/menu/5", failure)
    if traces:
        scenario.extra_config = f'traces = "{traces}"\n'
    return scenario


def test_with_every_invocation_in_the_logs_silence_needs_a_complete_trace(scenario):
    [total] = _world(scenario, "all").json("coverage")
    assert (total["expected"], total["logged"], total["missing_silent"], total["missing_unprovable"],
            total["missing_pending"]) == (5, 1, 1, 2, 1)
    assert total["missing"] == 4
    found = {e["operation_id"]: (e["kind"], e["detail"]) for e in scenario.json("exceptions")}
    assert found == {"o2": ("missing_silent", ""), "o3": ("missing_unprovable", "truncated"),
                     "o4": ("missing_unprovable", "not_in_logs"), "o5": ("missing_pending", "")}


def test_a_filtered_log_job_keeps_todays_states_and_says_silence_is_not_proven(scenario):
    _world(scenario, None)
    res = scenario.cli("coverage", "--format", "json")
    [total] = json.loads(res.stdout)
    assert (total["missing_silent"], total["missing_unprovable"]) == (3, 0)
    assert "note: Silence is not proven from the logs" in res.stderr


def test_an_unknown_trace_mode_is_refused_naming_the_key(scenario):
    scenario.extra_config = 'traces = "some"\n'
    res = scenario.cli("coverage", "--format", "json")
    assert res.code == 2 and "worker_logs.traces" in res.stderr


def test_the_logs_command_reports_the_sources_health_and_its_gaps(scenario):
    health = _world(scenario, "all").json("logs")
    assert set(health) == {"traces", "files", "invocations", "truncated_invocations", "duplicates_dropped",
                           "traced_operations", "untraced_operations", "gaps"}
    assert (health["files"], health["invocations"], health["truncated_invocations"]) == (1, 4, 1)
    assert (health["traced_operations"], health["untraced_operations"]) == (4, 1)
    assert health["gaps"] == [{"start": "2026-10-01T12:40:00Z", "end": "2026-10-01T12:40:00Z", "operations": 1}]


def test_a_lost_batch_is_one_gap_of_every_operation_it_held(scenario):
    for i in range(6):
        scenario.op(f"o{i}", T0 + i * timedelta(minutes=5), route="/api/a")
    for i in (0, 1, 5):
        _invocation(scenario, T0 + i * timedelta(minutes=5), "/api/a")
    scenario.extra_config = 'traces = "all"\n'
    health = scenario.json("logs")
    assert health["gaps"] == [{"start": "2026-10-01T12:10:00Z", "end": "2026-10-01T12:20:00Z", "operations": 3}]
    assert scenario.json("coverage")[0]["missing_unprovable"] == 3


def test_a_batch_delivered_twice_is_counted_once_by_the_logs_command(scenario):
    _world(scenario, "all")
    scenario.log_lines += scenario.log_lines[:2]
    health = scenario.json("logs")
    assert health["duplicates_dropped"] == 2 and health["invocations"] == 4


def test_with_a_filtered_job_the_logs_command_cannot_trace(scenario):
    health = _world(scenario, None).json("logs")
    assert health["traces"] == "failures"
    assert health["traced_operations"] is None and health["untraced_operations"] is None and health["gaps"] == []


def test_the_logs_command_csv_is_one_line_per_day(scenario):
    res = _world(scenario, "all").cli("logs", "--format", "csv")
    assert res.stdout.splitlines() == [
        "day,invocations,truncated_invocations,operations,traced_operations,untraced_operations",
        "2026-10-01,4,1,5,4,1"]


def test_the_sources_page_shows_the_logs_commands_figures(scenario, monkeypatch):
    from streamlit.testing.v1 import AppTest

    cfg = _world(scenario, "all").write()
    health = scenario.json("logs")
    monkeypatch.setenv("EVIDENCE_APP_CONFIG", str(cfg))
    at = AppTest.from_file(str(Path(evidence_app.__file__).parent / "ui" / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("app_pages/sources.py").run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Invocations in the period"] == f"{health['invocations']:,}"
    assert shown["Truncated invocations"] == f"{health['truncated_invocations']:,}"
    assert shown["Operations traced"] == f"{health['traced_operations']:,}"
    assert shown["Operations untraced"] == f"{health['untraced_operations']:,}"
    gaps = next(d.value for d in at.dataframe if {"Start", "Operations"} <= set(d.value.columns))
    assert [[r.Start, int(r.Operations)] for r in gaps.itertuples(index=False)] == [  # times to the second, UTC
        [pd.Timestamp(g["start"]).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S"), g["operations"]]
        for g in health["gaps"]]


def test_the_pack_states_log_completeness_with_the_logs_commands_figures(scenario, tmp_path):
    import subprocess

    import forge
    from pdftools import tool

    cfg = _world(scenario, "all").write()
    health = scenario.json("logs")
    ident = forge.make_identity(tmp_path / "id")
    out = tmp_path / "p.pdf"
    res = scenario.cli("pack", "--start", "2026-10-01", "--end", "2026-10-01", "--out", str(out), "--key",
                       str(ident.key), "--cert", str(ident.cert),
                       "--generated-at", "2026-10-30T00:00:00Z")
    assert res.code == 0, res.stderr
    text = " ".join(subprocess.run([tool("pdftotext"), str(out), "-"], capture_output=True, text=True).stdout.split())
    assert "8.5 Log completeness" in text and "missing_unprovable" in text
    assert f"Operations no invocation traces {health['untraced_operations']}" in text
    assert f"Invocations in the period {health['invocations']}" in text
    section = text[text.index("8.5 Log completeness"):text.index("8.6 Re-performable extraction")]
    assert "Gaps (runs of untraced operations) 1" in section
    assert section.count("2026-10-01 12:40:00") == 2  # start and end, UTC to the second (the JSON keeps ISO)
    assert cfg.exists()
