"""The aggregate path of a partitioned run: for a view whose output is aggregate only (``coverage``: its tables, the
data span, the warnings), each partition computes with the core's own functions what the view shows of its slice,
and only that travels back; the client adds the parts up. The period's per-record frames never exist in the client,
so its memory is bounded by one partition's results, not by the period.

Exact because every record lies in exactly one partition (:mod:`evidence_app.compute.plan`): counts add, ratios are
recomputed from the sums (:func:`~evidence_app.reconcile.coverage.with_ratios`), spans take the first and the last
of the parts, and the data issues merge as :func:`~evidence_app.compute.merge.merge` merges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

import pandas as pd

from evidence_app.assess.span import DataSpan, SourceSpan, data_span, logs_span, merged_spans, span_of, store_spans
from evidence_app.compute.merge import merged_issues, merged_source
from evidence_app.compute.partition import PartitionSpec, reconcile_partition
from evidence_app.compute.routing import Routing
from evidence_app.config.settings import Config
from evidence_app.ingest.dataset import Dataset, SourceReport
from evidence_app.issues import DataIssue
from evidence_app.reconcile import Period, Reconciliation
from evidence_app.reconcile.coverage import coverage_of_counts, coverage_table, state_counts, summed_counts
from evidence_app.reconcile.states import ActionsSeen, actions_seen, mapping_issues_of, merged_actions

View = tuple[str, ...]
"""The dimensions of one coverage table (``--by``; empty: the total row)."""


@dataclass(frozen=True)
class FiguresTask:
    """One partition of an aggregate run: what it reads, and which coverage tables it counts (picklable)."""

    spec: PartitionSpec
    views: tuple[View, ...]

    @property
    def index(self) -> int:
        """The partition's position (``map_partitions`` holds results to it)."""
        return self.spec.index


@dataclass(frozen=True)
class PartitionFigures:
    """What one partition sends back on the aggregate path: counts, spans and a few distinct values, no record."""

    index: int
    counts: tuple[pd.DataFrame, ...]
    """:func:`~evidence_app.reconcile.coverage.state_counts` of its operations, one per view."""
    operations: SourceSpan
    """Its operations in the period."""
    audit: SourceSpan
    """Its audit rows in the period."""
    days_with_operations: frozenset[date]
    actions: ActionsSeen
    """What the action mapping's checks need of everything it loaded."""
    issues: tuple[DataIssue, ...]
    """Its canonical frames' input problems (merged as the merge does)."""
    sources: tuple[SourceReport, ...]


def partition_figures(task: FiguresTask) -> PartitionFigures:
    """Read and reconcile one partition (as ``run_partition`` does), then keep only what the views show of it."""
    data, recon = reconcile_partition(task.spec)
    ops, audit, days = store_spans(data.operations, data.audit, task.spec.period)
    return PartitionFigures(index=task.spec.index, counts=tuple(state_counts(recon, view) for view in task.views),
                            operations=ops, audit=audit, days_with_operations=days,
                            actions=actions_seen(data.operations, data.audit), issues=data.issues,
                            sources=data.sources)


@dataclass(frozen=True)
class CoverageFigures:
    """What ``coverage`` shows (its tables, the data span) and warns about (findings, data issues), however the
    period was reconciled."""

    config: Config
    period: Period
    tables: dict[View, pd.DataFrame]
    """:func:`~evidence_app.reconcile.coverage.coverage_table` per view asked for."""
    span: DataSpan
    sources: tuple[SourceReport, ...]
    issues: tuple[DataIssue, ...]
    """The data's issues, then the reconciliation's (the order ``warn`` lists them in)."""
    tolerance_seconds: int


def figures_of(data: Dataset, recon: Reconciliation, views: Sequence[View]) -> CoverageFigures:
    """:class:`CoverageFigures` of a reconciliation held whole (the single pass, or the full merge)."""
    return CoverageFigures(config=data.config, period=data.period,
                           tables={tuple(v): coverage_table(recon, list(v)) for v in views}, span=data_span(data),
                           sources=data.sources, issues=data.issues + recon.issues,
                           tolerance_seconds=recon.tolerance_seconds)


def combined_figures(config: Config, period: Period, routing: Routing, results: Iterable[PartitionFigures],
                     views: Sequence[View]) -> CoverageFigures:
    """The partitions' figures added up into what the single pass's :func:`figures_of` gives."""
    parts = list(results)
    tables = {tuple(v): coverage_of_counts(summed_counts([p.counts[i] for p in parts], v), v)
              for i, v in enumerate(views)}
    span = span_of(period, merged_spans([p.operations for p in parts]), merged_spans([p.audit for p in parts]),
                   logs_span(routing.logs, period), frozenset().union(*(p.days_with_operations for p in parts)))
    issues = merged_issues([p.issues for p in parts], routing) + routing.logs.issues
    recon_issues = mapping_issues_of(merged_actions([p.actions for p in parts]), config.matching)
    return CoverageFigures(config=config, period=period, tables=tables, span=span,
                           sources=tuple(merged_source(tuple(p.sources[i] for p in parts)) for i in range(2)),
                           issues=issues + recon_issues, tolerance_seconds=config.matching.tolerance_seconds)
