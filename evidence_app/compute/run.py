"""The partitioned core's entry point: config + period → the same (Dataset, Reconciliation) for any partition count."""

from __future__ import annotations

from datetime import datetime
from typing import Iterator, Sequence, TypeVar

from evidence_app.assess.controls import check_controls
from evidence_app.assess.pipeline import evaluate as evaluate_whole
from evidence_app.compute.aggregate import FiguresTask, View, ViewFigures, combined_figures, figures_of, \
    first_failures, partition_figures
from evidence_app.compute.executor import Executor, map_partitions
from evidence_app.compute.merge import merge
from evidence_app.compute.partition import run_partition
from evidence_app.compute.routing import route
from evidence_app.config.settings import Config
from evidence_app.errors import ConfigError
from evidence_app.ingest.dataset import Dataset, Progress
from evidence_app.ingest.sources import Store
from evidence_app.reconcile import Period, Reconciliation
from evidence_app.reconcile.rules import TraceMode

R = TypeVar("R")

MAX_PARTITIONS = 4096
"""More partitions than this would only add queries: a partition's cost is dominated by its reads."""


def evaluate(config: Config, period: Period, progress: Progress | None = None,
             stores: tuple[Store, Store] | None = None, partitions: int = 1,
             executor: Executor | None = None) -> tuple[Dataset, Reconciliation]:
    """Load and reconcile in ``partitions`` exact partitions (1 without an executor: today's single pass,
    unchanged), run by ``executor`` (default: one after another in this process; a cluster runs even one
    partition there). Same numbers for every count."""
    _check_count(partitions)
    if partitions == 1 and executor is None:
        return evaluate_whole(config, period, progress, stores)
    check_controls(config.controls)
    routing = route(config, period, partitions, stores)
    results = map_partitions(run_partition, routing.specs, executor)
    return merge(config, period, routing, _counted(results, progress))


def evaluate_figures(config: Config, period: Period, views: Sequence[View], progress: Progress | None = None,
                     stores: tuple[Store, Store] | None = None, partitions: int = 1,
                     executor: Executor | None = None, summary_at: datetime | None = None) -> ViewFigures:
    """What ``coverage`` (``views``), ``check`` and ``remediation`` (the summary at ``summary_at``) show, by the
    aggregate path: each of the ``partitions`` (one too, for an executor of its own) counts its slice and sends back
    only its figures; the client adds them up and never holds the period's records. Clause 10 (traces = "all")
    looks across every partition's operations: the full merge does it."""
    _check_count(partitions)
    if config.worker_logs.traces == TraceMode.ALL or (partitions == 1 and executor is None):
        return figures_of(*evaluate(config, period, progress, stores, partitions, executor), views, summary_at)
    check_controls(config.controls)
    routing = route(config, period, partitions, stores)
    first = first_failures(routing) if summary_at is not None else None
    tasks = [FiguresTask(spec, tuple(tuple(v) for v in views), summary_at, first) for spec in routing.specs]
    return combined_figures(config, period, routing,
                            _counted(map_partitions(partition_figures, tasks, executor), progress), views, summary_at)


def _check_count(partitions: object) -> None:
    """A partition count from 1 to :data:`MAX_PARTITIONS`, else the config error naming it."""
    if not isinstance(partitions, int) or isinstance(partitions, bool) or not 1 <= partitions <= MAX_PARTITIONS:
        raise ConfigError(f"compute.partitions: must be a whole number from 1 to {MAX_PARTITIONS}, got {partitions!r}")


def _counted(results: Iterator[R], progress: Progress | None) -> Iterator[R]:
    """The results as they come, each reported to ``progress`` as one partition done."""
    for result in results:
        if progress is not None:
            progress("partitions", 1)
        yield result
