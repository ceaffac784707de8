"""Lists of stores on a real local Dask cluster (``dask scheduler`` + ``dask worker`` processes on 127.0.0.1): each
worker opens the lists itself and reads only its partition's stores (SQLite files and D1 dumps); every command's
numbers are the union store's."""

from __future__ import annotations

import random
from dataclasses import replace

import pandas as pd
import pytest
from conftest import WAIT_S
from dask_cluster import start_cluster
from store_lists import write_both
from test_dask_cluster import crossing_scenario
from test_store_lists import _outputs

from evidence_app.compute.configured import evaluate_configured
from evidence_app.config.compute import ComputeConfig
from evidence_app.config.settings import load_config
from evidence_app.assess.pipeline import evaluate
from evidence_app.reconcile import Period


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two single-threaded workers on one scheduler, for this module; stopped at the end."""
    found = start_cluster(tmp_path_factory.mktemp("dask-lists"), workers=2, timeout_s=WAIT_S)
    yield found
    found.stop()


def test_on_the_cluster_the_lists_give_the_union_stores_numbers(cluster, tmp_path):
    rng = random.Random(11)
    sc = crossing_scenario(rng, tmp_path / "s")
    union, lists = write_both(sc, rng)
    whole = _outputs(union)
    assert all(code == 0 for code, _ in whole.values()), whole
    assert _outputs(lists, "--scheduler", cluster.address) == whole
    assert _outputs(lists, "--partitions", "2", "--scheduler", cluster.address) == whole


def test_on_the_cluster_the_reconciled_frames_are_the_union_stores(cluster, tmp_path):
    rng = random.Random(12)
    sc = crossing_scenario(rng, tmp_path / "s")
    union, lists = write_both(sc, rng)
    _, whole = evaluate(load_config(union), Period())
    config = load_config(lists)
    data, there = evaluate_configured(replace(config, compute=ComputeConfig(config.compute.partitions,
                                                                            cluster.address)), Period())
    assert f"{config.compute.partitions} partitions" in data.partitioning
    for name in ("operations", "rows", "failures"):
        pd.testing.assert_frame_equal(getattr(there, name), getattr(whole, name), obj=name, check_dtype=False)
