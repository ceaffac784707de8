"""Everything one evidence pack shows, gathered from the core once (the PDF only lays it out)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from evidence_app import __version__
from evidence_app.assess.backlog import Backlog, open_backlog
from evidence_app.assess.controls import ControlResult, evaluate_controls
from evidence_app.assess.log_health import LogHealth, log_health
from evidence_app.assess.sampling import SamplePlan, draw, plan_sample
from evidence_app.assess.span import DataSpan, data_span
from evidence_app.assess.summary import Summary, error_classes, summarize
from evidence_app.compute.configured import evaluate_configured
from evidence_app.config.settings import Config
from evidence_app.config.thresholds import ControlThresholds, parse_controls
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
class DimensionViews:
    """One dimension's coverage as the pack shows it: its worst :data:`PACK_LINES` values, two ways."""

    by_coverage: BoundedView
    """Lowest coverage after replay first: the section's table (and, for operators, its bar chart)."""
    by_missing: BoundedView
    """Most missing operations first: shown too when :attr:`by_coverage` folded some values away."""


@dataclass(frozen=True)
class PackViews:
    """Every bounded view the pack shows, computed once when it is gathered (the PDF only lays them out)."""

    operator: DimensionViews
    """Coverage per operator (section 3.1)."""
    tenant: DimensionViews
    """Coverage per tenant (section 3.2)."""
    route: DimensionViews
    """Coverage per route (section 3.3)."""
    heat_map: BoundedView
    """Day × operator coverage as logged, operators ranked by coverage as logged over the period (section 3.5)."""
    remediation: BoundedView
    """The routes most in need of remediation, not swept first (section 5)."""


@dataclass(frozen=True)
class PackContents:
    """Everything one evidence pack shows and attaches, for one period and scope, gathered from the core once."""

    config: Config
    """The configuration the sources were read with."""
    config_sha256: str
    """SHA-256 of the configuration file's bytes, printed on the cover and recorded in the manifest."""
    period: Period
    """The UTC calendar days covered, inclusive."""
    scope: Scope
    """The tenants, operators, routes or actions the pack is limited to (none: everything)."""
    generated_at: datetime
    """When the pack was built: ages are measured and fix times judged at this moment."""
    data: Dataset
    """Everything read for the period: canonical frames, sources, queries as sent, input problems."""
    recon: Reconciliation
    """The reconciliation, narrowed to :attr:`scope`."""
    summary: Summary
    """The headline figures (totals, replay, remediation, accuracy), the same as the CLI's and the web app's."""
    controls: list[ControlResult]
    """Each mapped control's result and the figures behind it."""
    by_operator: pd.DataFrame
    """Coverage per operator, every operator (coverage_by_operator.csv)."""
    by_route: pd.DataFrame
    """Coverage per route, every route (coverage_by_route.csv)."""
    by_tenant: pd.DataFrame
    """Coverage per tenant, every tenant (coverage_by_tenant.csv)."""
    by_day: pd.DataFrame
    """Coverage per day of the period (the trend chart and the daily figures)."""
    by_day_operator: pd.DataFrame
    """Coverage per day and operator (the heat map's cells before they are bounded)."""
    views: PackViews
    """The bounded views the pack's charts and tables show."""
    exceptions: pd.DataFrame
    """Every operation not covered and every orphan, duplicate, inaccurate or incomplete row (exceptions.csv)."""
    error_classes: pd.DataFrame
    """Failure events by error class."""
    sample_plan: SamplePlan
    """How the re-performance sample was sized and drawn (confidence, tolerable deviation, seed)."""
    sample: pd.DataFrame
    """The operations drawn for re-performance, in draw order (sample.csv)."""
    thresholds: ControlThresholds
    """The control checks' thresholds in force (the defaults overridden by [controls])."""
    log_health: LogHealth
    """The Worker log source's health for the period, as ``evidence-app logs`` reports it (Log completeness)."""
    span: DataSpan
    """The period against the data: each source's span in it, days without any operation, days outside every
    source (the cover's warning)."""
    backlog: Backlog
    """Failure events still open at generation (pending, retrying), oldest against the limit in force."""
    files: tuple[FileRecord, ...] = ()
    """Every source file read (D1 dumps, Logpush files): name, size, SHA-256."""
    tools: dict[str, str] | None = None
    """Versions of this tool and the libraries that shaped its queries."""
    version: str = __version__
    """This tool's version, the pack's generator."""
    access_limit: str | None = None
    """Set when a user with a limited grant built the pack in the web app: who, and the tenants/days."""


def gather(config: Config, period: Period, scope: Scope, generated_at: datetime,
           sample_seed: int | None = None, progress=None, stores=None,  # noqa: ANN001
           access_limit: str | None = None) -> PackContents:
    data, full = evaluate_configured(config, period, progress, stores)
    recon = apply_scope(full, scope)
    summary = summarize(data, recon, generated_at)
    limits = parse_controls(config.controls)
    ops = recon.operations
    ids = sorted(ops["id"].tolist())  # sorted once: the sample's own sorts then pass over it in linear time
    plan = plan_sample(ids, limits.sample_confidence, limits.sample_tolerable_deviation,
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
        views=_views(tables, by_day_operator, summary.remediation.routes),
        exceptions=exceptions_table(recon),
        error_classes=error_classes(recon),
        sample_plan=plan,
        sample=sample,
        thresholds=limits,
        log_health=log_health(data, recon, period),
        span=data_span(data),
        backlog=open_backlog(recon.failures, generated_at, config.controls),
        files=file_records([(f"{s.where}.d1_dump", s.d1_dump) for c in (config.audit, config.operations)
                            for s in c.leaves if s.d1_dump is not None], data.logs.files, data.logs.objects),
        tools=tool_versions(),
        access_limit=access_limit,
    )


def _views(tables: dict[str, pd.DataFrame], by_day_operator: pd.DataFrame, remediation: pd.DataFrame) -> PackViews:
    """Every bounded view the pack shows, computed once here (the PDF only lays them out)."""
    def both(dimension: str) -> DimensionViews:
        table = tables[dimension]
        return DimensionViews(by_coverage=bounded_view(table, dimension, PACK_LINES, "coverage"),
                              by_missing=bounded_view(table, dimension, PACK_LINES, "missing"))

    return PackViews(operator=both("operator"), tenant=both("tenant"), route=both("route"),
                     heat_map=bounded_view(by_day_operator, "operator", PACK_LINES, "coverage_logged"),
                     remediation=bounded_remediation(remediation, PACK_LINES))
