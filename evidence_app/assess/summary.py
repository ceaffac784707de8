"""The headline figures of a reconciliation, computed once for the CLI, the UI and the pack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

import numpy as np
import pandas as pd

from evidence_app.config.settings import Config
from evidence_app.ingest.dataset import Dataset, SourceReport
from evidence_app.ingest.logpush import LogScan
from evidence_app.reconcile import Reconciliation, rules
from evidence_app.reconcile.coverage import Totals, state_counts, summed_counts, totals_of_counts
from evidence_app.reconcile.remediation import (
    RemediationSummary,
    first_failure_times,
    route_counts,
    summary_of_table,
    summed_route_counts,
    table_of,
)
from evidence_app.reconcile.replay import ReplayStatus, replay_status
from evidence_app.reconcile.rules import OpState, RowStatus


@dataclass(frozen=True)
class Summary:
    """Totals for one period and scope."""

    totals: Totals
    """Operations by state, and the coverage ratios."""
    orphans: int
    """Audit rows that match no operation."""
    duplicates: int
    """Audit rows that could match an operation another row already covers."""
    replay: ReplayStatus
    """Failure events by replay state, their ages and latencies."""
    clock_p95_seconds: float | None
    """95th percentile of |row created_at − operation time| over live matches."""
    write_capable: bool
    """Whether any source was reached with a role that can write."""
    data_issue_count: int
    """Input problems counted while reading and reconciling (every one is shown, never dropped)."""
    remediation: RemediationSummary
    """Remediation per route and over every route, judged at the summary's ``as_of``."""
    inaccurate: int = 0
    """Audit rows matched by request id whose tenant, operator, target or time disagrees with the operation."""
    incomplete: int = 0
    """Audit rows lacking operator, tenant, action or target."""
    log_completeness: str = ""
    """What a silent drop proves with the log job in force (rules clause 10), stated by every view."""
    source_count: int = 0
    """Stores read (operations, audit): with :attr:`log_file_count`, the evidence check's population."""
    log_file_count: int = 0
    """Worker log files read."""
    traces_every_invocation: bool = False
    """Whether the Worker logs hold every invocation (``[worker_logs] traces = "all"``): only then can a missing
    operation be told unprovable (rules clause 10)."""

    @property
    def complete(self) -> bool:
        """:func:`rules.complete`: every operation has its row and every row belongs to one operation."""
        return rules.complete(self.totals.expected, self.totals.missing, self.orphans, self.duplicates)

    @property
    def silent_after_fix(self) -> int:
        """:attr:`RemediationSummary.silent_after_fix` (the controls and ``check`` read it here)."""
        return self.remediation.silent_after_fix

    @property
    def failures_in_period(self) -> int:
        """:attr:`RemediationSummary.failures` (the controls read it here)."""
        return self.remediation.failures

    @property
    def replayed_within_sla(self) -> int:
        """:attr:`RemediationSummary.replayed_within_sla` (the controls read it here)."""
        return self.remediation.replayed_within_sla

    @property
    def silent_share(self) -> float | None:
        """Share of the missing operations that left no failure event (None when none is missing)."""
        missing = self.totals.missing
        return None if missing == 0 else self.totals.missing_silent / missing


def summarize(data: Dataset, recon: Reconciliation, as_of: datetime) -> Summary:
    first = first_failure_times(data.logs.failures)
    return summary_of(record_counts(recon, data.config, first, as_of), recon.failures, data.logs, data.config,
                      data.sources, sum(i.count for i in data.issues + recon.issues), recon.tolerance_seconds, as_of)


@dataclass(frozen=True)
class RecordCounts:
    """What :func:`summarize` reads of the reconciled operations and rows, as figures that add up over disjoint
    parts of them (:func:`merged_record_counts`): a partitioned run sends these back, not the records."""

    states: pd.DataFrame
    """The operations counted by state (:func:`~evidence_app.reconcile.coverage.state_counts`, no dimension)."""
    orphans: int
    duplicates: int
    inaccurate: int
    incomplete: int
    live_deltas: np.ndarray
    """|row time − operation time| of every live match (the clock percentile's population)."""
    routes: pd.DataFrame
    """:func:`~evidence_app.reconcile.remediation.route_counts` of the operations."""


def record_counts(recon: Reconciliation, config: Config, first_failure_at: Mapping[str | None, pd.Timestamp],
                  as_of: datetime) -> RecordCounts:
    """:class:`RecordCounts` of a reconciliation (of the period, or of a partition of it)."""
    rows = recon.rows
    live = recon.operations[recon.operations["state"] == OpState.LOGGED]["match_delta_seconds"].abs().dropna()
    return RecordCounts(
        states=state_counts(recon, []),
        orphans=int((rows["status"] == RowStatus.ORPHAN).sum()),
        duplicates=int((rows["status"] == RowStatus.DUPLICATE).sum()),
        inaccurate=int(rows["inaccurate"].notna().sum()),
        incomplete=int(rows["incomplete"].notna().sum()),
        live_deltas=live.to_numpy(),
        routes=route_counts(recon.operations, config.remediation, first_failure_at, as_of),
    )


def merged_record_counts(parts: list[RecordCounts]) -> RecordCounts:
    """:class:`RecordCounts` of disjoint parts of the records, as one (at least one part)."""
    return RecordCounts(
        states=summed_counts([p.states for p in parts], []),
        orphans=sum(p.orphans for p in parts), duplicates=sum(p.duplicates for p in parts),
        inaccurate=sum(p.inaccurate for p in parts), incomplete=sum(p.incomplete for p in parts),
        live_deltas=np.concatenate([p.live_deltas for p in parts]),
        routes=summed_route_counts([p.routes for p in parts]),
    )


def summary_of(counts: RecordCounts, failures: pd.DataFrame, logs: LogScan, config: Config,
               sources: tuple[SourceReport, ...], data_issue_count: int, tolerance_seconds: int,
               as_of: datetime) -> Summary:
    """:class:`Summary` from the records' counts, the period's failure events and what was read."""
    first = first_failure_times(logs.failures)
    table = table_of(counts.routes, failures, config.remediation, first, as_of)
    live = counts.live_deltas
    return Summary(
        totals=totals_of_counts(counts.states),
        orphans=counts.orphans,
        duplicates=counts.duplicates,
        replay=replay_status(failures, as_of, logs.skipped_log_lines),
        clock_p95_seconds=float(np.percentile(live, 95)) if len(live) else None,
        write_capable=any(s.write_capable for s in sources),
        data_issue_count=data_issue_count,
        inaccurate=counts.inaccurate,
        incomplete=counts.incomplete,
        remediation=summary_of_table(table, config.remediation, as_of),
        source_count=len(sources),
        log_file_count=len(logs.files),
        traces_every_invocation=config.worker_logs.traces == rules.TraceMode.ALL,
        log_completeness=rules.describe_log_completeness(config.worker_logs.traces, tolerance_seconds),
    )


def error_classes(recon: Reconciliation) -> pd.DataFrame:
    """Failure events by error class and replay state."""
    fe = recon.failures
    if fe.empty:
        return pd.DataFrame(columns=["error_class", "failures"])
    return fe.groupby("error_class").size().rename("failures").reset_index().sort_values(
        ["failures", "error_class"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
