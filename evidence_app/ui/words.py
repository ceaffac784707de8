"""The web app's words for machine names (states, columns, verdicts) and its table cells for people: the one place
a page turns ``missing_silent`` or ``age_seconds`` into what a reader says. Downloads keep the machine names."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from evidence_app.formatting import MISSING, duration, percent
from evidence_app.reconcile.rules import OpState

WORDS: dict[str, str] = {
    # operation states (the replay states and the covered ones read as they are named)
    OpState.MISSING_PENDING: "missing, replay pending", OpState.MISSING_ABANDONED: "missing, replay abandoned",
    OpState.MISSING_SILENT: "missing, dropped silently", OpState.MISSING_UNPROVABLE: "missing, unprovable from the logs",
    # columns
    "day": "Day", "operator": "Operator", "tenant": "Tenant", "route": "Route", "action": "Action",
    "expected": "Expected", "coverage_logged": "Coverage as logged", "coverage_after_replay": "Coverage after replay",
    "state": "State", "age_seconds": "Age", "attempts": "Attempts", "last_error": "Last error",
    "created_at": "Original time (UTC)", "failure_id": "Failure id", "operation_id": "Operation id",
    "latency_seconds": "Replay latency", "error_class": "Error class", "kind": "Kind", "audit_id": "Audit row id",
    "occurred_at": "Time (UTC)", "detail": "Detail", "framework": "Framework", "control": "Control",
    "title": "Title", "result": "Result", "figures": "Evidence",
}
"""Machine name → display words; a name not listed is shown with its underscores as spaces."""
RESULT_MARKS: dict[str, str] = {"met": "✔", "met with exceptions": "⚠", "not met": "✘", "not applicable": "–"}
"""A sign beside each control result, so the verdict never rests on colour alone."""


def word(name: object) -> str:
    """A machine name as a reader says it (``missing_silent`` → ``missing, dropped silently``)."""
    text = str(name)
    return WORDS.get(text, text.replace("_", " "))  # StrEnum keys equal their text


def result_text(result: str) -> str:
    """A control's result with its sign: ``✘ not met``."""
    mark = RESULT_MARKS.get(result)
    return f"{mark} {result}" if mark else result


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
