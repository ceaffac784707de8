"""Where partitions run: the seam between the partitioned core and any engine (in-process here; Dask elsewhere)."""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Sequence

from evidence_app.columns.memory import release_freed
from evidence_app.compute.partition import PartitionResult, PartitionSpec

PartitionFn = Callable[[PartitionSpec], PartitionResult]
"""A picklable top-level function run once per partition (:func:`~evidence_app.compute.partition.run_partition`)."""
Executor = Callable[[PartitionFn, Sequence[PartitionSpec]], Iterable[PartitionResult]]
"""Runs ``fn`` on every spec and yields the results in the specs' order (a Dask executor has this signature)."""


def in_process(fn: PartitionFn, specs: Sequence[PartitionSpec]) -> Iterator[PartitionResult]:
    """One partition after another in this process: each result is yielded before the next partition is read, and
    the partition's loaded frames are given back first, so memory holds one partition's transients at a time."""
    for spec in specs:
        result = fn(spec)
        release_freed()
        yield result
        del result


def map_partitions(fn: PartitionFn, specs: Sequence[PartitionSpec],
                   executor: Executor | None = None) -> Iterator[PartitionResult]:
    """``fn`` over every spec through ``executor`` (default :func:`in_process`), results in the specs' order."""
    run = executor or in_process
    for expected, result in zip(specs, run(fn, specs), strict=True):
        if result.index != expected.index:
            raise RuntimeError(f"executor returned partition {result.index} where {expected.index} was due")
        yield result
