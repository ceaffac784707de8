"""The Dask executor on a real local cluster (``dask scheduler`` + ``dask worker`` processes on 127.0.0.1): results
come back in the partitions' order from the workers; every failure is one line of the project's errors — the
worker's own error as the same line, a worker lost, no worker, another evidence-app on a worker, an unreachable
scheduler — and no secret reaches a task name or a log."""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from datetime import timedelta

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import WAIT_S
from dask_cluster import crash, free_port, pid, refuse, shout, start_cluster
from scenario import T0, Scenario, random_scenario

from evidence_app.cli import main
from evidence_app.compute.dask_executor import DaskExecutor, installed
from evidence_app.config.settings import load_config
from evidence_app.errors import ComputeError, SourceError
from evidence_app.reconcile import Period


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """Two single-threaded workers on one scheduler, for the whole session; stopped at the end."""
    found = start_cluster(tmp_path_factory.mktemp("dask"), workers=2, timeout_s=WAIT_S)
    yield found
    found.stop()


@pytest.fixture
def healthy(cluster):
    """The cluster with both workers registered (a test before may have killed one: its nanny restarts it)."""
    cluster.wait_for_workers(cluster.workers, WAIT_S)
    return cluster


def test_each_partition_runs_on_a_worker_and_comes_back_in_order_with_progress(healthy):
    heard = []
    executor = DaskExecutor(healthy.address, lambda stage, n: heard.append((stage, n)), timeout_s=WAIT_S)
    assert list(executor(shout, ["a", "b", "c", "d", "e"])) == ["A", "B", "C", "D", "E"]
    assert {stage for stage, _ in heard} == {"partitions"} and sum(n for _, n in heard) == 5
    assert all(n >= 1 for _, n in heard)
    pids = list(executor(pid, list(range(6))))
    assert os.getpid() not in pids


def test_a_partition_raising_a_source_error_comes_back_as_the_same_one_line(healthy):
    with pytest.raises(SourceError) as here:
        refuse("operations.db")
    with pytest.raises(SourceError) as there:
        list(DaskExecutor(healthy.address, timeout_s=WAIT_S)(refuse, ["operations.db"]))
    assert str(there.value) == str(here.value)
    assert "\n" not in str(there.value)


def test_a_secret_in_a_workers_error_is_masked_and_in_no_task_name_or_log(healthy):
    secret = "s3cr3t-pw-7731"
    with pytest.raises(SourceError) as err:
        list(DaskExecutor(healthy.address, timeout_s=WAIT_S)(refuse, [f"postgresql://auditor:{secret}@db.internal/o"]))
    assert secret not in str(err.value) and "auditor:***@db.internal" in str(err.value)
    assert secret not in healthy.logs()


def test_a_worker_lost_while_running_a_partition_is_one_line(healthy):
    started = time.monotonic()
    with pytest.raises(ComputeError) as err:
        list(DaskExecutor(healthy.address, timeout_s=WAIT_S)(crash, ["p1", "p2"]))
    message = str(err.value)
    assert message.startswith("partition ") and "Dask workers running it died" in message and "\n" not in message
    assert time.monotonic() - started < WAIT_S


def test_an_unreachable_scheduler_is_one_line_within_the_timeout():
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(ComputeError) as err:
        list(DaskExecutor(address, timeout_s=2)(shout, ["a"]))
    assert str(err.value) == (f"compute.scheduler: cannot reach the Dask scheduler at {address} within 2 s "
                              f"(Timed out trying to connect to {address} after 2 s)")
    assert time.monotonic() - started < 2 + 30  # the timeout, and the client's close


def test_a_scheduler_without_workers_is_one_line(tmp_path):
    alone = start_cluster(tmp_path / "alone", workers=0, timeout_s=WAIT_S)
    try:
        with pytest.raises(ComputeError, match=r"^compute\.scheduler: no Dask worker joined the scheduler at "
                                               r"tcp://127\.0\.0\.1:\d+ within 2 s"):
            list(DaskExecutor(alone.address, timeout_s=2)(shout, ["a"]))
    finally:
        alone.stop()


def test_a_worker_running_other_evidence_app_code_is_refused_naming_it(tmp_path):
    """Same version number, one changed line: the code digest differs, and the run is refused before any task."""
    import evidence_app

    other = tmp_path / "other"
    shutil.copytree(os.path.dirname(evidence_app.__file__), other / "evidence_app",
                    ignore=shutil.ignore_patterns("__pycache__", "_bundled"))
    with (other / "evidence_app" / "reconcile" / "rules.py").open("a") as f:
        f.write("\n# another build\n")
    mixed = start_cluster(tmp_path / "mixed", workers=1, timeout_s=WAIT_S, pythonpath=[other])
    try:
        with pytest.raises(ComputeError) as err:
            list(DaskExecutor(mixed.address, timeout_s=WAIT_S)(shout, ["a"]))
    finally:
        mixed.stop()
    here = installed()
    message = str(err.value)
    assert message.startswith("compute.scheduler: Dask worker tcp://127.0.0.1:") and "\n" not in message
    assert f"(evidence-app code " in message and f", {here.code} here)" in message  # the code differs …
    assert "evidence-app 0" not in message and "pandas" not in message.split(": install")[0]  # … nothing else
    assert "install the same evidence-app, Python and libraries" in message


# ------------------------------------------------------------------ the partitioned core on the cluster


def crossing_scenario(rng: random.Random, root) -> Scenario:
    """Eight tenants; request ids shared across tenants (operation ↔ operation and operation ↔ row), live rows,
    replayed and backfilled ones, duplicates, orphans, failure events with replay attempts, and records without a
    tenant: every partition edge the routing must keep exact."""
    sc = Scenario(root)
    tenants = [f"t{i}" for i in range(8)]
    n_fail = 0
    for k in range(60):
        tenant = rng.choice(tenants + [None]) if rng.random() < 0.05 else rng.choice(tenants)
        at = T0 + timedelta(seconds=rng.randrange(-7200, 7200, 30))
        rid = f"q{rng.randrange(30)}" if rng.random() < 0.5 else None
        op = dict(tenant=tenant, user=rng.choice(["u1", "u2"]), target=rng.choice(['["m-1"]', '["m-2"]']),
                  operation=rng.choice(["cache_purge", "menu_publish"]), request_id=rid)
        sc.op(f"o{k:03d}", at, **op)
        fate = rng.random()
        if fate < 0.45:  # a live (or replayed, backfilled) row, perhaps from another tenant under the same request id
            row_tenant = rng.choice(tenants) if rid and rng.random() < 0.3 else tenant
            sc.row(f"a{k:03d}", at + timedelta(seconds=rng.choice([0, 5, 119, 121])), action=op["operation"],
                   tenant=row_tenant, user=op["user"], target=op["target"], request_id=rid,
                   origin=rng.choice([None, "live", "replay", "backfill"]))
            if rng.random() < 0.2:  # a replay run twice: a duplicate
                sc.row(f"d{k:03d}", at + timedelta(seconds=30), action=op["operation"], tenant=tenant,
                       user=op["user"], target=op["target"], request_id=rid, origin="replay")
        elif fate < 0.7:  # a failure event, with attempts
            fid = f"f{n_fail}"
            n_fail += 1
            sc.failure(fid, at, operation=op["operation"], tenant=tenant, user=op["user"], target=op["target"],
                       request_id=rid)
            for a in range(rng.choice([0, 1, 3])):
                sc.replay(fid, a + 1, rng.choice(["failed", "failed", "inserted"]), at + timedelta(hours=a + 1))
    for j in range(8):  # orphans, some under a request id an operation of another tenant carries
        sc.row(f"x{j:02d}", T0 + timedelta(seconds=rng.randrange(-7200, 7200, 30)), tenant=rng.choice(tenants),
               request_id=f"q{rng.randrange(40)}" if rng.random() < 0.5 else None)
    return sc


COMMANDS = (("coverage", "--by", "day,operator,route,tenant,action"), ("coverage",), ("exceptions",),
            ("replay-status", "--as-of", "2026-10-03T00:00:00Z"), ("remediation", "--as-of", "2026-10-03T00:00:00Z"))


def _outputs(sc: Scenario, *options: str) -> dict[str, tuple[int, str, str]]:
    found = {}
    for command in COMMANDS:
        res = sc.cli(*command, "--format", "json", *options)
        found[" ".join(command)] = (res.code, res.stdout, res.stderr)
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_on_the_cluster_every_number_is_the_in_process_runs_and_the_single_passs(healthy, tmp_path, seed):
    sc = crossing_scenario(random.Random(seed), tmp_path / "s")
    whole = _outputs(sc)
    assert all(code == 0 for code, _, _ in whole.values()), whole
    assert json.loads(whole["coverage"][1])[0]["expected"] == 60
    assert _outputs(sc, "--partitions", "3") == whole
    assert _outputs(sc, "--partitions", "3", "--scheduler", healthy.address) == whole
    assert _outputs(sc, "--partitions", "8", "--scheduler", healthy.address) == whole
    assert _outputs(sc, "--scheduler", healthy.address) == whole


@pytest.mark.parametrize("seed", [4, 5])
def test_on_the_cluster_tenants_split_into_pieces_give_the_single_passs_numbers(healthy, tmp_path, seed,
                                                                                monkeypatch):
    """Every group above one partition's share split by target (the threshold lowered to this scenario's size):
    the workers keep only their pieces as the rows arrive, and every output is the single pass's."""
    from evidence_app.compute import routing
    from evidence_app.compute.routing import route

    sc = crossing_scenario(random.Random(seed), tmp_path / "s")
    whole = _outputs(sc)
    monkeypatch.setattr(routing, "SPLIT_MIN_ROWS", 0)
    assert route(load_config(sc.write()), Period(), 8).plan.split_tenants > 0
    assert _outputs(sc, "--partitions", "8", "--scheduler", healthy.address) == whole


@pytest.mark.parametrize("seed", range(6))
def test_on_the_cluster_the_reconciled_frames_are_the_in_process_partitioned_runs(healthy, tmp_path, seed):
    """Every operation's state and row, every row's status, every failure's replay state: the very frames the
    partitions give in this process (and the single pass's values)."""
    from dataclasses import replace

    from evidence_app.assess.pipeline import evaluate
    from evidence_app.compute.configured import evaluate_configured
    from evidence_app.config.compute import ComputeConfig

    sc = random_scenario(random.Random(seed), tmp_path / "r") if seed % 2 else crossing_scenario(
        random.Random(seed), tmp_path / "c")
    config = load_config(sc.write())
    partitions = 1 + seed % 4
    _, whole = evaluate(config, Period())
    _, here = evaluate_configured(replace(config, compute=ComputeConfig(partitions=max(2, partitions))), Period())
    _, there = evaluate_configured(replace(config, compute=ComputeConfig(max(2, partitions), healthy.address)),
                                   Period())
    _, one_there = evaluate_configured(replace(config, compute=ComputeConfig(1, healthy.address)), Period())
    for name in ("operations", "rows", "failures"):
        pd.testing.assert_frame_equal(getattr(there, name), getattr(here, name), obj=name)
        pd.testing.assert_frame_equal(getattr(one_there, name), getattr(whole, name), obj=name, check_dtype=False)
        pd.testing.assert_frame_equal(getattr(there, name), getattr(whole, name), obj=name, check_dtype=False)


def test_an_unreachable_scheduler_at_the_cli_is_one_line_and_exit_2(tmp_path):
    sc = crossing_scenario(random.Random(5), tmp_path / "s")
    sc.extra_config = "[compute]\ntimeout_seconds = 2\n"
    address = f"tcp://127.0.0.1:{free_port()}"
    res = sc.cli("coverage", "--partitions", "2", "--scheduler", address)
    assert res.code == 2 and res.stdout == ""
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: compute.scheduler: cannot reach the Dask scheduler at {address} within 2 s "
                      f"(Timed out trying to connect to {address} after 2 s)"], res.stderr
    assert "Traceback" not in res.stderr


def test_a_partition_whose_workers_cannot_open_the_store_is_one_line_naming_it(pg_admin, tmp_path, monkeypatch):
    """The client reads the store (the routing pre-pass); the workers cannot (they insist on SSL, the server has
    none): the run stops with the worker's own one line, naming the store, exit 2, nothing printed."""
    from conftest import PG_ADMIN_URL
    from scenario import server_copy

    sc = crossing_scenario(random.Random(7), tmp_path / "s")
    cfg = server_copy(pg_admin, sc, "dask", PG_ADMIN_URL)
    strict = start_cluster(tmp_path / "strict", workers=1, timeout_s=WAIT_S, environ={"PGSSLMODE": "require"})
    try:
        res = CliRunner().invoke(main, ["coverage", "--config", str(cfg), "--partitions", "2",
                                        "--scheduler", strict.address])
    finally:
        strict.stop()
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert res.exit_code == 2 and res.stdout == "", res.stderr
    assert len(errors) == 1 and errors[0].startswith("error: operations: connecting failed on postgresql"), res.stderr
    assert "SSL was required" in errors[0] and "Traceback" not in res.stderr, res.stderr
    monkeypatch.setenv("PGSSLMODE", "require")  # the same failure in this process: the same line
    here = CliRunner().invoke(main, ["coverage", "--config", str(cfg), "--partitions", "2"])
    assert here.exit_code == 2 and [line for line in here.stderr.splitlines() if line.startswith("error:")] == errors


@pytest.mark.parametrize("seed", [11, 12])
def test_a_pack_gathered_on_the_cluster_holds_the_single_passs_extracts_and_sample(healthy, tmp_path, seed):
    """Every CSV the pack embeds (population, coverage, exceptions, replay status, the re-performance sample,
    remediation, the bounded tables) byte for byte, and the summary's figures."""
    from dataclasses import replace
    from datetime import datetime, timezone

    from evidence_app.config.compute import ComputeConfig
    from evidence_app.evidence.contents import gather
    from evidence_app.evidence.extracts import build_extracts
    from evidence_app.reconcile import Scope

    config = load_config(crossing_scenario(random.Random(seed), tmp_path / "s").write())
    at = datetime(2026, 10, 3, tzinfo=timezone.utc)
    whole = gather(config, Period(), Scope(), at, sample_seed=seed)
    there = gather(replace(config, compute=ComputeConfig(4, healthy.address)), Period(), Scope(), at, sample_seed=seed)
    assert [(e.name, e.sha256) for e in build_extracts(there)] == [(e.name, e.sha256) for e in build_extracts(whole)]
    assert there.summary.totals == whole.summary.totals and len(there.sample) > 0


def test_the_web_apps_reader_goes_to_the_cluster_and_gets_the_single_passs_numbers(healthy, tmp_path):
    """What the web app reads a period through (the snapshot's read-through) runs the partitions on the cluster when
    a scheduler is set: the partitions are heard finishing, and the reconciliation is the single pass's."""
    from dataclasses import replace

    from evidence_app.assess.pipeline import evaluate
    from evidence_app.config.compute import ComputeConfig
    from evidence_app.persistence.snapshot import read_through

    config = load_config(crossing_scenario(random.Random(21), tmp_path / "s").write())
    _, whole = evaluate(config, Period())
    heard = []
    loaded = read_through(replace(config, compute=ComputeConfig(3, healthy.address)), Period(),
                          progress=lambda stage, n: heard.append((stage, n)), refresh=True)
    assert sum(n for stage, n in heard if stage == "partitions") == 3
    for name in ("operations", "rows", "failures"):
        pd.testing.assert_frame_equal(getattr(loaded.reconciliation, name), getattr(whole, name), obj=name,
                                      check_dtype=False)


def test_a_scheduler_lost_while_partitions_run_is_one_line(tmp_path, capfd):
    import threading

    from dask_cluster import linger
    from distributed import Client

    doomed = start_cluster(tmp_path / "doomed", workers=1, timeout_s=WAIT_S)

    def stop_the_scheduler_once_a_partition_runs() -> None:
        with Client(doomed.address, timeout=WAIT_S, set_as_default=False) as watcher:
            deadline = time.monotonic() + WAIT_S
            while not any(watcher.processing().values()) and time.monotonic() < deadline:
                time.sleep(0.05)  # polling the condition
        doomed.processes[0].terminate()

    killer = threading.Thread(target=stop_the_scheduler_once_a_partition_runs, daemon=True)
    killer.start()
    try:
        with pytest.raises(ComputeError) as err:
            list(DaskExecutor(doomed.address, timeout_s=WAIT_S)(linger, [WAIT_S, WAIT_S]))
    finally:
        killer.join(WAIT_S)
        doomed.stop()
    assert str(err.value) == (f"compute.scheduler: lost the connection to the Dask scheduler at {doomed.address} "
                              "while partition 1 of 2 ran; nothing was computed")
    assert "Traceback" not in capfd.readouterr().err


def test_an_unreachable_scheduler_is_found_before_any_store_is_read(tmp_path, monkeypatch):
    from dataclasses import replace

    from evidence_app.compute import configured, run
    from evidence_app.config.compute import ComputeConfig

    config = load_config(crossing_scenario(random.Random(4), tmp_path / "s").write())
    read = []
    monkeypatch.setattr(configured, "evaluate", lambda *a, **k: read.append(a))
    monkeypatch.setattr(run, "route", lambda *a, **k: read.append(a))
    address = f"tcp://127.0.0.1:{free_port()}"
    for partitions in (1, 3):
        with pytest.raises(ComputeError, match="cannot reach the Dask scheduler"):
            configured.evaluate_configured(replace(config, compute=ComputeConfig(partitions, address, 1)), Period())
    assert read == []


AGGREGATE_COMMANDS = (("coverage", "--by", "tenant,day", "--format", "table"), ("coverage", "--by", "route,action",
                      "--format", "csv"), ("coverage", "--by", "day", "--format", "json", "--metadata"),
                      ("check", "--as-of", "2026-10-03T00:00:00Z", "--min-coverage-after-replay", "0.99"),
                      ("remediation", "--as-of", "2026-10-03T00:00:00Z", "--format", "json"))


def test_the_aggregate_commands_on_the_cluster_are_the_single_passs_bytes(healthy, tmp_path, monkeypatch):
    """coverage (several --by, every format, --metadata), check and remediation with the partitions on the cluster:
    the single pass's stdout, stderr and exit code, on a scenario with request ids crossing tenants, duplicate ids
    and replays at the partitions' edges, and the client never merges the period's records."""
    from test_partitions import partitioned_scenario

    from evidence_app.compute import run

    sc = partitioned_scenario(random.Random(3), tmp_path / "s")
    sc.extra_config = sc.extra_config.replace('traces = "all"\n', "")  # clause 10 takes the full merge
    whole = {c: sc.cli(*c) for c in AGGREGATE_COMMANDS}

    def refuse(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the period's records were merged in the client")

    monkeypatch.setattr(run, "merge", refuse)
    for options in (("--partitions", "3", "--scheduler", healthy.address), ("--scheduler", healthy.address)):
        there = {c: sc.cli(*c, *options) for c in AGGREGATE_COMMANDS}
        assert there == whole, options
