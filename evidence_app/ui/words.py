"""The web app's table cells for people (durations, percentages, times, states and headers in words, from
:mod:`evidence_app.display`) and the sign beside each verdict: the one place a page turns ``missing_silent`` or
``age_seconds`` into what a reader says. Downloads keep the machine names."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from evidence_app.formatting import MISSING, duration, percent, timestamp
from evidence_app.display import STATE_NAMES, column_name, state_name
from evidence_app.reconcile.rules import Verdict

RESULT_MARKS: dict[str, str] = {Verdict.MET: "✔", Verdict.EXCEPTIONS: "⚠", Verdict.NOT_MET: "✘",
                                Verdict.NOT_APPLICABLE: "–"}
"""A sign beside each control result, so the verdict never rests on colour alone."""


def word(name: object) -> str:
    """A machine name as a reader says it: a state's or a column's name in :mod:`evidence_app.display` (the one
    mapping the pack uses too), else its underscores as spaces."""
    text = str(name)
    if text in STATE_NAMES:
        return STATE_NAMES[text]
    return column_name(text)


def result_text(result: str) -> str:
    """A control's result with its sign: ``✘ not met``."""
    mark = RESULT_MARKS.get(result)
    return f"{mark} {state_name(result)}" if mark else state_name(result)


def for_people(frame: pd.DataFrame, durations: Iterable[str] = (), ratios: Iterable[str] = (),
               times: Iterable[str] = (), states: Iterable[str] = ()) -> pd.DataFrame:
    """A table as shown on a page: durations in days/hours/minutes, ratios as percentages, times to the second
    (UTC), states in words, no ``None`` cells, headers in words."""
    out = frame.copy()
    for c in durations:
        out[c] = out[c].map(duration)
    for c in ratios:
        out[c] = out[c].map(percent)
    for c in times:
        out[c] = _seconds(out[c])
    for c in states:
        out[c] = out[c].map(lambda s: MISSING if s is None or pd.isna(s) else word(s))
    out = out.astype(object).where(out.notna(), MISSING)
    return out.rename(columns={c: word(c) for c in out.columns})


def exceptions_for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """Exceptions (``exceptions_table``'s columns) as a page shows them: kinds in words, times to the second."""
    return for_people(frame, times=["occurred_at"], states=["kind"])


def routes_for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """Remediation per route as a page shows it: the status beside the route (the evidence stays in view at laptop
    width), the fix time to the second, the SLA as a duration, statuses in words."""
    first = [c for c in ("route", "status") if c in frame.columns]
    ordered = frame[first + [c for c in frame.columns if c not in first]]
    return for_people(ordered, times=[c for c in ("effective_fixed_at",) if c in frame.columns],
                      durations=[c for c in ("replay_sla_seconds",) if c in frame.columns],
                      states=[c for c in ("status", "fix_source") if c in frame.columns])


def _seconds(values: pd.Series) -> pd.Series:
    """Times (datetimes or ISO-8601 text, with or without fractions) in UTC to the second; a value that is not a
    time is shown as it is, never dropped."""
    try:
        parsed = pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return values.map(lambda v: MISSING if v is None or v is pd.NaT else timestamp(v).removesuffix(" UTC"))
    return parsed.dt.strftime("%Y-%m-%d %H:%M:%S").fillna(MISSING)


COVERAGE_FIRST = ("coverage_after_replay", "coverage_logged", "expected", "missing")
"""The coverage columns a reader looks for first, right after the line's name (in view at laptop width)."""


def coverage_for_people(frame: pd.DataFrame, dim: str) -> pd.DataFrame:
    """A coverage table (one line per ``dim`` value) as a page shows it: the name, then coverage after replay and
    as logged, expected and missing, then the rest; ratios as percentages, headers in words."""
    first = [dim, *(c for c in COVERAGE_FIRST if c in frame.columns and c != dim)]
    ordered = frame[first + [c for c in frame.columns if c not in first]]
    return for_people(ordered, ratios=[c for c in ("coverage_logged", "coverage_after_replay") if c in frame.columns])
