"""docs/DESIGN.md's reconciliation rules, one behaviour per test."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from evidence_app.reconcile import rules
from evidence_app.reconcile._kernel import _greedy, _key_codes

from scenario import T0

S = timedelta(seconds=1)


def test_row_within_tolerance_logs_the_operation(scenario):
    scenario.op("o1").row("a1", T0 + 119 * S)
    assert scenario.states() == {"o1": "logged"}


def test_row_just_past_tolerance_is_orphan(scenario):
    scenario.op("o1").row("a1", T0 + 121 * S)
    recon = scenario.recon()
    assert scenario.states() == {"o1": "missing_silent"}
    assert recon.rows.set_index("id").loc["a1", "status"] == "orphan"


def test_tolerance_comes_from_config(scenario):
    scenario.extra_config = "[matching]\ntolerance_seconds = 300\n"
    scenario.op("o1").row("a1", T0 + 250 * S)
    assert scenario.states() == {"o1": "logged"}


def test_same_request_id_matches_whatever_the_time(scenario):
    scenario.op("o1", request_id="req-1").row("a1", T0 + timedelta(hours=5), request_id="req-1")
    assert scenario.states() == {"o1": "logged"}


def test_different_request_ids_never_match_even_when_keys_and_time_agree(scenario):
    scenario.op("o1", request_id="req-1").row("a1", T0, request_id="req-2")
    assert scenario.states() == {"o1": "missing_silent"}


def test_request_id_on_one_side_only_falls_back_to_keys(scenario):
    scenario.op("o1", request_id="req-1").row("a1", T0 + 5 * S)
    assert scenario.states() == {"o1": "logged"}


def test_keys_must_all_agree(scenario):
    scenario.op("o1").row("a1", tenant="r2")
    scenario.op("o2", user="u2").row("a2", user="u3")
    scenario.op("o3", target='["m-9"]').row("a3", target='["m-8"]')
    scenario.op("o4", operation="menu_publish").row("a4", action="refund_create")
    assert set(scenario.states().values()) == {"missing_silent"}


def test_json_targets_compare_by_meaning_not_spacing(scenario):
    scenario.op("o1", target='{"a": 1, "b": [1, 2]}').row("a1", target='{"b":[1,2],"a":1}')
    assert scenario.states() == {"o1": "logged"}


def test_nearest_row_in_time_wins(scenario):
    scenario.op("o1").op("o2", T0 + 100 * S)
    scenario.row("a-far", T0 + 60 * S).row("a-near", T0 + 95 * S)
    recon = scenario.recon()
    covered = dict(zip(recon.operations["id"], recon.operations["audit_id"]))
    assert covered == {"o1": "a-far", "o2": "a-near"}


def test_equal_distance_tie_is_broken_by_operation_id(scenario):
    scenario.op("o-b", T0 - 10 * S).op("o-a", T0 + 10 * S).row("a1", T0)
    recon = scenario.recon()
    states = dict(zip(recon.operations["id"], recon.operations["state"]))
    assert states == {"o-b": "missing_silent", "o-a": "logged"}


def test_equal_distance_tie_between_rows_is_broken_by_row_id(scenario):
    scenario.op("o1").row("a-2", T0 + 10 * S).row("a-1", T0 - 10 * S)
    recon = scenario.recon()
    assert recon.operations.loc[0, "audit_id"] == "a-1"
    assert recon.rows.set_index("id").loc["a-2", "status"] == "duplicate"


def test_numeric_ids_break_ties_in_numeric_order(scenario):
    scenario.op("o1").row("10", T0 + 10 * S).row("9", T0 - 10 * S)
    assert scenario.recon().operations.loc[0, "audit_id"] == "9"


def test_matching_is_one_to_one(scenario):
    scenario.op("o1").op("o2", T0 + 1 * S).row("a1", T0)
    assert sorted(scenario.states().values()) == ["logged", "missing_silent"]


def test_live_row_wins_over_replay(scenario):
    scenario.op("o1")
    scenario.row("a-replay", T0, origin="replay").row("a-live", T0 + 30 * S)
    recon = scenario.recon()
    assert recon.operations.loc[0, "state"] == "logged"
    assert recon.operations.loc[0, "audit_id"] == "a-live"
    assert recon.rows.set_index("id").loc["a-replay", "status"] == "duplicate"


def test_second_replay_of_the_same_operation_is_duplicate(scenario):
    scenario.op("o1").row("r1", T0, origin="replay").row("r2", T0, origin="replay")
    recon = scenario.recon()
    statuses = dict(zip(recon.rows["id"], recon.rows["status"]))
    assert statuses == {"r1": "matched", "r2": "duplicate"}
    assert recon.rows.set_index("id").loc["r2", "operation_id"] == "o1"


def test_origin_decides_the_covered_state(scenario):
    scenario.op("o1").row("a1", origin=None)
    scenario.op("o2", tenant="r2").row("a2", tenant="r2", origin="live")
    scenario.op("o3", tenant="r3").row("a3", tenant="r3", origin="replay")
    scenario.op("o4", tenant="r4").row("a4", tenant="r4", origin="backfill")
    assert scenario.states() == {"o1": "logged", "o2": "logged", "o3": "replayed", "o4": "backfilled"}


def test_row_matching_nothing_is_orphan(scenario):
    scenario.row("a1")
    recon = scenario.recon()
    assert list(recon.rows["status"]) == ["orphan"]


def test_operation_action_mapping_from_config(scenario):
    scenario.extra_config = '[matching.actions]\npurge_cdn = "cache_purge"\n'
    scenario.op("o1", operation="purge_cdn").row("a1", action="cache_purge")
    assert scenario.states() == {"o1": "logged"}


def test_window_edge_is_never_a_false_gap(scenario):
    from datetime import date

    midnight = T0.replace(hour=0, minute=0) + timedelta(days=1)  # 2026-10-02 00:00
    scenario.op("o-late", midnight - 30 * S).row("a-early", midnight + 30 * S)
    recon = scenario.recon(date(2026, 10, 1), date(2026, 10, 1))
    assert list(recon.operations["state"]) == ["logged"]
    nxt = scenario.recon(date(2026, 10, 2), date(2026, 10, 2))
    assert nxt.operations.empty and list(nxt.rows["status"]) == ["matched"]


def test_request_id_match_reaches_outside_the_window(scenario):
    from datetime import date

    scenario.op("o1", request_id="req-1").row("a1", T0 + timedelta(days=3), request_id="req-1")
    recon = scenario.recon(date(2026, 10, 1), date(2026, 10, 1))
    assert list(recon.operations["state"]) == ["logged"]


def test_matching_is_deterministic_whatever_the_row_order(scenario, tmp_path):
    for i in range(6):
        scenario.op(f"o{i}", T0 + i * 20 * S)
    for i in reversed(range(9)):
        scenario.row(f"a{i}", T0 + i * 13 * S, origin="replay" if i % 3 else None)
    first = scenario.recon().operations[["id", "audit_id"]].to_dict("records")
    scenario.rows.reverse()
    scenario.ops.reverse()
    assert scenario.recon().operations[["id", "audit_id"]].to_dict("records") == first


def test_vectorised_greedy_takes_exactly_the_pairs_a_sequential_walk_takes():
    rng = np.random.default_rng(20261127)
    for _ in range(200):
        n_ops, n_rows = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        pairs = {(int(rng.integers(n_ops)), int(rng.integers(n_rows))) for _ in range(int(rng.integers(0, 80)))}
        ordered = list(pairs)
        rng.shuffle(ordered)  # an arbitrary priority order
        o = np.array([p[0] for p in ordered], dtype=np.int64)
        r = np.array([p[1] for p in ordered], dtype=np.int64)
        op_to_row, row_to_op = _greedy(o, r, n_ops, n_rows)
        expected = rules.accept_greedily(ordered)  # the rule: a sequential walk in priority order
        assert {i: int(j) for i, j in enumerate(op_to_row) if j >= 0} == expected
        assert {int(i): j for j, i in enumerate(row_to_op) if i >= 0} == expected


def test_composite_keys_are_equal_exactly_when_every_field_is_equal_missing_included():
    rng = np.random.default_rng(7)

    def side(n: int, distinct: int) -> pd.DataFrame:
        pick = lambda k: [None if x == 0 else f"v{x}" for x in rng.integers(0, k, n)]  # noqa: E731
        return pd.DataFrame({"a": pick(3), "b": pick(distinct)})

    for distinct in (5, 50_000):  # repetitive text is dictionary-encoded, mostly-distinct text ranked
        ops, rows = side(3000, distinct), side(3000, distinct)
        op_key, row_key = _key_codes(ops, rows, ("a", "b"))
        plain = lambda col: [None if pd.isna(v) else v for v in col]  # noqa: E731
        keys = list(zip(plain(ops["a"]), plain(ops["b"]))) + list(zip(plain(rows["a"]), plain(rows["b"])))
        codes = np.concatenate([op_key, row_key])
        by_key: dict = {}
        for key, code in zip(keys, codes):
            by_key.setdefault(key, set()).add(int(code))
        assert all(len(c) == 1 for c in by_key.values())  # equal keys, one code
        assert len({next(iter(c)) for c in by_key.values()}) == len(by_key)  # different keys, different codes


def test_the_key_join_cut_into_time_slices_finds_exactly_the_pairs_of_the_whole_join(monkeypatch):
    """Slices of any size, pairs straddling every edge (busy buckets, distances at the tolerance): the same
    candidate pairs, tiers and distances as one join over everything."""
    from evidence_app.reconcile import _kernel

    rng = np.random.default_rng(11)
    tol = 5

    def side(n: int) -> pd.DataFrame:
        t = np.sort(rng.integers(0, 60, n)) * 1_000_000 + rng.choice([0, 1, 999_999], n)
        pick = lambda k: [None if x == 0 else f"v{x}" for x in rng.integers(0, k, n)]  # noqa: E731
        return pd.DataFrame({"t": pd.to_datetime(np.sort(t), unit="us", utc=True), "action": pick(2),
                             "tenant": pick(2), "operator": pick(3), "target": pick(4),
                             "request_id": [None if x else f"q{x}" for x in rng.integers(0, 4, n)],
                             "id": [str(i) for i in range(n)]})

    ops, rows = side(400), side(500)
    whole = _kernel.candidates(ops, "t", rows, "t", tol)
    assert (whole["tier"] == rules.TIER_KEYS).sum() > 100
    for size in (1, 2, 7, 64):
        monkeypatch.setattr(_kernel, "SLICE", size)
        op_b = _kernel.micros(ops["t"]) // (tol * 1_000_000)
        assert len(_kernel._time_slices(op_b, _kernel.micros(rows["t"]) // (tol * 1_000_000))) > 1
        sliced = _kernel.candidates(ops, "t", rows, "t", tol)
        key = ["op", "row", "tier", "dt"]
        assert sliced.sort_values(key).values.tolist() == whole.sort_values(key).values.tolist()
