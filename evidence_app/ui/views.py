"""What the first page and the sidebar show of one period and scope, computed once per dataset and scope (issue
21): the totals and verdict, the daily trend, the controls, and each filter's values with their operation counts.
Everything here comes from the core's functions (summarize, coverage_table, evaluate_controls) over the
reconciliation; a render only reads it. Kept beside the snapshot as Arrow and JSON (never pickle), so a
restarted server shows the page without loading or recomputing anything.

Figures that depend on the time they are judged at (ages, fixes in force) are those of :attr:`PageViews.as_of`,
which the page states; views older than the data's cache life are computed again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pandas as pd

from evidence_app.assess.controls import evaluate_controls
from evidence_app.assess.span import data_span
from evidence_app.assess.summary import summarize
from evidence_app.config.settings import Config
from evidence_app.ingest.canonical import parse_timestamps
from evidence_app.ingest.dataset import Dataset
from evidence_app.ingest.sources import Store, time_extent
from evidence_app.reconcile import Reconciliation
from evidence_app.reconcile.coverage import Totals, coverage_table

FILTERS = ("tenant", "operator", "route", "action")
"""The sidebar's filters, as canonical columns."""
OFFERED = 50
"""A filter lists this many values (most operations first) besides those chosen; any other is typed."""
CONTROL_COLUMNS = ("framework", "control", "title", "result", "population", "figures")


@dataclass(frozen=True)
class Facet:
    """The values one filter may take in a period and scope, most operations first (then by name)."""

    column: str
    values: tuple[str, ...]
    operations: tuple[int, ...]
    """Operations per value, in the same order."""
    _members: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_members", frozenset(self.values))

    @property
    def count(self) -> int:
        return len(self.values)

    def __contains__(self, value: object) -> bool:
        return value in self._members

    def offered(self, chosen: list[str], limit: int = OFFERED) -> list[str]:
        """What the widget lists: the chosen values, then the ``limit`` with most operations (never thousands)."""
        kept = [v for v in dict.fromkeys(chosen) if v in self._members]
        seen = set(kept)
        return kept + [v for v in self.values[:limit + len(kept)] if v not in seen][:limit]


@dataclass(frozen=True)
class PageViews:
    """One period and scope as the Overview and the sidebar show it."""

    as_of: datetime
    """When the time-dependent figures (controls judging ages and fixes) were judged."""
    totals: Totals
    orphans: int
    duplicates: int
    complete: bool
    log_completeness: str
    by_day: pd.DataFrame
    """coverage_table by day (the daily trend)."""
    controls: pd.DataFrame
    """One line per control: :data:`CONTROL_COLUMNS`."""
    facets: dict[str, Facet]
    """:data:`FILTERS` → their values in this scope."""
    span_text: str = ""
    """The period against the data, in words: each source's records in it and the days without operations (core:
    assess/span.py; the sources as a whole, whatever the scope)."""
    span_warning: str | None = None
    """One sentence when the period reaches outside every source, else None."""


def compute(config: Config, data: Dataset, recon: Reconciliation, as_of: datetime) -> PageViews:
    """The views of ``recon`` (already scoped): the one place a page's figures are computed."""
    s = summarize(data, recon, as_of)
    results = evaluate_controls(s, recon, config.controls)
    controls = pd.DataFrame([{"framework": r.control.framework, "control": r.control.id, "title": r.control.title,
                              "result": r.result, "population": r.population, "figures": r.figures}
                             for r in results],
                            columns=list(CONTROL_COLUMNS))
    span = data_span(data)
    return PageViews(as_of=as_of, totals=s.totals, orphans=s.orphans, duplicates=s.duplicates, complete=s.complete,
                     log_completeness=s.log_completeness, by_day=coverage_table(recon, ["day"]), controls=controls,
                     facets={c: facet(recon.operations, c) for c in FILTERS},
                     span_text="; ".join(x.describe() for x in span.sources) + ". " + span.operations_gap_line(),
                     span_warning=span.warning)


def facet(ops: pd.DataFrame, column: str) -> Facet:
    """A column's values present in ``ops`` (as text, as the filters take them) with their counts."""
    if not len(ops) or column not in ops:
        return Facet(column, (), ())
    counts = ops[column].value_counts(dropna=True, sort=False)  # per category: no text made per row
    summed: dict[str, int] = {}
    for value, n in zip(counts.index, counts.to_numpy()):
        if n > 0:
            summed[str(value)] = summed.get(str(value), 0) + int(n)
    order = sorted(summed.items(), key=lambda vc: (-vc[1], vc[0]))
    return Facet(column, tuple(v for v, _ in order), tuple(n for _, n in order))


# ---------------------------------------------------------------------------------------------- as files


def to_files(views: PageViews) -> tuple[dict[str, pd.DataFrame], dict]:
    """Frames (Arrow) and scalars (JSON) for :func:`evidence_app.persistence.snapshot.save_views`."""
    frames = {"by_day": views.by_day, "controls": views.controls}
    for c, f in views.facets.items():
        frames[f"facet_{c}"] = pd.DataFrame({"value": pd.Series(f.values, dtype=object),
                                             "operations": pd.Series(f.operations, dtype="int64")})
    doc = {"as_of": views.as_of.isoformat(), "totals": views.totals.as_dict(), "orphans": views.orphans,
           "duplicates": views.duplicates, "complete": views.complete, "log_completeness": views.log_completeness,
           "span_text": views.span_text, "span_warning": views.span_warning}
    return frames, doc


def from_files(frames: dict[str, pd.DataFrame], doc: dict) -> PageViews:
    facets = {}
    for c in FILTERS:
        f = frames[f"facet_{c}"]
        facets[c] = Facet(c, tuple(str(v) for v in f["value"]), tuple(int(n) for n in f["operations"]))
    return PageViews(as_of=datetime.fromisoformat(doc["as_of"]), totals=Totals(**doc["totals"]),
                     orphans=int(doc["orphans"]), duplicates=int(doc["duplicates"]), complete=bool(doc["complete"]),
                     log_completeness=str(doc["log_completeness"]), by_day=frames["by_day"],
                     controls=frames["controls"], facets=facets, span_text=str(doc.get("span_text", "")),
                     span_warning=doc.get("span_warning"))


# ---------------------------------------------------------------------------------------------- at start


def extent_days(operations: Store) -> tuple[date, date]:
    """First and last day with operations (falls back to the last 90 days): the period the app opens with."""
    lo, hi = time_extent(operations, "occurred_at")
    ts = parse_timestamps(pd.Series([lo, hi], dtype=object))
    if ts.isna().any():
        today = datetime.now(timezone.utc).date()
        return today - timedelta(days=89), today
    return ts.iloc[0].date(), ts.iloc[1].date()


@dataclass(frozen=True)
class Started:
    """What ``serve`` found as the server started (:func:`at_start`): the opening period and the sources'
    fingerprint print then, so the first visitor after a (re)start need not wait for either."""

    config_path: str | None
    start: date
    end: date
    print: str
    taken_at: datetime


STARTED: list[Started] = []
"""At most one: filled by :func:`at_start` in the server's process before Streamlit starts, read once."""


def at_start(config_path: str | None) -> Started | None:
    """The opening period and the sources' print, taken as the server starts; None when anything fails (the
    first visitor then takes them, and sees any error in words)."""
    from evidence_app.config.settings import load_config
    from evidence_app.ingest.dataset import open_stores
    from evidence_app.persistence.snapshot import fingerprint, print_of
    from evidence_app.reconcile import Period

    try:
        config = load_config(config_path)
        stores = open_stores(config)
        start, end = extent_days(stores[0])
        taken = datetime.now(timezone.utc)
        found = Started(config_path, start, end, print_of(fingerprint(config, Period(start, end), stores)), taken)
        for store in stores:
            store.engine.dispose()
    except Exception:  # noqa: BLE001 - never a reason not to start
        return None
    STARTED[:] = [found]
    return found
