"""Tenants split into pieces by target (issue 22): a group holding more than one partition's share of the records is
cut by a hash of the canonical target, and every number stays the single pass's — on random scenarios whose targets
are spelled differently on the two sides, blank or missing, with request ids, duplicates, failure events and
replays crossing tenants and pieces."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_partitions import PERIODS, _same, held_to_the_reference, partitioned_scenario

from evidence_app.compute import evaluate, partitioning_sentence
from evidence_app.compute import routing
from evidence_app.compute.routing import route
from evidence_app.config.settings import load_config
from evidence_app.ingest.canonical import canonical_target
from evidence_app.ingest.pieces import BUCKETS, keep_pieces, target_buckets
from evidence_app.reconcile import Period

TARGETS = ('["m-1"]', '["m-2"]', '{"a":1,"b":2}', '["m-3"]', '["m-4"]', "[5]", "[6]", "", None)
"""Several targets (some the audit side spells otherwise, see test_partitions.SPELLED), a blank and a missing one."""


@pytest.fixture
def split_always(monkeypatch):
    """Any group above one partition's share is split, however small the scenario (the threshold is for memory)."""
    monkeypatch.setattr(routing, "SPLIT_MIN_ROWS", 0)


def _config(seed: int, root, traces: bool = True, numbers: float = 0.0):  # noqa: ANN202
    sc = partitioned_scenario(random.Random(seed), root, TARGETS, numbers)
    if not traces:
        sc.extra_config = sc.extra_config.replace('traces = "all"\n', "")
    return load_config(sc.write())


def test_the_same_target_spelled_otherwise_falls_in_the_same_piece():
    spelled = pd.Series(['["m-1"]', '[ "m-1" ]', '{"a":1,"b":2}', '{"b": 2, "a": 1}', '{ "a" : 1 , "b" : 2 }'])
    buckets = target_buckets(spelled)
    assert buckets[0] == buckets[1] and buckets[2] == buckets[3] == buckets[4]


def test_a_missing_or_blank_target_is_piece_zero():
    assert target_buckets(pd.Series([None, "", "   "], dtype=object)).tolist() == [0, 0, 0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12),
                          st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), max_size=3).map(str)),
                max_size=20))
def test_a_targets_piece_is_its_canonical_forms_piece(values):
    raw = pd.Series(values, dtype=object)
    buckets = target_buckets(raw)
    assert ((0 <= buckets) & (buckets < BUCKETS)).all()
    assert target_buckets(canonical_target(raw)).tolist() == buckets.tolist()


def test_every_row_of_a_split_tenant_is_kept_by_exactly_one_partition():
    chunk = pd.DataFrame({"restaurant_id": pd.Series(["big", "big", "small", None, "big", 7] * 50, dtype=object),
                          "target": [f"[{i}]" for i in range(300)]})
    owners = np.arange(BUCKETS) % 3
    filters = [keep_pieces((("7", tuple(np.flatnonzero(owners == p).tolist())),
                            ("big", tuple(np.flatnonzero(owners == p).tolist())))) for p in range(3)]
    kept = [set(f(chunk).index) for f in filters]
    split = {i for i, t in enumerate(chunk["restaurant_id"]) if t in ("big", 7)}
    for i in split:
        assert sum(i in k for k in kept) == 1
    for i in set(range(len(chunk))) - split:  # other tenants: the tenant filter's to decide, every filter passes them
        assert all(i in k for k in kept)


def test_a_group_above_one_partitions_share_is_split_and_stated(tmp_path, split_always):
    config = _config(3, tmp_path)
    routed = route(config, Period(), 7)
    assert routed.plan.split_tenants > 0
    held = [(t, b) for ps in routed.plan.pieces for t, bs in ps for b in bs]
    assert len(held) == len(set(held))  # no piece in two partitions
    assert {t for t, _ in held} <= {t for ts in routed.plan.tenants for t in ts}
    assert "split into pieces by a hash of the canonical target" in partitioning_sentence(routed.plan)


def test_below_the_threshold_no_tenant_is_split(tmp_path):
    routed = route(_config(3, tmp_path), Period(), 7)
    assert routed.plan.split_tenants == 0 and routed.plan.pieces == ()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), period=st.sampled_from(PERIODS), n=st.sampled_from((2, 3, 7)),
       numbers=st.sampled_from((0.0, 0.97, 1.0)))
def test_split_partitions_give_the_single_pass_result(tmp_path_factory, seed, period, n, numbers):
    """Ids all text, all whole numbers, or whole numbers but a few: ties break as the single pass breaks them."""
    routing.SPLIT_MIN_ROWS, before = 0, routing.SPLIT_MIN_ROWS  # hypothesis runs examples outside fixtures' reach
    try:
        config = _config(seed, tmp_path_factory.mktemp("p"), numbers=numbers)
        _same(evaluate(config, period, partitions=1), evaluate(config, period, partitions=n))
    finally:
        routing.SPLIT_MIN_ROWS = before


@pytest.mark.parametrize("seed", range(24))
def test_split_partitions_agree_with_the_record_by_record_reference(seed, tmp_path, split_always):
    held_to_the_reference(_config(seed, tmp_path, traces=False))


@pytest.mark.parametrize("seed", range(4))
def test_split_coverage_check_and_exceptions_are_the_single_passs_bytes(seed, tmp_path, split_always):
    """stdout, stderr and exit code: ``coverage`` and ``check`` (the aggregate path) and ``exceptions`` (the merge)."""
    sc = partitioned_scenario(random.Random(seed), tmp_path, TARGETS)
    sc.extra_config = sc.extra_config.replace('traces = "all"\n', "")
    asked = (("coverage", "--by", "day,operator,tenant", "--format", "csv"), ("check", "--as-of", "2026-10-03T00:00:00Z", "--format", "json"),
             ("exceptions", "--format", "csv"))

    def outputs(*options: str) -> list[tuple[int, str, str]]:
        return [(r.code, r.stdout, r.stderr) for r in (sc.cli(*a, *options) for a in asked)]
    assert route(load_config(sc.write()), Period(), 5).plan.split_tenants > 0
    assert outputs("--partitions", "5") == outputs()


def test_split_tenants_stored_as_numbers_text_and_reals_keep_the_single_pass_result(tmp_path, split_always):
    """1 and "1" are one tenant, split into pieces: a partition's chunk filter finds a tenant's canonical text from
    whatever the store holds (integers, text, a REAL), as the pre-pass did, and targets spelled otherwise by the
    audit side stay in their operation's piece."""
    from datetime import datetime, timedelta, timezone

    from scenario import Scenario

    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    sc = Scenario(tmp_path / "s")
    vals = [1, "1", 2, 2.5, "x", None, 3, " 3"]
    spelled = ['["m-{}"]', '[ "m-{}" ]']
    for i in range(80):
        sc.op(f"o{i}", start + timedelta(seconds=11 * i), tenant=vals[i % 8], target=spelled[0].format(i % 13),
              request_id=f"q{i % 9}" if i % 5 == 0 else None)
        sc.row(f"a{i}", start + timedelta(seconds=11 * i + 3), tenant=vals[i % 8] if i % 7 else vals[(i * 3) % 8],
               target=spelled[i % 2].format(i % 13), request_id=f"q{i % 9}" if i % 6 == 0 else None)
    config = load_config(sc.write())
    one = evaluate(config, Period(), partitions=1)
    for n in (2, 3, 5):
        assert route(config, Period(), n).plan.split_tenants > 0
        _same(one, evaluate(config, Period(), partitions=n))


def test_a_split_tenants_pieces_fill_as_few_partitions_as_their_size_needs():
    """Each partition holding a piece reads the tenant's rows: the pieces fill one partition's share after another
    (here 64 pieces of 10 records and 4 partitions of 310: the first three partitions, not all four), and the
    other groups go largest first onto the lightest."""
    from evidence_app.compute.plan import pack

    rows = {g: 10 for g in range(64)} | {100: 300, 101: 200, 102: 100}
    key = {g: ("big", g) for g in range(64)} | {g: (f"t{g}", 0) for g in (100, 101, 102)}
    bins = pack(4, rows, key, frozenset(range(64)))
    holding = [i for i, b in enumerate(bins) if any(g < 64 for g in b)]
    assert holding == [0, 1, 2]
    assert sorted(g for b in bins for g in b) == sorted(rows)
    assert max(sum(rows[g] for g in b) for b in bins) <= 310 + 10
