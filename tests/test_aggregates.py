"""The aggregate path of a partitioned run (issue 22): ``coverage`` partitioned gives the single pass's bytes — every
``--by``, every format, ``--metadata``, the warnings and notes on stderr, the exit code — on random scenarios with
request ids crossing tenants, duplicate ids and replays at the partitions' edges, and the client never merges the
period's records to get them."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from test_partitions import DAY, MIDNIGHT, partitioned_scenario

from evidence_app.compute import aggregate, configured, run
from evidence_app.compute.aggregate import FiguresTask, partition_figures
from evidence_app.compute.routing import route
from evidence_app.config.compute import ComputeConfig
from evidence_app.config.settings import load_config
from evidence_app.reconcile import Period
from evidence_app.reconcile.coverage import OP_STATES

AS_OF = datetime(2026, 10, 3, tzinfo=timezone.utc)
SUMMARY_COMMANDS = (("check", "--as-of", "2026-10-03T00:00:00Z", "--format", "json"),
                    ("check", "--as-of", "2026-10-03T00:00:00Z", "--min-coverage-after-replay", "0.99",
                     "--max-silent-after-fix", "0"),
                    ("remediation", "--as-of", "2026-10-03T00:00:00Z", "--format", "json"),
                    ("remediation", "--as-of", "2026-10-01T12:00:00Z", "--format", "table"))
"""check (exit 1 on a breach) and remediation, which read the summary."""
ASKED = (
    ("--by", "", "--format", "table"), ("--by", "day", "--format", "csv"),
    ("--by", "tenant,operator", "--format", "table"), ("--by", "route,action", "--format", "json"),
    ("--by", "action,day", "--format", "json", "--metadata"),
)
"""Coverage as the CLI is asked for it: several dimensions in several orders, every format, the metadata."""
PERIODS = ((), ("--start", DAY.isoformat(), "--end", DAY.isoformat()),
           ("--start", (DAY - timedelta(days=1)).isoformat()), ("--end", DAY.isoformat()),
           ("--start", (DAY + timedelta(days=30)).isoformat(), "--end", (DAY + timedelta(days=31)).isoformat()))
VIEWS = ((), ("day",), ("tenant",), ("operator", "tenant"), ("route", "action"), ("action", "day"),
         ("day", "operator", "route", "tenant", "action"), ("tenant", "route", "day"))


def _scenario(seed: int, root, traces: bool = False):  # noqa: ANN001, ANN202
    """A random scenario of test_partitions; without clause 10 unless ``traces`` (which takes the full merge)."""
    sc = partitioned_scenario(random.Random(seed), root)
    if not traces:
        sc.extra_config = sc.extra_config.replace('traces = "all"\n', "")
    return sc


def _coverage(sc, periods, *options: str) -> dict[tuple[str, ...], tuple[int, str, str]]:  # noqa: ANN001
    out = {}
    for period in periods:
        for asked in ASKED:
            res = sc.cli("coverage", *period, *asked, *options)
            out[period + asked] = (res.code, res.stdout, res.stderr)
    return out


@pytest.fixture
def no_merge(monkeypatch):
    """The full merge made unusable: a partitioned ``coverage`` that still merged the records would fail."""
    def refuse(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the period's records were merged in the client")

    monkeypatch.setattr(run, "merge", refuse)


@pytest.mark.parametrize("seed", range(16))
def test_partitioned_figures_are_the_single_passs(seed, tmp_path, no_merge):
    """Every table, the data span, the sources and every issue, for a period and a partition count per seed."""
    sc = _scenario(seed, tmp_path / "s")
    config = load_config(sc.write())
    period = (Period(), Period(DAY, DAY), Period(DAY - timedelta(days=1), DAY), Period(DAY, None),
              Period(None, DAY), Period(DAY + timedelta(days=30), DAY + timedelta(days=31)))[seed % 6]
    one = configured.figures_configured(config, period, VIEWS, summary_at=AS_OF)
    many = configured.figures_configured(replace(config, compute=ComputeConfig(partitions=(2, 3, 7)[seed % 3])),
                                         period, VIEWS, summary_at=AS_OF)
    for view in VIEWS:
        pd.testing.assert_frame_equal(many.tables[view], one.tables[view], obj=str(view))
    assert many.span == one.span
    assert many.issues == one.issues
    assert [(s.key, s.finding, s.rows_loaded, s.rows_rejected, s.time_min, s.time_max) for s in many.sources] == \
        [(s.key, s.finding, s.rows_loaded, s.rows_rejected, s.time_min, s.time_max) for s in one.sources]
    assert many.tolerance_seconds == one.tolerance_seconds
    _same_summary(many.summary, one.summary)


def _same_summary(a, b) -> None:  # noqa: ANN001 - two Summary
    """Every figure of two summaries, the remediation table's cells included."""
    pd.testing.assert_frame_equal(a.remediation.routes, b.remediation.routes)
    assert replace(a.remediation, routes=None) == replace(b.remediation, routes=None)
    assert replace(a, remediation=None) == replace(b, remediation=None)


@pytest.mark.parametrize("seed", range(3))
def test_partitioned_coverage_is_the_single_passs_bytes(seed, tmp_path, no_merge):
    """stdout, stderr and the exit code of ``coverage``, byte for byte, for several partition counts."""
    sc = _scenario(seed, tmp_path / "s")
    periods = (PERIODS[0], PERIODS[1 + seed])
    whole = _coverage(sc, periods)
    assert all(code == 0 for code, _, _ in whole.values())
    for n in (2, 7):
        assert _coverage(sc, periods, "--partitions", str(n)) == whole, n


def test_in_four_partitions_coverage_is_the_single_passs_bytes(tmp_path, no_merge):
    """The fast lane's case of the test above."""
    sc = _scenario(7, tmp_path / "s")
    assert _coverage(sc, PERIODS[:1], "--partitions", "4") == _coverage(sc, PERIODS[:1])


def _summary_commands(sc, *options: str) -> dict[tuple[str, ...], tuple[int, str, str]]:  # noqa: ANN001
    out = {}
    for command in SUMMARY_COMMANDS:
        res = sc.cli(*command, *options)
        out[command] = (res.code, res.stdout, res.stderr)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_partitioned_check_and_remediation_are_the_single_passs_bytes(seed, tmp_path, no_merge):
    """stdout, stderr and exit code of ``check`` (breaches: exit 1) and ``remediation``, partitioned."""
    sc = _scenario(seed, tmp_path / "s")
    whole = _summary_commands(sc)
    assert {code for code, _, _ in whole.values()} <= {0, 1}
    assert _summary_commands(sc, "--partitions", str(2 + seed)) == whole


def test_with_every_invocation_in_the_logs_the_full_merge_still_gives_the_single_passs_bytes(tmp_path):
    """Clause 10 looks across every partition's operations: coverage takes the merge, with the same bytes."""
    sc = _scenario(1, tmp_path / "s", traces=True)
    assert _coverage(sc, PERIODS[:1], "--partitions", "3") == _coverage(sc, PERIODS[:1])


def test_a_bad_period_or_dimension_is_the_same_error_and_exit_code_partitioned(tmp_path, no_merge):
    sc = _scenario(5, tmp_path / "s")
    for asked in (("--by", "day,nope"), ("--start", "2026-10-02", "--end", "2026-10-01"), ("--metadata",)):
        one, many = sc.cli("coverage", *asked), sc.cli("coverage", *asked, "--partitions", "4")
        assert one.code == many.code == 2
        assert (one.stdout, one.stderr) == (many.stdout, many.stderr)


def test_a_partition_sends_back_counts_and_spans_never_records(tmp_path):
    """What travels from a partition: one count table per view (a line per combination, not per record), two
    spans and the distinct actions — however many records the partition read."""
    sc = _scenario(11, tmp_path / "s")
    for k in range(600):  # many operations of one tenant and day: few combinations
        sc.op(f"bulk{k}", MIDNIGHT + timedelta(hours=10, seconds=k), tenant="r1")
    config = load_config(sc.write())
    routing = route(config, Period(), 2)
    views = (("day", "tenant"), ())
    parts = [partition_figures(FiguresTask(spec, views)) for spec in routing.specs]
    assert max(p.operations.records for p in parts) >= 600
    for p in parts:
        frames = [v for v in vars(p).values() if hasattr(v, "shape")] + list(p.counts)
        assert all(len(f) <= 3 * 11 for f in frames), [len(f) for f in frames]  # 3 days × (10 tenants + none)
        assert list(p.counts[1].columns) == list(OP_STATES)
    assert sum(int(p.counts[1].sum(axis=None)) for p in parts) == sum(p.operations.records for p in parts)


def test_the_aggregate_path_is_taken_only_when_partitioned(tmp_path, monkeypatch):
    """One partition and no scheduler: today's single pass, untouched; partitioned: the partitions' figures."""
    taken = []
    real = aggregate.combined_figures
    monkeypatch.setattr(run, "combined_figures", lambda *a, **k: taken.append(1) or real(*a, **k))
    sc = _scenario(2, tmp_path / "s")
    sc.cli("coverage")
    assert taken == []
    sc.cli("coverage", "--partitions", "2")
    assert taken == [1]
