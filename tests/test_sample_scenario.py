"""The bundled scenario reproduces the case the product was born from, through the CLI's own code."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_app.cli import main

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def _json(*args: str):
    res = CliRunner().invoke(main, [*args, "--format", "json"])
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def gen():
    """The generator script, imported as a module."""
    import sys

    spec = importlib.util.spec_from_file_location("sample_generate", SAMPLE / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["sample_generate"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("sample_generate", None)


@pytest.fixture(scope="module")
def by_operator():
    return _json("coverage", "--by", "operator")


@pytest.fixture(scope="module")
def by_tenant_action():
    return _json("coverage", "--by", "tenant,action")


def test_twelve_operators_between_72_and_91_percent_as_logged(by_operator):
    assert len(by_operator) == 12
    assert all(0.72 <= r["coverage_logged"] <= 0.91 for r in by_operator), [r["coverage_logged"] for r in by_operator]


def test_two_customers_seven_locations(by_tenant_action):
    tenants = {r["tenant"] for r in by_tenant_action}
    assert len([t for t in tenants if t.startswith("vie-")]) == 3
    assert len([t for t in tenants if t.startswith("ist-")]) == 4


def test_twenty_three_routes():
    assert len(_json("coverage", "--by", "route")) == 23


def test_vienna_cache_purges_158_operations_119_live_rows(by_tenant_action):
    purges = [r for r in by_tenant_action if r["action"] == "cache_purge" and r["tenant"].startswith("vie-")]
    assert sum(r["expected"] for r in purges) == 158
    assert sum(r["logged"] for r in purges) == 119
    assert sum(r["expected"] - r["logged"] for r in purges) == 39


def test_a_day_with_six_purges_and_two_rows():
    days = _json("coverage", "--by", "day,tenant,action")
    vienna = {}
    for r in days:
        if r["action"] == "cache_purge" and r["tenant"].startswith("vie-"):
            e, l = vienna.get(r["day"], (0, 0))
            vienna[r["day"]] = (e + r["expected"], l + r["logged"])
    assert (6, 2) in vienna.values()


def test_ninety_days_and_about_3800_audit_rows():
    days = _json("coverage", "--by", "day")
    assert len(days) == 90
    with sqlite3.connect(f"file:{SAMPLE / 'audit.db'}?mode=ro", uri=True) as db:
        (n,) = db.execute("SELECT count(*) FROM staff_audit_logs").fetchone()
    assert 3_600 <= n <= 4_000


LATE_ROUTE, UNSWEPT_ROUTE = "/api/refunds", "/api/exports"
AS_OF = "2026-10-30T00:00:00Z"


def _fix_day(route: str) -> str:
    return "2026-10-08" if route == LATE_ROUTE else "2026-10-01"


def test_silent_drops_until_the_fix_reached_each_route_logged_failures_after():
    cells = [r for r in _json("coverage", "--by", "day,route") if r["route"] != UNSWEPT_ROUTE]
    before = [r for r in cells if r["day"] < _fix_day(r["route"])]
    after = [r for r in cells if r["day"] >= _fix_day(r["route"])]
    assert sum(r["missing_silent"] for r in before) > 0 and sum(r["replayed"] for r in before) == 0
    assert sum(r["missing_silent"] for r in after) == 0 and sum(r["replayed"] for r in after) > 0


@pytest.fixture(scope="module")
def remediation():
    return {r["route"]: r for r in _json("remediation", "--as-of", AS_OF)}


def test_the_fix_reached_the_refunds_route_a_week_late(remediation):
    late = remediation[LATE_ROUTE]
    assert (late["effective_fixed_at"], late["fix_source"], late["status"]) == ("2026-10-08T00:00:00Z", "config", "swept")
    cells = _json("coverage", "--by", "day,route")
    assert sum(r["missing_silent"] for r in cells if r["route"] == LATE_ROUTE and "2026-10-01" <= r["day"] < "2026-10-08") > 0


def test_the_sweep_missed_the_exports_route_which_still_drops_silently(remediation):
    missed = remediation[UNSWEPT_ROUTE]
    assert missed["status"] == "not_swept" and missed["missing_silent_after_fix"] > 0 and missed["failures"] == 0
    assert missed["audit_logged_true_not_logged"] == missed["missing_silent_after_fix"]


def test_every_other_route_is_swept(remediation):
    assert {route for route, r in remediation.items() if r["status"] != "swept"} == {UNSWEPT_ROUTE}
    assert all(r["audit_logged_false_without_failure_event"] == 0 for r in remediation.values())


def test_audit_logged_flags_from_the_fix_date_on():
    with sqlite3.connect(f"file:{SAMPLE / 'operations.db'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT substr(occurred_at, 1, 10), route, audit_logged FROM operations").fetchall()
    assert all(flag is None for day, route, flag in rows if day < _fix_day(route))
    assert all(flag in (0, 1) for day, route, flag in rows if day >= _fix_day(route))
    assert {flag for day, _, flag in rows if day >= "2026-10-01"} == {None, 0, 1}


def test_one_replay_wrote_the_wrong_operator_and_one_row_lost_its_target():
    found = [(r["kind"], r["detail"], r["operator"]) for r in _json("exceptions")
             if r["kind"] in ("inaccurate", "incomplete")]
    assert sorted(found) == [("inaccurate", "operator", "svc-audit-replay"), ("incomplete", "target", "burak.ozturk")]


def test_backfill_in_progress():
    days = {r["day"]: r for r in _json("coverage", "--by", "day")}
    august = [r for d, r in days.items() if d.startswith("2026-08")]
    september = [r for d, r in days.items() if d.startswith("2026-09")]
    assert sum(r["backfilled"] for r in august) > 0 and sum(r["missing_silent"] for r in august) == 0
    assert sum(r["backfilled"] for r in september) == 0 and sum(r["missing_silent"] for r in september) > 0


def test_every_replay_state_occurs():
    status = _json("replay-status", "--as-of", "2026-10-30T00:00:00Z")
    assert all(n > 0 for n in status["states"].values()), status["states"]
    assert status["skipped_log_lines"] == 2
    assert status["latency_seconds"]["p50"] <= status["latency_seconds"]["p95"] <= status["latency_seconds"]["max"]


def test_drops_concentrate_at_lunch_time(gen):
    import random

    rng = random.Random(gen.SEED)
    ops = gen.build_operations(rng)
    gen.choose_drops(rng, ops)
    lunch = [o for o in ops if gen._is_lunch(o)]
    other = [o for o in ops if not gen._is_lunch(o)]
    rate = lambda group: sum(o.dropped for o in group) / len(group)  # noqa: E731
    assert rate(lunch) > 2 * rate(other)


def test_generator_is_deterministic_and_matches_the_bundled_output(gen, tmp_path):
    gen.generate(tmp_path)
    for name, table in (("operations.db", "operations"), ("audit.db", "staff_audit_logs")):
        dump = lambda p: sqlite3.connect(p).execute(f"SELECT * FROM {table} ORDER BY id").fetchall()  # noqa: E731
        assert dump(tmp_path / name) == dump(SAMPLE / name), name
    fresh = sorted(p.relative_to(tmp_path / "logpush") for p in (tmp_path / "logpush").rglob("*.gz"))
    bundled = sorted(p.relative_to(SAMPLE / "logpush") for p in (SAMPLE / "logpush").rglob("*.gz"))
    assert fresh == bundled
    assert all((tmp_path / "logpush" / p).read_bytes() == (SAMPLE / "logpush" / p).read_bytes() for p in fresh)


def test_the_sample_check_reports_its_three_breaches():
    res = CliRunner().invoke(main, ["check", "--as-of", AS_OF, "--format", "json"])
    assert res.exit_code == 1
    assert [b["rule"] for b in json.loads(res.stdout)["breaches"]] == [
        "max_silent_after_fix", "max_inaccurate", "fail_on_unconfirmed"]


def test_the_sample_ships_every_invocation_with_one_lost_batch_and_one_truncated():
    from evidence_app.assess.log_health import log_health
    from evidence_app.assess.pipeline import evaluate
    from evidence_app.config.settings import load_config
    from evidence_app.reconcile import Period as P
    from evidence_app.reconcile.coverage import exceptions_table

    cfg = load_config(SAMPLE / "evidence.toml")
    assert cfg.worker_logs.traces == "all"
    data, recon = evaluate(cfg, P())
    unprovable = exceptions_table(recon).query("kind == 'missing_unprovable'")
    assert sorted(zip(unprovable["detail"], unprovable["day"])) == [("not_in_logs", "2026-09-03"),
                                                                   ("truncated", "2026-09-10")]
    health = log_health(data, recon, P())
    assert [(g.start[:13], g.operations) for g in health.gaps] == [("2026-09-03T11", 3)]
    assert health.truncated_invocations == 1 and health.duplicates_dropped == 42
