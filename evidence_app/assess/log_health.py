"""The Worker log source's own health for a period: what it holds, what was dropped, and where it is silent.

Computed once here for ``evidence-app logs``, the Sources page and the pack's "Log completeness" section. With
``[worker_logs] traces = "all"`` it says which operations an invocation of their route traces and where the logs
have gaps (runs of operations, in time order, that no invocation traces: a lost batch, a job that was off); with
``traces = "failures"`` tracing is not possible and those figures are None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evidence_app.columns.text import expanded
from evidence_app.formatting import iso_utc
from evidence_app.ingest.dataset import Dataset
from evidence_app.reconcile import Reconciliation
from evidence_app.reconcile.rules import Trace, TraceMode
from evidence_app.reconcile.window import Period


@dataclass(frozen=True)
class Gap:
    """A run of consecutive operations (in time order) that no invocation of their route traces."""

    start: str
    """The first such operation's time, ISO-8601 UTC."""
    end: str
    """The last one's time, ISO-8601 UTC."""
    operations: int
    """How many operations the run holds."""


@dataclass(frozen=True)
class LogHealth:
    """``evidence-app logs``: the log source's health for the period (its JSON contract)."""

    mode: str
    """``[worker_logs] traces``: ``all`` (every invocation shipped) or ``failures`` (a filtered job)."""
    files: int
    """Log files read."""
    invocations: int
    """Invocations that started in the period, each counted once."""
    truncated_invocations: int
    """…of which the runtime cut the logs (Logpush's marker, workerd's ``truncated``)."""
    duplicates_dropped: int
    """Trace records dropped as already read (at-least-once delivery), over every file read."""
    traced_operations: int | None
    """Operations of the period an invocation of their route traces (None with ``traces = "failures"``)."""
    untraced_operations: int | None
    """Operations of the period no invocation traces (None with ``traces = "failures"``)."""
    gaps: tuple[Gap, ...]
    """Spans where operations happened and no invocation of theirs is in the logs (empty with ``failures``)."""
    by_day: pd.DataFrame
    """Per UTC day of the period: invocations, truncated_invocations, operations, traced and untraced operations."""

    def as_json(self) -> dict:
        return {"traces": self.mode, "files": self.files, "invocations": self.invocations,
                "truncated_invocations": self.truncated_invocations, "duplicates_dropped": self.duplicates_dropped,
                "traced_operations": self.traced_operations, "untraced_operations": self.untraced_operations,
                "gaps": [{"start": g.start, "end": g.end, "operations": g.operations} for g in self.gaps]}


def log_health(data: Dataset, recon: Reconciliation, period: Period) -> LogHealth:
    """The figures of :class:`LogHealth` from what was loaded and reconciled for ``period``."""
    mode = data.config.worker_logs.traces
    inv = data.logs.invocations
    inv = inv[period.contains(inv["started_at"]).to_numpy(dtype=bool)]
    ops = recon.operations
    traced = expanded(ops["trace"]).astype(object) if "trace" in ops and mode == TraceMode.ALL else None
    untraced = None if traced is None else (traced == Trace.NOT_IN_LOGS).to_numpy(dtype=bool)
    return LogHealth(
        mode=str(mode), files=len(data.logs.files), invocations=len(inv),
        truncated_invocations=int(inv["truncated"].sum()), duplicates_dropped=data.logs.duplicates_dropped,
        traced_operations=None if untraced is None else int((~untraced).sum()),
        untraced_operations=None if untraced is None else int(untraced.sum()),
        gaps=() if untraced is None else _gaps(ops["occurred_at"], untraced),
        by_day=_by_day(inv, ops, untraced))


def _gaps(times: pd.Series, untraced: np.ndarray) -> tuple[Gap, ...]:
    """Maximal runs of untraced operations in time order (ties by position), each a gap."""
    order = np.argsort(times.to_numpy(), kind="stable")
    flags, stamps = untraced[order], times.to_numpy()[order]
    gaps, start = [], None
    for i, flag in enumerate(np.append(flags, False)):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            gaps.append(Gap(iso_utc(pd.Timestamp(stamps[start])), iso_utc(pd.Timestamp(stamps[i - 1])), i - start))
            start = None
    return tuple(gaps)


def _by_day(inv: pd.DataFrame, ops: pd.DataFrame, untraced: np.ndarray | None) -> pd.DataFrame:
    inv_day = inv["started_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d")
    per_inv = pd.DataFrame({"day": inv_day, "invocations": 1, "truncated_invocations": inv["truncated"].astype(int)})
    op_day = ops["day"].dt.strftime("%Y-%m-%d")
    per_op = pd.DataFrame({"day": op_day, "operations": 1})
    if untraced is not None:
        per_op["traced_operations"], per_op["untraced_operations"] = (~untraced).astype(int), untraced.astype(int)
    table = pd.concat([per_inv.groupby("day").sum(), per_op.groupby("day").sum()], axis=1).fillna(0).astype(int)
    return table.sort_index().reset_index().rename(columns={"index": "day"})
