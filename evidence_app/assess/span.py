"""The period against the data: what each source holds inside the period, the days without any operation, and the
parts of the period no source covers at all — computed once for the pack's cover and summary, the CLI and the web
app, so a period wider than its data is stated, never silent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import AbstractSet, Sequence

import numpy as np
import pandas as pd

from evidence_app.columns.order import micros
from evidence_app.formatting import count, day_runs, timestamp
from evidence_app.ingest.dataset import Dataset
from evidence_app.ingest.logpush import LogScan
from evidence_app.reconcile import Period


@dataclass(frozen=True)
class SourceSpan:
    """One source's records inside the period."""

    source: str
    """``operations``, ``audit`` or ``worker logs``."""
    records: int
    """Records of the source whose (original) time lies in the period."""
    first: pd.Timestamp | None
    """The earliest of them (UTC); None when there is none."""
    last: pd.Timestamp | None
    """The latest of them (UTC); None when there is none."""

    def describe(self) -> str:
        """``operations: 2,704 records, 2026-08-01 04:55:49 UTC – 2026-09-30 18:53:06 UTC`` (or ``no records``)."""
        if self.first is None or self.last is None:
            return f"{self.source}: no records in the period"
        return f"{self.source}: {count(self.records)} records, {timestamp(self.first)} – {timestamp(self.last)}"


@dataclass(frozen=True)
class DataSpan:
    """The period against the data (see the module docstring)."""

    period: Period
    """The period asked for (either side may be open)."""
    first_day: date | None
    """The period's first day; for an open start, the first day any source holds (None: no data, no bound)."""
    last_day: date | None
    """The period's last day; for an open end, the last day any source holds."""
    sources: tuple[SourceSpan, ...]
    """Each source's records inside the period."""
    days_without_operations: tuple[date, ...]
    """Every day of the period (first_day … last_day) without a single operation."""
    outside_every_source: tuple[tuple[date, date], ...]
    """Runs of days of the period (first, last, inclusive) that lie before the earliest or after the latest record
    of every source: the period reaches past the data there."""

    @property
    def days(self) -> int:
        """Days in the period (0 when it is open and no source holds anything)."""
        if self.first_day is None or self.last_day is None:
            return 0
        return (self.last_day - self.first_day).days + 1

    @property
    def warning(self) -> str | None:
        """One sentence when the period reaches outside every source, else None (shown as a warning, not a note)."""
        if not self.outside_every_source:
            return None
        runs = "; ".join(_run(a, b) for a, b in self.outside_every_source)
        return (f"The period reaches outside the data: no source holds any record for {runs}. "
                "Nothing can be said about those days.")

    def operations_gap_line(self) -> str:
        """The days without any operation, as runs, in one line."""
        if not self.days_without_operations:
            return f"Every one of the period's {count(self.days)} days has operations."
        runs = "; ".join(_run(a, b) for a, b in day_runs(self.days_without_operations))
        return (f"{count(len(self.days_without_operations))} of the period's {count(self.days)} days have no "
                f"operation: {runs}.")

    def as_json(self) -> dict:
        """The ``data_span`` object of ``coverage --format json --metadata`` and of the web app."""
        return {
            "first_day": _iso(self.first_day), "last_day": _iso(self.last_day), "days": self.days,
            "sources": [{"source": s.source, "records": s.records, "first": _ts(s.first), "last": _ts(s.last)}
                        for s in self.sources],
            "days_without_operations": [d.isoformat() for d in self.days_without_operations],
            "outside_every_source": [[a.isoformat(), b.isoformat()] for a, b in self.outside_every_source],
            "warning": self.warning,
        }


def data_span(data: Dataset) -> DataSpan:
    """:class:`DataSpan` of what was read for ``data.period`` (every tenant, operator, route and action: the sources
    as they are, whatever the scope a view looks through)."""
    ops, audit, days = store_spans(data.operations, data.audit, data.period)
    return span_of(data.period, ops, audit, logs_span(data.logs, data.period), days)


def store_spans(operations: pd.DataFrame, audit: pd.DataFrame,
                period: Period) -> tuple[SourceSpan, SourceSpan, frozenset[date]]:
    """The stores' part of :func:`data_span` (their spans in the period and the days with an operation), of all
    the records or of a part of them (:func:`merged_spans` puts disjoint parts together)."""
    ops = _inside(operations["occurred_at"], period)
    with_ops = frozenset(_days(ops))
    return _span("operations", ops), _span("audit", _inside(audit["created_at"], period)), with_ops


def merged_spans(parts: Sequence[SourceSpan]) -> SourceSpan:
    """One source's span from those of disjoint parts of its records: records added, the first and last of all."""
    held = [p for p in parts if p.first is not None]
    return SourceSpan(parts[0].source, sum(p.records for p in parts), min((p.first for p in held), default=None),
                      max((p.last for p in held), default=None))


def logs_span(logs: LogScan, period: Period) -> SourceSpan:
    """The Worker logs' span in the period (the logs are read whole, once, by whoever runs the period)."""
    return _span("worker logs", _inside(_log_times(logs), period))


def span_of(period: Period, ops: SourceSpan, audit: SourceSpan, logs: SourceSpan,
            days_with_operations: AbstractSet[date]) -> DataSpan:
    """:class:`DataSpan` from each source's span in ``period`` and the days that have an operation."""
    sources = (ops, audit, logs)
    held = [s for s in sources if s.first is not None]
    first_data = min((s.first for s in held), default=None)
    last_data = max((s.last for s in held), default=None)
    first_day = period.start or (first_data.date() if first_data is not None else None)
    last_day = period.end or (last_data.date() if last_data is not None else None)
    if first_day is None or last_day is None:
        return DataSpan(period, first_day, last_day, sources, (), ())
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    return DataSpan(period, first_day, last_day, sources, tuple(d for d in days if d not in days_with_operations),
                    _outside(first_day, last_day, first_data, last_data))


_EPOCH_DAY = date(1970, 1, 1)
_DAY_US = 86_400_000_000


def _days(times: pd.Series) -> set[date]:
    """The UTC days the times fall on, counted as whole days since the epoch (no date object per record)."""
    if not len(times):
        return set()
    day_numbers = np.unique(micros(times) // _DAY_US)
    return {_EPOCH_DAY + timedelta(days=int(d)) for d in day_numbers}


def _inside(times: pd.Series, period: Period) -> pd.Series:
    times = pd.to_datetime(times, utc=True) if not isinstance(times.dtype, pd.DatetimeTZDtype) else times
    return times[period.contains(times)]


def _span(source: str, times: pd.Series) -> SourceSpan:
    if times.empty:
        return SourceSpan(source, 0, None, None)
    return SourceSpan(source, len(times), times.min().tz_convert("UTC"), times.max().tz_convert("UTC"))


def _log_times(logs: LogScan) -> pd.Series:
    """Every time the Worker logs hold: invocations, failure events (original time) and replay attempts."""
    parts = [logs.invocations["started_at"], logs.failures["created_at"], logs.replays["logged_at"]]
    parts = [pd.to_datetime(p, utc=True) for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True).dropna() if parts else pd.Series([], dtype="datetime64[us, UTC]")


def _outside(first_day: date, last_day: date, first_data: pd.Timestamp | None,
             last_data: pd.Timestamp | None) -> tuple[tuple[date, date], ...]:
    """The period's days before the first record of any source and after the last one."""
    if first_data is None or last_data is None:
        return ((first_day, last_day),)
    runs = []
    if first_day < first_data.date():
        runs.append((first_day, first_data.date() - timedelta(days=1)))
    if last_day > last_data.date():
        runs.append((last_data.date() + timedelta(days=1), last_day))
    return tuple(runs)


def _run(first: date, last: date) -> str:
    n = (last - first).days + 1
    return first.isoformat() if n == 1 else f"{first.isoformat()} – {last.isoformat()} ({count(n)} days)"


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _ts(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None else ts.strftime("%Y-%m-%dT%H:%M:%SZ")
