"""The Dask executor on a real local cluster (``dask scheduler`` + ``dask worker`` processes on 127.0.0.1): results
come back in the partitions' order from the workers; every failure is one line of the project's errors — the
worker's own error as the same line, a worker lost, no worker, another evidence-app on a worker, an unreachable
scheduler — and no secret reaches a task name or a log."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from conftest import WAIT_S
from dask_cluster import crash, free_port, pid, refuse, shout, start_cluster

from evidence_app.compute.dask_executor import DaskExecutor, installed
from evidence_app.errors import ComputeError, SourceError


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
    assert f"evidence-app {here.evidence_app} (code {here.code})" in message  # this side's
    assert message.count(f"evidence-app {here.evidence_app} (code ") == 2 and "install the same evidence-app" in message
