"""``[compute]`` (and ``--partitions``/``--scheduler``) → the partitioned core's entry point: how many partitions, and
where they run (a Dask cluster when a scheduler is named, else this process). The CLI, the pack and the web app
take their numbers through here."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from evidence_app.compute.aggregate import View, ViewFigures, figures_of
from evidence_app.compute.dask_executor import executor_for
from evidence_app.compute.run import evaluate, evaluate_figures
from evidence_app.config.settings import Config
from evidence_app.ingest.dataset import Dataset, Progress
from evidence_app.ingest.sources import Store
from evidence_app.reconcile import Period, Reconciliation
from evidence_app.reconcile.rules import TraceMode


def evaluate_configured(config: Config, period: Period, progress: Progress | None = None,
                        stores: tuple[Store, Store] | None = None) -> tuple[Dataset, Reconciliation]:
    """Load and reconcile as ``config.compute`` says: the same numbers for every partition count and executor."""
    compute = config.compute
    executor = executor_for(compute, progress)
    if executor is not None:
        executor.check()  # the cluster first: nothing is read when it cannot run the partitions
    # An executor of its own (Dask) tells the partitions finishing to ``progress`` itself; the in-process run is told
    # by ``evaluate`` (one count per partition, never both).
    return evaluate(config, period, progress if executor is None else _without_partitions(progress), stores,
                    partitions=compute.partitions, executor=executor)


def figures_configured(config: Config, period: Period, views: Sequence[View], progress: Progress | None = None,
                       stores: tuple[Store, Store] | None = None, summary_at: datetime | None = None) -> ViewFigures:
    """What ``coverage`` (``views``), ``check`` and ``remediation`` (the summary at ``summary_at``) show, computed
    as ``config.compute`` says: partitioned (or on a cluster), by the aggregate path, the period's records never
    held here; in one pass, and with clause 10 (traces = "all", which looks across every partition), from the
    reconciliation held whole. The same figures either way."""
    compute = config.compute
    if config.worker_logs.traces == TraceMode.ALL or (compute.partitions == 1 and not compute.scheduler):
        return figures_of(*evaluate_configured(config, period, progress, stores), views, summary_at)
    executor = executor_for(compute, progress)
    if executor is not None:
        executor.check()  # the cluster first: nothing is read when it cannot run the partitions
    return evaluate_figures(config, period, views, progress if executor is None else _without_partitions(progress),
                            stores, partitions=compute.partitions, executor=executor, summary_at=summary_at)


def _without_partitions(progress: Progress | None) -> Progress | None:
    """``progress`` minus the partition counts (told by the executor that runs them)."""
    if progress is None:
        return None
    return lambda stage, n: None if stage == "partitions" else progress(stage, n)


__all__ = ["evaluate_configured", "figures_configured"]
