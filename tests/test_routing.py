"""The routing pre-pass keeps 64-bit hashes (issue 22): a hash collision may only join tenants into coarser
groups or make the pre-pass look for more rows beyond the window; it never changes a number, a duplicate id or a
partition's top-up. Collisions are forced here by replacing the hash."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from evidence_app.columns.text import TEXT_DTYPE
from evidence_app.compute import evaluate, routing
from evidence_app.compute.routing import route
from evidence_app.config.settings import load_config
from evidence_app.ingest.pieces import BUCKETS
from evidence_app.reconcile import Period

from scenario import Scenario
from test_partitions import DAY, MIDNIGHT, PERIODS, _same, partitioned_scenario

REAL_HASH = routing._hash64


def _aliasing(alias: str, to: str):  # noqa: ANN202 - a stand-in for routing._hash64
    """The real hash, except that the text ``alias`` hashes as ``to`` does (a forced collision)."""
    target = REAL_HASH(pd.Series([to], dtype=TEXT_DTYPE))[0][0]

    def hashed(text: pd.Series, blank_is_missing: bool = True) -> tuple[np.ndarray, np.ndarray]:
        hashes, present = REAL_HASH(text, blank_is_missing)
        hashes[present & (text.astype(object) == alias).to_numpy(dtype=bool)] = target
        return hashes, present
    return hashed


def _coarse(buckets: int):  # noqa: ANN202 - a stand-in for routing._hash64
    """The real hash folded into a few values: request ids and ids collide all the time."""
    def hashed(text: pd.Series, blank_is_missing: bool = True) -> tuple[np.ndarray, np.ndarray]:
        hashes, present = REAL_HASH(text, blank_is_missing)
        hashes[present] = hashes[present] % np.uint64(buckets) + np.uint64(1)
        return hashes, present
    return hashed


def _top_up_scenario(root) -> Scenario:
    """r1's operation carries request id qa, whose only audit row (r2's) lies nine days after the period; r3's
    operation and audit row share request id qb inside the period."""
    sc = Scenario(root)
    sc.op("o1", at=MIDNIGHT + timedelta(hours=3), tenant="r1", request_id="qa")
    sc.row("a9", at=MIDNIGHT + timedelta(days=9), tenant="r2", request_id="qa")
    sc.op("o2", at=MIDNIGHT + timedelta(hours=5), tenant="r3", request_id="qb")
    sc.row("a2", at=MIDNIGHT + timedelta(hours=5, seconds=1), tenant="r3", request_id="qb")
    sc.op("o3", at=MIDNIGHT + timedelta(hours=6), tenant="r4").row("a3", at=MIDNIGHT + timedelta(hours=6), tenant="r4")
    return sc


def test_a_request_id_that_collides_with_one_present_is_still_looked_for_beyond_the_window(tmp_path, monkeypatch):
    """qa hashes as qb, which the audit window holds: trusting the hash would take qa for present, skip the rows
    beyond the window, and leave r1's partition without its audit row a9. The pre-pass still finds a9 (r1 and
    r2 together, a top-up for their partition); the collision only puts r3 with them."""
    config = load_config(_top_up_scenario(tmp_path / "s").write())
    period = Period(DAY, DAY)
    plain = route(config, period, 3)
    where = plain.plan.partition_of()
    assert where["r1"] == where["r2"] != where["r3"]
    monkeypatch.setattr(routing, "_hash64", _aliasing("qa", "qb"))
    collided = route(config, period, 3)
    where = collided.plan.partition_of()
    assert where["r1"] == where["r2"] == where["r3"]  # coarser: qa and qb look like one request id
    assert collided.specs[where["r1"]].top_up[1]  # the audit store's top-up still runs for r1's partition
    data, recon = evaluate(config, period, partitions=3)
    assert recon.operations.set_index("id").loc["o1", "audit_id"] == "a9"
    monkeypatch.setattr(routing, "_hash64", REAL_HASH)
    _same(evaluate(config, period, partitions=1), (data, recon))


def test_ids_whose_hashes_collide_are_not_reported_as_duplicates(tmp_path, monkeypatch):
    """Every id hashing into three values: all are candidates, and the read-back keeps only ids truly read twice."""
    sc = Scenario(tmp_path / "s")
    for i in range(12):
        sc.op(f"o{i}", tenant=f"r{i % 4}").row(f"a{i}", tenant=f"r{i % 4}")
    sc.op("o3", tenant="r2").row("a5", tenant="r0").row("a5", tenant="r1")
    config = load_config(sc.write())
    plain = route(config, Period(), 2).duplicate_ids
    assert plain == {"operations": ("o3",), "audit": ("a5",)}
    monkeypatch.setattr(routing, "_hash64", _coarse(3))
    assert route(config, Period(), 2).duplicate_ids == plain


@pytest.mark.parametrize("seed", range(12))
def test_colliding_hashes_change_no_number(seed, tmp_path, monkeypatch):
    """Request ids and ids folded into a few hash values, on the random partition scenarios: the same records,
    states, issues and figures as the single pass (which hashes nothing)."""
    rng = random.Random(seed)
    config = load_config(partitioned_scenario(rng, tmp_path / "s").write())
    period = PERIODS[seed % len(PERIODS)]
    one = evaluate(config, period, partitions=1)
    monkeypatch.setattr(routing, "_hash64", _coarse(rng.choice((1, 2, 5))))
    _same(one, evaluate(config, period, partitions=7))


def test_pieces_of_an_abandoned_read_are_left_out():
    """The native reader may give up half-way and read again through the Python path: only the pieces the
    returned frame names are gathered, in its order."""
    def piece(tenant: int, rid: int, ids: list[int], whole: bool = True) -> tuple:
        return (np.array([tenant], dtype=np.int32), np.array([rid], dtype=np.uint64), np.array([True]),
                np.bincount([tenant]), np.array(ids, dtype=np.uint64), np.array([tenant % 2], dtype=np.uint8),
                (np.array([tenant * BUCKETS + tenant % 2]), np.array([1])), whole, ())
    kept = {0: piece(0, 7, [1, 2]), 1: piece(1, 8, [1], whole=False), 2: piece(1, 8, [1]), 3: piece(2, 9, [2, 3])}
    keys = routing._gathered(kept, pd.DataFrame({"chunk": [2, 3]}))  # 0 and 1: the abandoned read's
    assert keys.tenant.tolist() == [1, 2] and keys.rid.tolist() == [8, 9]
    assert keys.rows.tolist() == [0, 1, 1]
    assert keys.bucket.tolist() == [1, 0]
    assert keys.whole_ids  # the abandoned read's chunk 1 said otherwise
    assert np.flatnonzero(keys.piece_rows).tolist() == [BUCKETS + 1, 2 * BUCKETS] and keys.piece_rows.sum() == 2
    assert keys.repeated_ids.tolist() == []  # 1 and 2 were met twice only counting the abandoned read
    assert not kept
