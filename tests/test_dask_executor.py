"""The Dask executor's parts that need no cluster: what a worker sends back for a partition, what a version check
compares, and when no cluster is used at all (the cluster itself: tests/test_dask_cluster.py, slow)."""

from __future__ import annotations

import pickle
from dataclasses import replace

from evidence_app.compute.dask_executor import DaskExecutor, executor_for, installed, run_on_worker
from evidence_app.config.compute import ComputeConfig
from evidence_app.errors import SourceError


def _refuse(url: str) -> None:
    raise SourceError(f"audit: connect failed on {url}: password authentication failed")


def _bug(_spec: object) -> None:
    raise ValueError("no tenant column\nsecond line")


def test_a_project_error_travels_back_as_data_of_the_same_class_masked():
    outcome = pickle.loads(pickle.dumps(run_on_worker(_refuse, "postgresql://auditor:pw-991@db/ops")))
    assert isinstance(outcome.error, SourceError) and outcome.value is None
    assert str(outcome.error) == ("audit: connect failed on postgresql://auditor:***@db/ops: "
                                  "password authentication failed")


def test_any_other_failure_travels_back_as_one_line_naming_its_type():
    outcome = run_on_worker(_bug, None)
    assert outcome.error is None and outcome.failure == "ValueError: no tenant column"


def test_a_result_travels_back_as_it_is():
    assert run_on_worker(str.upper, "abc").value == "ABC"


def test_the_version_check_names_only_what_differs():
    here = installed()
    assert here.differences(here) == []
    other = replace(here, code="0" * 16, libraries=tuple((n, "0.0" if n == "pandas" else v) for n, v in here.libraries))
    assert here.differences(other) == [f"evidence-app code {'0' * 16} there, {here.code} here",
                                       f"pandas 0.0 there, {dict(here.libraries)['pandas']} here"]


def test_without_a_scheduler_no_cluster_is_used():
    assert executor_for(ComputeConfig(partitions=8)) is None
    found = executor_for(ComputeConfig(partitions=2, scheduler="tcp://10.0.0.5:8786", timeout_seconds=7))
    assert found == DaskExecutor("tcp://10.0.0.5:8786", None, 7.0)


def test_the_executor_pickles_as_its_address_and_timeout():
    """Only the address and the timeout travel with it: a scheduler address never holds credentials."""
    executor = DaskExecutor("tcp://10.0.0.5:8786")
    assert pickle.loads(pickle.dumps(executor)) == executor
