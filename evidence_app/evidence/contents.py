"""Everything one evidence pack shows, gathered from the core once (the PDF only lays it out)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from evidence_app import __version__
from evidence_app.assess.controls import (
    ControlResult,
    evaluate_controls,
    load_catalogue,
    thresholds,
)
from evidence_app.assess.pipeline import evaluate
from evidence_app.assess.sampling import SamplePlan, draw, plan_sample
from evidence_app.assess.summary import Summary, error_classes, summarize
from evidence_app.config.settings import Config
from evidence_app.ingest.dataset import Dataset
from evidence_app.ingest.extraction import FileRecord, file_records, tool_versions
from evidence_app.reconcile import Period, Reconciliation, Scope, apply_scope
from evidence_app.reconcile.bounded import BoundedView, bounded_remediation, bounded_view
from evidence_app.reconcile.coverage import coverage_table, exceptions_table

PACK_LINES = 15
"""Each per-operator, per-tenant and per-route chart and table in the pack names at most this many (the worst)
and folds the rest into one all-others line; the full tables are the coverage_by_*.csv extracts."""
BOUNDED_DIMENSIONS = ("operator", "tenant", "route")
"""The dimensions whose coverage the pack shows bounded, each by coverage and by missing count."""


@dataclass(frozen=True)
class PackContents:
    config: Config
    config_sha256: str
    period: Period
    scope: Scope
    generated_at: datetime
    data: Dataset
    recon: Reconciliation
    summary: Summary
    controls: list[ControlResult]
    by_operator: pd.DataFrame
    by_route: pd.DataFrame
    by_tenant: pd.DataFrame
    by_day: pd.DataFrame
    by_day_operator: pd.DataFrame
    exceptions: pd.DataFrame
    error_classes: pd.DataFrame
    sample_plan: SamplePlan
    sample: pd.DataFrame
    thresholds: dict
    """The control rules' thresholds in force (catalogue defaults overridden by [controls])."""
    threshold_defaults: dict
    """The catalogue's defaults, so the pack can say which values were overridden."""
    files: tuple[FileRecord, ...] = ()
    """Every source file read (D1 dumps, Logpush files): name, size, SHA-256."""
    tools: dict | None = None
    """Versions of this tool and the libraries that shaped its queries."""
    version: str = __version__
    access_limit: str | None = None
    """Set when a user with a limited grant built the pack in the web app: who, and the tenants/days."""
    views: dict[tuple[str, str], BoundedView] | None = None
    """(dimension, ordering) → the bounded view the pack shows: operator, tenant and route by "coverage" and
    "missing", ("day × operator", "coverage_logged") for the heat map, ("remediation", "remediation")."""

    def view(self, dimension: str, order: str) -> BoundedView:
        return (self.views or {})[(dimension, order)]


def gather(config: Config, period: Period, scope: Scope, generated_at: datetime,
           sample_seed: int | None = None, progress=None, stores=None,  # noqa: ANN001
           access_limit: str | None = None) -> PackContents:
    data, full = evaluate(config, period, progress, stores)
    recon = apply_scope(full, scope)
    summary = summarize(data, recon, generated_at)
    _, defaults = load_catalogue()
    rules = thresholds(config.controls, defaults)
    ops = recon.operations
    ids = sorted(ops["id"].tolist())  # sorted once: the sample's own sorts then pass over it in linear time
    plan = plan_sample(ids, rules["sample_confidence"], rules["sample_tolerable_deviation"],
                       salt=f"{period.start}:{period.end}:{scope.label()}", seed=sample_seed)
    picked = draw(ids, plan)
    sample = ops.set_index("id").loc[picked].reset_index() if picked else ops.head(0)
    tables = {d: coverage_table(recon, [d]) for d in BOUNDED_DIMENSIONS}
    by_day_operator = coverage_table(recon, ["day", "operator"])
    return PackContents(
        config=config,
        config_sha256=hashlib.sha256(Path(config.path).read_bytes()).hexdigest(),
        period=period,
        scope=scope,
        generated_at=generated_at,
        data=data,
        recon=recon,
        summary=summary,
        controls=evaluate_controls(summary, recon, config.controls),
        by_operator=tables["operator"],
        by_route=tables["route"],
        by_tenant=tables["tenant"],
        by_day=coverage_table(recon, ["day"]),
        by_day_operator=by_day_operator,
        exceptions=exceptions_table(recon),
        error_classes=error_classes(recon),
        sample_plan=plan,
        sample=sample,
        thresholds=rules,
        threshold_defaults=defaults,
        files=file_records([(f"{s.key}.d1_dump", s.d1_dump) for s in (config.audit, config.operations)
                            if s.d1_dump is not None], data.logs.files),
        tools=tool_versions(),
        access_limit=access_limit,
        views=_views(tables, by_day_operator, summary.remediation.routes),
    )


def _views(tables: dict[str, pd.DataFrame], by_day_operator: pd.DataFrame,
           remediation: pd.DataFrame | None) -> dict[tuple[str, str], BoundedView]:
    """Every bounded view the pack shows, computed once here (the PDF only lays them out)."""
    views = {(d, order): bounded_view(tables[d], d, PACK_LINES, order)
             for d in BOUNDED_DIMENSIONS for order in ("coverage", "missing")}
    views[("day × operator", "coverage_logged")] = bounded_view(by_day_operator, "operator", PACK_LINES,
                                                                "coverage_logged")
    if remediation is not None:
        views[("remediation", "remediation")] = bounded_remediation(remediation, PACK_LINES)
    return views
