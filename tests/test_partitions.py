"""Exact reconciliation in partitions (issue 22): the same records, states, issues and figures for every partition
count, on random scenarios built to put cross-tenant request ids, duplicate ids, replays and failure events on the
partitions' edges; and each partition reads only its own tenants' rows."""

from __future__ import annotations

import json
import re
import random
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.compute import PartitionPlan, evaluate, partitioning_sentence, run_partition
from evidence_app.compute.plan import make_plan, pack, tenant_groups
from evidence_app.compute.routing import route
from evidence_app.config.settings import load_config
from evidence_app.ingest.canonical import canonical_audit, canonical_operations
from evidence_app.ingest.traces import LOGPUSH_TRUNCATED
from evidence_app.reconcile import Period
from evidence_app.reconcile.coverage import coverage_table, exceptions_table

from scenario import Scenario, server_copy

DAY = date(2026, 10, 1)
MIDNIGHT = datetime(2026, 10, 1, tzinfo=timezone.utc)
EDGES = (MIDNIGHT, MIDNIGHT + timedelta(days=1))
"""The period's first and last instants: records are drawn around both, and around the matching margin."""
TENANTS = ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "t10", "t9")
OFFSETS = (-400, -250, -121, -120, -60, -1, 0, 1, 60, 119, 120, 121, 300, 3600)


TARGETS = ('["m-1"]', '["m-2"]')
SPELLED = {'["m-1"]': '[ "m-1" ]', '{"a":1,"b":2}': '{"b": 2, "a": 1}', '["m-2"]': '["m-2"]'}
"""Another spelling of the same target (canonically equal), which the audit side sometimes writes."""


def partitioned_scenario(rng: random.Random, root, targets: tuple[str | None, ...] = TARGETS,
                         numbers: float = 0.0) -> Scenario:
    """Many tenants; request ids shared across tenants (and across the two stores and the logs); ids repeated
    within and across tenants; failure events whose tenant differs from their operation's; replays; records
    around the period's edges and far beyond them (the request-id top-up). ``numbers``: the share of ids written as
    whole numbers (ties then order numerically only where every id loaded is one)."""
    def named(prefix: str, n: int) -> str:
        return str(n + (10_000 if prefix == "a" else 0)) if rng.random() < numbers else f"{prefix}{n}"

    sc = Scenario(root)
    rids = [f"q{i}" for i in range(rng.randint(1, 8))]
    pick_tenant = lambda: None if rng.random() < 0.06 else rng.choice(TENANTS)  # noqa: E731
    pick_rid = lambda share: rng.choice(rids) if rng.random() < share else None  # noqa: E731
    when = lambda: rng.choice(EDGES) + timedelta(seconds=rng.choice(OFFSETS) + rng.choice((0, 0, 7)))  # noqa: E731
    ops = []
    for i in range(rng.randint(0, 24)):
        op = dict(at=when(), operation=rng.choice(["cache_purge", "menu_publish"]), tenant=pick_tenant(),
                  user=rng.choice(["u1", "u2"]), target=rng.choice(targets),
                  request_id=pick_rid(0.5), route=rng.choice(["/r/a", "/r/b"]))
        oid = named("o", rng.randrange(30)) if rng.random() < 0.15 else named("o", 100 + i)  # some ids repeat
        ops.append(op)
        sc.op(oid, **op)
    for j in range(rng.randint(0, 28)):
        base = rng.choice(ops) if ops and rng.random() < 0.8 else dict(
            at=when(), operation="cache_purge", tenant=pick_tenant(), user="u1", target='["m-1"]', request_id=None)
        far = rng.random() < 0.08  # beyond the window: reached only through a shared request id
        at = base["at"] + timedelta(days=rng.choice((-9, 9))) if far else base["at"] + timedelta(
            seconds=rng.choice(OFFSETS + (0, 0, 0)))
        rid = base["request_id"] if rng.random() < 0.7 else pick_rid(0.5)
        aid = named("a", rng.randrange(20)) if rng.random() < 0.15 else named("a", 100 + j)
        sc.row(aid, at, action=base["operation"] if rng.random() < 0.92 else "refund_create",
               tenant=base["tenant"] if rng.random() < 0.8 else pick_tenant(),
               user=base["user"] if rng.random() < 0.9 else "u9",
               target=SPELLED.get(base["target"], base["target"]) if rng.random() < 0.3 else base["target"],
               request_id=rid,
               origin=rng.choice([None, "live", "replay", "backfill"]),
               inserted_at=rng.choice([None, at + timedelta(hours=1)]))
    for k in range(rng.randint(0, 6)):
        base = rng.choice(ops) if ops and rng.random() < 0.75 else dict(
            at=when(), operation="menu_publish", tenant=pick_tenant(), user="u2", target='["m-2"]', request_id=None)
        fid = f"f{k}"
        at = base["at"] + timedelta(seconds=rng.choice((0, 5, 119, 120, 121)))
        sc.failure(fid, at, operation=base["operation"],
                   tenant=base["tenant"] if rng.random() < 0.8 else pick_tenant(), user=base["user"],
                   target=base["target"], request_id=base["request_id"] if rng.random() < 0.8 else pick_rid(0.5))
        for a in range(rng.choice([0, 1, 2, 3])):
            sc.replay(fid, a + 1, rng.choice(["failed", "failed", "inserted", "duplicate"]),
                      at + timedelta(hours=a + 1))
    traces = rng.random() < 0.4  # every invocation in the logs: tracing (clause 10) looks across tenants
    for op in ops if traces else ():
        for _ in range(rng.choice((0, 1, 1, 2))):
            _invocation(sc, op["at"] + timedelta(seconds=rng.choice((-121, -30, 0, 0, 120))), op["route"],
                        truncated=rng.random() < 0.2)
    sc.extra_config = ('traces = "all"\n' if traces else "") + \
        f"[matching]\nmax_replay_attempts = {rng.choice([2, 3, 24])}\n"
    return sc


def _invocation(sc: Scenario, at: datetime, path: str, truncated: bool = False) -> None:
    """One Worker invocation of ``path`` in the Logpush shape (a truncated one ends in Logpush's marker)."""
    ms = int(at.timestamp() * 1000)
    logs = [{"Level": "log", "Message": [LOGPUSH_TRUNCATED], "TimestampMs": ms}] if truncated else []
    sc.log_lines.append(json.dumps({"EventTimestampMs": ms, "EventType": "fetch", "Outcome": "ok",
                                    "Event": {"Request": {"URL": f"https://api.example{path}", "Method": "POST"},
                                              "RayID": f"ray-{ms}-{path}"}, "Logs": logs}))


def _same(one, many) -> None:
    """Two (Dataset, Reconciliation) pairs hold the same records, in the same order, with the same values."""
    (d1, r1), (dn, rn) = one, many
    for name in ("operations", "rows", "failures"):
        a, b = getattr(r1, name), getattr(rn, name)
        assert list(a.columns) == list(b.columns), name
        pd.testing.assert_frame_equal(a.astype(object), b.astype(object), obj=name)
    for name in ("operations", "audit"):
        pd.testing.assert_frame_equal(getattr(d1, name).astype(object), getattr(dn, name).astype(object), obj=name)
    assert d1.issues == dn.issues
    assert r1.issues == rn.issues
    assert [(s.rows_loaded, s.rows_rejected, s.time_min, s.time_max) for s in d1.sources] == \
        [(s.rows_loaded, s.rows_rejected, s.time_min, s.time_max) for s in dn.sources]
    for k in ("operations", "audit"):
        assert len(d1.rejected[k]) == len(dn.rejected[k])
    dims = ["day", "operator", "route", "tenant", "action"]
    pd.testing.assert_frame_equal(coverage_table(r1, dims), coverage_table(rn, dims))
    pd.testing.assert_frame_equal(exceptions_table(r1), exceptions_table(rn))


PERIODS = (Period(), Period(DAY, DAY), Period(DAY - timedelta(days=1), DAY), Period(DAY, None), Period(None, DAY))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), period=st.sampled_from(PERIODS), n=st.sampled_from((2, 3, 7)),
       numbers=st.sampled_from((0.0, 0.97, 1.0)))
def test_every_partition_count_gives_the_single_pass_result(tmp_path_factory, seed, period, n, numbers):
    sc = partitioned_scenario(random.Random(seed), tmp_path_factory.mktemp("p"), numbers=numbers)
    config = load_config(sc.write())
    _same(evaluate(config, period, partitions=1), evaluate(config, period, partitions=n))


@pytest.mark.parametrize("seed", range(40))
def test_partitions_agree_with_the_record_by_record_reference(seed, tmp_path):
    """The merged reconciliation of 7 partitions, held to the slow reference of the rules (tests/reference.py)."""
    sc = partitioned_scenario(random.Random(seed), tmp_path / "s")
    sc.extra_config = sc.extra_config.replace('traces = "all"\n', "")  # the reference leaves clause 10 out
    held_to_the_reference(load_config(sc.write()))


def held_to_the_reference(config, partitions: int = 7) -> None:  # noqa: ANN001
    """The merged reconciliation of ``partitions``: every state the slow reference gives, and the single pass's."""
    data, recon = evaluate(config, Period(), partitions=partitions)
    ref = reference.reconcile(data.operations, data.audit, data.logs.failures, data.logs.replays,
                              config.matching.tolerance_seconds, config.matching.max_replay_attempts)
    assert dict(zip(recon.operations["id"], recon.operations["state"])) == ref.op_state
    assert dict(zip(recon.rows["id"], recon.rows["status"])) == ref.row_status
    assert dict(zip(recon.failures["failure_id"], recon.failures["state"])) == ref.failure_state
    _same(evaluate(config, Period(), partitions=1), (data, recon))


def test_tenants_sharing_a_request_id_share_a_partition(tmp_path):
    sc = Scenario(tmp_path / "s")
    sc.op("o1", tenant="r1", request_id="q1").row("a1", tenant="r2", request_id="q1")  # r1 ~ r2 by q1
    sc.op("o2", tenant="r3", request_id="q2").failure("f1", tenant="r4", request_id="q2")  # r3 ~ r4 by q2 (logs)
    sc.op("o3", tenant="r5").op("o4", tenant="r6").op("o5", tenant=None)
    plan = route(load_config(sc.write()), Period(), 4).plan
    where = plan.partition_of()
    assert where["r1"] == where["r2"] and where["r3"] == where["r4"]
    assert (plan.groups, plan.merged_groups, plan.tenants_in_merged_groups) == (5, 2, 4)
    assert sorted(t for ts in plan.tenants for t in ts if t) == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert sum(1 for ts in plan.tenants for t in ts if t is None) == 1


def test_each_partition_selects_only_its_own_tenants(tmp_path):
    """The recorded extraction: a partition's window SELECTs bind its tenants and no other, and return only their
    rows; the partition holding the records without a tenant asks for them with IS NULL."""
    sc = Scenario(tmp_path / "s")
    for i, tenant in enumerate(["ten-1", "ten-2", "ten-3", "ten-4", None, "ten-5"]):
        sc.op(f"o{i}", tenant=tenant).row(f"a{i}", tenant=tenant)
    config = load_config(sc.write())
    routing = route(config, Period(DAY, DAY), 3)
    seen = set()
    for spec in routing.specs:
        result = run_partition(spec)
        mine = {t for t in spec.tenants if t is not None}
        for q in result.queries:
            bound = {v for v in q.parameters if isinstance(v, str) and v.startswith("ten-")}
            assert bound == mine, (q.source, q.sql)
            assert "restaurant_id IN" in q.sql and ("restaurant_id IS NULL" in q.sql) == (None in spec.tenants)
        assert _tenants(result.loaded_operations) == _tenants(result.loaded_audit) == set(spec.tenants)
        seen |= set(spec.tenants)
    assert seen == {"ten-1", "ten-2", "ten-3", "ten-4", "ten-5", None}


def _tenants(frame: pd.DataFrame) -> set:
    return {None if pd.isna(t) else t for t in frame["tenant"].astype(object)}


def test_thousands_of_tenants_are_bound_in_several_in_lists(tmp_path):
    sc = Scenario(tmp_path / "s")
    for i in range(2500):
        sc.op(f"o{i}", at=MIDNIGHT + timedelta(seconds=i), tenant=f"t{i:04d}")
        if i % 3:
            sc.row(f"a{i}", at=MIDNIGHT + timedelta(seconds=i), tenant=f"t{i:04d}")
    config = load_config(sc.write())
    data, recon = evaluate(config, Period(DAY, DAY), partitions=2)
    window_reads = [q for q in data.queries if "tenants only" in q.purpose]
    assert window_reads and all(q.sql.count(" IN (") >= 2 for q in window_reads)
    _same(evaluate(config, Period(DAY, DAY), partitions=1), (data, recon))


def _servers_scenario(tmp_path) -> Scenario:
    sc = partitioned_scenario(random.Random(7), tmp_path / "s")
    for i in range(1200):  # more tenants than one IN list holds
        sc.op(f"x{i}", at=MIDNIGHT + timedelta(seconds=30 * i), tenant=f"x{i:04d}", request_id=f"xq{i // 2}")
        sc.row(f"xa{i}", at=MIDNIGHT + timedelta(seconds=30 * i + 3), tenant=f"x{(i + 1) % 1200:04d}",
               request_id=f"xq{i // 2}" if i % 5 else None)
    return sc


@pytest.mark.postgres
def test_partitions_on_postgresql_give_the_single_pass_result(pg_admin, tmp_path):
    cfg = server_copy(pg_admin, _servers_scenario(tmp_path), "part", "postgresql://postgres@127.0.0.1:5432/postgres")
    config = load_config(cfg)
    _same(evaluate(config, Period(DAY, DAY), partitions=1), evaluate(config, Period(DAY, DAY), partitions=5))


def test_partitions_on_mariadb_give_the_single_pass_result(mariadb_admin, tmp_path):
    cfg = server_copy(mariadb_admin, _servers_scenario(tmp_path), "part", "mariadb://root@127.0.0.1:3306/test")
    config = load_config(cfg)
    _same(evaluate(config, Period(DAY, DAY), partitions=1), evaluate(config, Period(DAY, DAY), partitions=5))


def _reversed_executor(fn, specs):  # noqa: ANN001, ANN202 - an executor with map_partitions' signature
    with ProcessPoolExecutor(2) as pool:
        yield from pool.map(fn, specs)


def test_partitions_run_in_other_processes(tmp_path):
    """Specs and results are plain, picklable data: a process pool (what a Dask worker is) gives the same result."""
    sc = partitioned_scenario(random.Random(3), tmp_path / "s")
    config = load_config(sc.write())
    _same(evaluate(config, Period(), partitions=1),
          evaluate(config, Period(), partitions=3, executor=_reversed_executor))


def test_a_partition_count_that_is_no_whole_number_is_refused(tmp_path, scenario):
    from evidence_app.errors import ConfigError

    config = load_config(scenario.op("o1").write())
    for bad in (0, -1, 2.5, True, 10**6):
        with pytest.raises(ConfigError, match="compute.partitions"):
            evaluate(config, Period(), partitions=bad)


def test_union_find_joins_tenants_through_chains_of_keys():
    # tenant 0 ~ 1 by key A, 1 ~ 2 by key B, 3 alone, 4 ~ 5 by key C
    tenants = np.array([0, 1, 1, 2, 3, 4, 5])
    hi = np.array([1, 1, 2, 2, 3, 4, 4], dtype=np.uint64)
    labels = tenant_groups(6, tenants, hi, np.zeros(7, dtype=np.uint64))
    assert labels.tolist() == [0, 0, 0, 3, 4, 4]


def test_groups_are_packed_largest_first_onto_the_lightest_partition():
    assert pack(2, {0: 10, 1: 6, 2: 5, 3: 1}, {0: "a", 1: "b", 2: "c", 3: "d"}) == [[0, 3], [1, 2]]
    plan = make_plan(3, ["r1", "r2", None], np.array([0, 0, 2]), np.array([4, 3, 1]))
    assert plan == PartitionPlan(count=3, tenants=(("r1", "r2"), (None,), ()), rows=(7, 1, 0), groups=2,
                                 merged_groups=1, tenants_in_merged_groups=2)


def test_the_methodology_states_the_partitioning_and_that_no_number_changes():
    plan = PartitionPlan(count=4, tenants=(("r1", "r2"), ("r3",), ("r4",), ()), rows=(7, 3, 2, 0), groups=3,
                         merged_groups=1, tenants_in_merged_groups=2)
    text = partitioning_sentence(plan)
    assert "4 partitions (3 of them holding records; 12 records routed)" in text
    assert "1 group of tenants sharing request ids, 2 tenants in all, kept together" in text
    assert "Partitioning changes no number" in text
    alone = PartitionPlan(count=2, tenants=(("r1",), ("r2",)), rows=(1, 1), groups=2, merged_groups=0,
                          tenants_in_merged_groups=0)
    assert "no request id is shared across tenants" in partitioning_sentence(alone)
    assert "one partition" in partitioning_sentence(None)


def test_merged_issues_keep_the_order_canonical_reports_them_in():
    """merge._ISSUE_ORDER mirrors ingest/canonical.py: every problem at once comes out in that order."""
    from evidence_app.compute.merge import _issue_rank

    raw = pd.DataFrame({"id": ["a", "a", None, "b", "c"], "occurred_at": ["2026-10-01T00:00:00Z", None, "x",
                                                                          "2026-10-01T00:00:00Z"] * 1 + ["z"],
                        "operation": ["p", None, "p", "p", "p"], "restaurant_id": [None, "r", "r", "r", "r"],
                        "user_id": ["u", "u", None, "u", "u"], "target": [" ", "t", "t", "t", "t"],
                        "route": ["", "/r", "/r", "/r", "/r"], "request_id": [" ", None, None, None, None],
                        "audit_logged": ["maybe", None, None, None, None]})
    from evidence_app.config.settings import MatchingConfig

    found = canonical_operations(raw, MatchingConfig()).issues
    assert len(found) >= 8 and list(found) == sorted(found, key=_issue_rank)
    rows = raw.rename(columns={"occurred_at": "created_at", "operation": "action"}).drop(columns="audit_logged")
    rows["origin"] = ["weird", None, None, None, None]
    rows["inserted_at"] = ["bad", None, None, None, None]
    found = canonical_audit(rows).issues
    assert len(found) >= 8 and list(found) == sorted(found, key=_issue_rank)


def test_the_pack_states_the_partitioning_and_shows_the_single_pass_figures(tmp_path):
    """Sections 1–7 of a pack built from 3 partitions (``pack --partitions 3``) read as the single pass's; its
    methodology states the split."""
    import subprocess

    import forge
    from pdftools import tool

    sc = partitioned_scenario(random.Random(11), tmp_path / "s")
    sc.write()
    ident = forge.make_identity(tmp_path / "id")

    def pack_text(n: int) -> str:
        out = tmp_path / f"p{n}.pdf"
        res = sc.cli("pack", "--start", "2026-09-30", "--end", "2026-10-02", "--out", str(out), "--key",
                     str(ident.key), "--cert", str(ident.cert), "--generated-at", "2026-10-30T00:00:00Z",
                     "--partitions", str(n))
        assert res.code == 0, res.stderr
        text = subprocess.run([tool("pdftotext"), str(out), "-"], capture_output=True, text=True).stdout
        return " ".join(text.split())

    one, three = pack_text(1), pack_text(3)
    pack_id, page = r"EP-[0-9A-F]{4}(-[0-9A-F]{4}){3}", r"Page \d+ of \d+"  # the manifest lists the queries sent
    figures = lambda text: re.sub(page, "", re.sub(pack_id, "", text[:text.index("8. Methodology")]))  # noqa: E731
    assert figures(three) == figures(one)
    assert "Reconciliation ran in 3 partitions" in three and "Partitioning changes no number" in three
    assert "Reconciliation ran in" not in one


def test_tenants_stored_as_numbers_text_and_reals_are_routed_by_their_canonical_text(tmp_path):
    """1 and "1" are one tenant (canonical text): both raw values are bound; a REAL tenant cannot be compared as
    stored, so that partition's rows are kept as they arrive; the numbers stay the single pass's."""
    sc = Scenario(tmp_path / "s")
    vals = [1, "1", 2, 2.5, "x", None, 3, " 3"]
    for i in range(40):
        sc.op(f"o{i}", MIDNIGHT + timedelta(seconds=11 * i), tenant=vals[i % 8],
              request_id=f"q{i % 9}" if i % 2 else None)
        sc.row(f"a{i}", MIDNIGHT + timedelta(seconds=11 * i + 3), tenant=vals[(i * 3) % 8],
               request_id=f"q{i % 9}" if i % 3 else None)
    config = load_config(sc.write())
    one = evaluate(config, Period(), partitions=1)
    for n in (2, 3, 5):
        many = evaluate(config, Period(), partitions=n)
        _same(one, many)
    said = {q.purpose.rsplit("; ", 1)[-1] for q in many[0].queries}
    assert any(s.endswith("kept as rows arrive") for s in said) and any(s.endswith("tenants only") for s in said)


def test_each_partition_done_is_reported_to_progress(tmp_path):
    sc = partitioned_scenario(random.Random(5), tmp_path / "s")
    heard = []
    evaluate(load_config(sc.write()), Period(), lambda stage, n: heard.append((stage, n)), partitions=4)
    assert heard == [("partitions", 1)] * 4
