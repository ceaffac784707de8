"""Config + period → sources read → reconciled: the one path every view (CLI, UI, pack) takes to its numbers."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

from evidence_app.assess.controls import check_controls
from evidence_app.config.settings import Config
from evidence_app.ingest.dataset import Dataset, Progress, load_dataset
from evidence_app.ingest.sources import Store
from evidence_app.reconcile import Period, Reconciliation, reconcile
from evidence_app.reconcile.rules import TraceMode


def evaluate(config: Config, period: Period, progress: Progress | None = None,
             stores: tuple[Store, Store] | None = None) -> tuple[Dataset, Reconciliation]:
    """Load and reconcile: the one path every view (CLI, UI, pack) takes to its numbers."""
    check_controls(config.controls)
    with gc_paused():
        data = load_dataset(config, period, progress, stores)
        return data, reconcile_dataset(config, data, period)


def reconcile_dataset(config: Config, data: Dataset, period: Period) -> Reconciliation:
    """Reconcile what was loaded (by ``evaluate``, or from the web app's snapshot of it)."""
    check_controls(config.controls)
    with gc_paused():
        invocations = data.logs.invocations if config.worker_logs.traces == TraceMode.ALL else None
        return reconcile(data.operations, data.audit, data.logs.failures, data.logs.replays, config.matching, period,
                         invocations)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Millions of short-lived row tuples make CPython's cyclic GC rescan the heap again and again
    (quadratic-looking slowdowns at 1 M rows). Nothing built here forms cycles, so pause it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
