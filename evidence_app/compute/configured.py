"""``[compute]`` (and ``--partitions``/``--scheduler``) → the partitioned core's entry point: how many partitions, and
where they run (a Dask cluster when a scheduler is named, else this process). The CLI, the pack and the web app
take their numbers through here."""

from __future__ import annotations

from evidence_app.compute.dask_executor import executor_for
from evidence_app.compute.run import evaluate
from evidence_app.config.settings import Config
from evidence_app.ingest.dataset import Dataset, Progress
from evidence_app.ingest.sources import Store
from evidence_app.reconcile import Period, Reconciliation


def evaluate_configured(config: Config, period: Period, progress: Progress | None = None,
                        stores: tuple[Store, Store] | None = None) -> tuple[Dataset, Reconciliation]:
    """Load and reconcile as ``config.compute`` says: the same numbers for every partition count and executor."""
    compute = config.compute
    return evaluate(config, period, progress, stores, partitions=compute.partitions,
                    executor=executor_for(compute, progress))


__all__ = ["evaluate_configured"]
