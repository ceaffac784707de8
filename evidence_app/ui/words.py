"""The web app's table cells for people (durations, percentages, times, states and headers in words, from
:mod:`evidence_app.display`) and the sign beside each verdict: the one place a page turns ``missing_silent`` or
``age_seconds`` into what a reader says. Downloads keep the machine names."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from evidence_app.formatting import MISSING, duration, percent
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
        out[c] = pd.to_datetime(out[c], utc=True).dt.strftime("%Y-%m-%d %H:%M:%S").fillna(MISSING)
    for c in states:
        out[c] = out[c].map(lambda s: MISSING if s is None or pd.isna(s) else word(s))
    out = out.astype(object).where(out.notna(), MISSING)
    return out.rename(columns={c: word(c) for c in out.columns})
