"""The aggregate path of a partitioned run: for a view whose output is aggregate only (``coverage``: its tables, the
data span, the warnings; ``check`` and ``remediation``: the summary), each partition computes with the core's own
functions what the view shows of its slice, and only that travels back; the client adds the parts up. The period's
per-record frames never exist in the client, so its memory is bounded by one partition's results, not by the
period.

Exact because every record lies in exactly one partition (:mod:`evidence_app.compute.plan`): counts add, ratios are
recomputed from the sums (:func:`~evidence_app.reconcile.coverage.with_ratios`), spans take the first and the last
of the parts, and the data issues merge as :func:`~evidence_app.compute.merge.merge` merges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Mapping, Sequence

import pandas as pd

from evidence_app.assess.span import DataSpan, SourceSpan, data_span, logs_span, merged_spans, span_of, store_spans
from evidence_app.assess.summary import RecordCounts, Summary, merged_record_counts, record_counts, summarize, \
    summary_of
from evidence_app.compute.merge import stacked, merged_issues, merged_source
from evidence_app.compute.partition import PartitionSpec, reconcile_partition
from evidence_app.compute.routing import Routing
from evidence_app.config.settings import Config
from evidence_app.ingest.dataset import Dataset, SourceReport
from evidence_app.issues import DataIssue
from evidence_app.reconcile import Period, Reconciliation
from evidence_app.reconcile.coverage import coverage_of_counts, coverage_table, state_counts, summed_counts
from evidence_app.reconcile.remediation import first_failure_times
from evidence_app.reconcile.states import ActionsSeen, actions_seen, mapping_issues_of, merged_actions

View = tuple[str, ...]
"""The dimensions of one coverage table (``--by``; empty: the total row)."""


@dataclass(frozen=True)
class FiguresTask:
    """One partition of an aggregate run: what it reads, and which coverage tables it counts (picklable)."""

    spec: PartitionSpec
    views: tuple[View, ...]
    summary_at: datetime | None = None
    """When set, the partition also counts what the summary reads (:class:`RecordCounts`), judged at this time."""
    first_failure_at: Mapping[str | None, pd.Timestamp] | None = None
    """Each route's first failure event in all the logs (the client's scan: the fix times are the period's)."""

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
    records: RecordCounts | None = None
    """What the summary reads of its records, when asked."""
    failures: pd.DataFrame | None = None
    """Its reconciled failure events in the period, when the summary is asked (log events: the client holds the
    logs anyway)."""


def partition_figures(task: FiguresTask) -> PartitionFigures:
    """Read and reconcile one partition (as ``run_partition`` does), then keep only what the views show of it."""
    data, recon = reconcile_partition(task.spec)
    ops, audit, days = store_spans(data.operations, data.audit, task.spec.period)
    asked = task.summary_at is not None
    return PartitionFigures(index=task.spec.index, counts=tuple(state_counts(recon, view) for view in task.views),
                            operations=ops, audit=audit, days_with_operations=days,
                            actions=actions_seen(data.operations, data.audit), issues=data.issues,
                            sources=data.sources,
                            records=record_counts(recon, data.config, task.first_failure_at or {}, task.summary_at)
                            if asked else None, failures=recon.failures if asked else None)


@dataclass(frozen=True)
class ViewFigures:
    """What ``coverage`` shows (its tables, the data span), ``check`` and ``remediation`` (the summary), and what
    they warn about (findings, data issues), however the period was reconciled."""

    config: Config
    period: Period
    tables: dict[View, pd.DataFrame]
    """:func:`~evidence_app.reconcile.coverage.coverage_table` per view asked for."""
    span: DataSpan
    sources: tuple[SourceReport, ...]
    issues: tuple[DataIssue, ...]
    """The data's issues, then the reconciliation's (the order ``warn`` lists them in)."""
    tolerance_seconds: int
    summary: Summary | None = None
    """The headline figures, when asked for (``summary_at``)."""


def figures_of(data: Dataset, recon: Reconciliation, views: Sequence[View],
               summary_at: datetime | None = None) -> ViewFigures:
    """:class:`ViewFigures` of a reconciliation held whole (the single pass, or the full merge)."""
    return ViewFigures(config=data.config, period=data.period,
                       tables={tuple(v): coverage_table(recon, list(v)) for v in views}, span=data_span(data),
                       sources=data.sources, issues=data.issues + recon.issues,
                       tolerance_seconds=recon.tolerance_seconds,
                       summary=None if summary_at is None else summarize(data, recon, summary_at))


def combined_figures(config: Config, period: Period, routing: Routing, results: Iterable[PartitionFigures],
                     views: Sequence[View], summary_at: datetime | None = None) -> ViewFigures:
    """The partitions' figures added up into what the single pass's :func:`figures_of` gives."""
    parts = list(results)
    tables = {tuple(v): coverage_of_counts(summed_counts([p.counts[i] for p in parts], v), v)
              for i, v in enumerate(views)}
    span = span_of(period, merged_spans([p.operations for p in parts]), merged_spans([p.audit for p in parts]),
                   logs_span(routing.logs, period), frozenset().union(*(p.days_with_operations for p in parts)))
    issues = merged_issues([p.issues for p in parts], routing) + routing.logs.issues
    recon_issues = mapping_issues_of(merged_actions([p.actions for p in parts]), config.matching)
    sources = tuple(merged_source(tuple(p.sources[i] for p in parts)) for i in range(2))
    tolerance = config.matching.tolerance_seconds
    summary = None
    if summary_at is not None:
        summary = summary_of(merged_record_counts([p.records for p in parts]), stacked([p.failures for p in parts]),
                             routing.logs, config, sources, sum(i.count for i in issues + recon_issues), tolerance,
                             summary_at)
    return ViewFigures(config=config, period=period, tables=tables, span=span, sources=sources,
                       issues=issues + recon_issues, tolerance_seconds=tolerance, summary=summary)


def first_failures(routing: Routing) -> dict[str | None, pd.Timestamp]:
    """Each route's first failure event in the logs the pre-pass read (what every partition judges fixes by)."""
    return first_failure_times(routing.logs.failures)
