"""Exact reconciliation in partitions (issue 22): a narrow routing pre-pass groups tenants that share request ids,
each partition reads only its tenants' rows and reconciles them with the core, and the results merge into the very
``Dataset`` and ``Reconciliation`` the unpartitioned run gives. ``partitions = 1`` is today's path, unchanged."""

from evidence_app.compute.executor import Executor, in_process, map_partitions
from evidence_app.compute.methodology import partitioning_sentence
from evidence_app.compute.partition import PartitionResult, PartitionSpec, run_partition
from evidence_app.compute.plan import PartitionPlan
from evidence_app.compute.run import evaluate

__all__ = ["Executor", "PartitionPlan", "PartitionResult", "PartitionSpec", "evaluate", "in_process",
           "map_partitions", "partitioning_sentence", "run_partition"]
