"""The headline figures of a reconciliation, computed once for the CLI, the UI and the pack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from evidence_app.ingest.dataset import Dataset
from evidence_app.reconcile import Reconciliation, rules
from evidence_app.reconcile.coverage import Totals, totals
from evidence_app.reconcile.remediation import first_failure_times, remediation_table
from evidence_app.reconcile.replay import ReplayStatus, replay_status
from evidence_app.reconcile.rules import OpState, RowStatus


@dataclass(frozen=True)
class Summary:
    """Totals for one period and scope."""

    totals: Totals
    orphans: int
    duplicates: int
    replay: ReplayStatus
    clock_p95_seconds: float | None
    """95th percentile of |row created_at − operation time| over live matches."""
    write_capable: bool
    data_issue_count: int
    inaccurate: int = 0
    """Audit rows matched by request id whose tenant, operator, target or time disagrees with the operation."""
    incomplete: int = 0
    """Audit rows lacking operator, tenant, action or target."""
    remediation: pd.DataFrame | None = None
    """Remediation per route (:func:`remediation_table`), judged at the summary's ``as_of``."""

    @property
    def complete(self) -> bool:
        """:func:`rules.complete`: every operation has its row and every row belongs to one operation."""
        return rules.complete(self.totals.expected, self.totals.missing, self.orphans, self.duplicates)

    @property
    def silent_after_fix(self) -> int:
        """Operations dropped silently after their route's effective fix time, over every route."""
        return self._route_total("missing_silent_after_fix")

    def _route_total(self, column: str) -> int:
        table = self.remediation
        return 0 if table is None or table.empty else int(table[column].sum())

    @property
    def failures_in_period(self) -> int:
        """Failure events whose original operation lies in the period, over every route."""
        return self._route_total("failures")

    @property
    def replayed_within_sla(self) -> int:
        """Of those, the ones whose row landed within the replay SLA."""
        return self._route_total("replayed_within_sla")

    def routes_with_status(self, status: str) -> int:
        """How many routes of the remediation table have ``status``."""
        table = self.remediation
        return 0 if table is None or table.empty else int((table["status"] == status).sum())

    @property
    def silent_share(self) -> float | None:
        missing = self.totals.missing
        return None if missing == 0 else self.totals.missing_silent / missing


def summarize(data: Dataset, recon: Reconciliation, as_of: datetime) -> Summary:
    rows = recon.rows
    live = recon.operations[recon.operations["state"] == OpState.LOGGED]["match_delta_seconds"].abs().dropna()
    return Summary(
        totals=totals(recon),
        orphans=int((rows["status"] == RowStatus.ORPHAN).sum()),
        duplicates=int((rows["status"] == RowStatus.DUPLICATE).sum()),
        replay=replay_status(recon.failures, as_of, data.logs.skipped_log_lines),
        clock_p95_seconds=float(np.percentile(live, 95)) if len(live) else None,
        write_capable=any(s.write_capable for s in data.sources),
        data_issue_count=sum(i.count for i in data.issues + recon.issues),
        inaccurate=int(rows["inaccurate"].notna().sum()),
        incomplete=int(rows["incomplete"].notna().sum()),
        remediation=remediation_table(recon, data.config.remediation, first_failure_times(data.logs.failures), as_of),
    )


def error_classes(recon: Reconciliation) -> pd.DataFrame:
    """Failure events by error class and replay state."""
    fe = recon.failures
    if fe.empty:
        return pd.DataFrame(columns=["error_class", "failures"])
    return fe.groupby("error_class").size().rename("failures").reset_index().sort_values(
        ["failures", "error_class"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
