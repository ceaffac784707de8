"""The period (inclusive UTC days) and the scope (dimension filters) a reconciliation is seen through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

import numpy as np
import pandas as pd

from evidence_app.columns.text import TEXT_DTYPE, text_in, text_set


@dataclass(frozen=True)
class Period:
    """Inclusive UTC calendar days; None on either side means unbounded."""

    start: date | None = None
    end: date | None = None

    @property
    def start_ts(self) -> pd.Timestamp | None:
        return None if self.start is None else pd.Timestamp(datetime.combine(self.start, time(), timezone.utc))

    @property
    def end_ts(self) -> pd.Timestamp | None:
        """Exclusive end: midnight after the last day."""
        if self.end is None:
            return None
        # Timestamp arithmetic, not date arithmetic: the day after 9999-12-31 has no date, but has a time.
        return pd.Timestamp(datetime.combine(self.end, time(), timezone.utc)) + pd.Timedelta(days=1)

    def contains(self, ts: pd.Series) -> pd.Series:
        inside = pd.Series(True, index=ts.index)
        if self.start_ts is not None:
            inside &= ts >= self.start_ts
        if self.end_ts is not None:
            inside &= ts < self.end_ts
        return inside & ts.notna()

    def label(self) -> str:
        return f"{self.start or '…'} – {self.end or '…'}"


@dataclass(frozen=True)
class Scope:
    """Dimension filters (empty tuple = everything); several values of one dimension mean OR."""

    tenant: tuple[str, ...] = ()
    operator: tuple[str, ...] = ()
    route: tuple[str, ...] = ()
    action: tuple[str, ...] = ()

    def items(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(k, v) for k, v in (("tenant", self.tenant), ("operator", self.operator),
                                     ("route", self.route), ("action", self.action)) if v]

    def label(self) -> str:
        return "; ".join(f"{k} = {', '.join(v)}" for k, v in self.items()) or "all tenants, operators, routes and actions"

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        keep = np.ones(len(frame), dtype=bool)
        for key, values in self.items():
            column = frame[key]
            if column.dtype == TEXT_DTYPE:  # Arrow's hash set: pandas' isin is several times slower on a million
                keep &= text_in(column, text_set(pd.Series(values, dtype=TEXT_DTYPE)))
            else:
                keep &= column.isin(values).to_numpy(dtype=bool)
        return pd.Series(keep, index=frame.index)
