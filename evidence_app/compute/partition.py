"""One partition: its tenants' rows read from the stores (the tenant set pushed into SQL), reconciled by the core.

``run_partition`` is a picklable top-level function of plain data, so any executor (this process, a Dask worker on
another machine) can run it; it opens its own read-only stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evidence_app.assess.pipeline import gc_paused
from evidence_app.columns.order import TextIds
from evidence_app.config.settings import Config, load_config
from evidence_app.ingest.dataset import Dataset, SourceReport, load_dataset, open_stores
from evidence_app.ingest.extraction import QueryRecord
from evidence_app.ingest.logpush import LogScan
from evidence_app.ingest.sources import TenantFilter
from evidence_app.issues import DataIssue
from evidence_app.reconcile import Period, Reconciliation, reconcile


@dataclass(frozen=True)
class PartitionSpec:
    """What one partition reads and reconciles: plain data, picklable."""

    index: int
    """0-based position among the partitions (results merge in this order)."""
    count: int
    """How many partitions the period was split into."""
    config_path: str
    """The evidence.toml a worker loads when ``config`` is not sent along."""
    period: Period
    operations: TenantFilter
    """This partition's tenants as the operations store holds them (pushed into its SELECT)."""
    audit: TenantFilter
    """This partition's tenants as the audit store holds them."""
    tenants: tuple[str | None, ...] = ()
    """Its canonical tenants (None: records without one)."""
    failures: pd.DataFrame | None = None
    """The failure events routed here (the logs are read once, by the client)."""
    replays: pd.DataFrame | None = None
    """The replay events of those failures."""
    config: Config | None = None
    """The configuration itself (in-process); None: load ``config_path``."""
    top_up: tuple[bool, bool] = (True, True)
    """Whether the request-id top-up beyond the window can find any of its (operations, audit) rows."""
    text_ids: TextIds = TextIds()
    """Which sides' ids the whole period orders by code point (the routing pre-pass decided it for all)."""


@dataclass(frozen=True)
class PartitionResult:
    """One partition reconciled: what the merge needs to rebuild the unpartitioned ``Dataset`` and
    ``Reconciliation``."""

    index: int
    operations: pd.DataFrame
    """What reconciling added to the in-period operations (state, audit_id, …), in ``Reconciliation.operations``
    order; their loaded fields are in ``loaded_operations`` (sent once, not twice)."""
    rows: pd.DataFrame
    """What reconciling added to the in-period audit rows (status, operation_id, …), likewise."""
    failures: pd.DataFrame
    """Reconciled in-period failure events; ``linked_op`` indexes ``loaded_operations``."""
    loaded_operations: pd.DataFrame
    """Every operation read (``Dataset.operations`` of this partition: the window, then the request-id top-up)."""
    loaded_audit: pd.DataFrame
    rejected: dict[str, pd.DataFrame]
    issues: tuple[DataIssue, ...]
    """The canonical frames' input problems (each partition's own; the merge adds them up)."""
    sources: tuple[SourceReport, ...]
    queries: tuple[QueryRecord, ...] = field(default=())


def run_partition(spec: PartitionSpec) -> PartitionResult:
    """Read this partition's rows and reconcile them with the core (the same functions as the unpartitioned run)."""
    data, recon = reconcile_partition(spec)
    return PartitionResult(
        index=spec.index, operations=_computed(recon.operations, data.operations),
        rows=_computed(recon.rows, data.audit), failures=recon.failures,
        loaded_operations=data.operations, loaded_audit=data.audit, rejected=data.rejected,
        issues=data.issues, sources=data.sources, queries=data.queries,
    )


def reconcile_partition(spec: PartitionSpec) -> tuple[Dataset, Reconciliation]:
    """This partition's rows read from the stores and reconciled by the core, as the partition holds them (without
    clause 10's tracing, which looks across every partition's operations)."""
    config = spec.config if spec.config is not None else load_config(spec.config_path)
    logs = _routed_logs(spec)
    stores = open_stores(config)  # its own connections: a worker on another machine shares nothing with the client
    try:
        with gc_paused():
            data = load_dataset(config, spec.period, None, stores, (spec.operations, spec.audit), logs, spec.top_up)
            recon = reconcile(data.operations, data.audit, logs.failures, logs.replays, config.matching, spec.period,
                              text_ids=spec.text_ids)
    finally:
        for store in stores:
            store.engine.dispose()
    return data, recon


def _computed(reconciled: pd.DataFrame, loaded: pd.DataFrame) -> pd.DataFrame:
    """The columns reconciling added (the loaded ones travel once, in the loaded frame)."""
    return reconciled[[c for c in reconciled.columns if c not in loaded.columns]].reset_index(drop=True)


def _routed_logs(spec: PartitionSpec) -> LogScan:
    """The partition's failure and replay events as a log scan (files and counts stay with the client's scan)."""
    failures = spec.failures if spec.failures is not None else pd.DataFrame()
    replays = spec.replays if spec.replays is not None else pd.DataFrame()
    return LogScan(failures=failures, replays=replays, files=(), lines_read=0, skipped_log_lines=0, issues=())
