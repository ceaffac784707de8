"""Partition results → the one ``Dataset`` and ``Reconciliation`` the unpartitioned run gives (same frames, same
order, same issues), so every view (coverage, exceptions, replay, remediation, samples, the pack) is unchanged."""

from __future__ import annotations

from typing import Iterable

from evidence_app.compute.partition import PartitionResult
from evidence_app.compute.routing import Routing
from evidence_app.config.settings import Config
from evidence_app.ingest.dataset import Dataset
from evidence_app.reconcile import Period, Reconciliation


def merge(config: Config, period: Period, routing: Routing,
          results: Iterable[PartitionResult]) -> tuple[Dataset, Reconciliation]:
    """Stack the partitions' frames in the single pass's order and add up what they counted."""
    raise NotImplementedError("merge: being written")
