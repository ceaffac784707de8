"""Input problems, counted: what could not be read or interpreted, how often, and what was done with it.

Nothing is dropped silently: every reader and rule that sets a record aside reports it here, and every
view (CLI warnings, the Sources page, the pack's methodology) lists these.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Iterable

_EXAMPLES = 5
STORE_SOURCES = frozenset({"operations", "audit"})
"""Sources whose records have no order of their own: a database returns rows in whatever order its plan gives."""


@dataclass(frozen=True)
class DataIssue:
    """A class of input problems found in one source, counted, with a few example ids."""

    source: str
    """``operations``, ``audit`` or ``worker_logs``."""
    kind: str
    """e.g. ``unparseable_timestamp``, ``null_value``, ``unknown_action``, ``skipped_log_line``."""
    column: str
    count: int
    examples: tuple[str, ...]
    effect: str
    """What the product did with the affected records, in words."""

    def describe(self) -> str:
        ex = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        col = f" in {self.column}" if self.column else ""
        return f"{self.source}: {self.count} × {self.kind}{col}{ex}: {self.effect}"


def issue(source: str, kind: str, column: str, ids: Iterable[object], effect: str) -> DataIssue | None:
    """Build an issue from the affected ids, or None when there are none. A store's examples are its smallest ids
    (in code-point order): a function of the records, not of the order a database returned them in, so a read split
    into partitions names the same ones (:func:`merged`); log positions keep the order of the files."""
    ids = [str(i) for i in ids]
    if not ids:
        return None
    examples = examples_of(ids) if source in STORE_SOURCES else tuple(ids[:_EXAMPLES])
    return DataIssue(source, kind, column, len(ids), examples, effect)


def examples_of(ids: Iterable[str]) -> tuple[str, ...]:
    """The example ids an issue names: the few smallest."""
    return tuple(heapq.nsmallest(_EXAMPLES, ids))


def merged(parts: Iterable[DataIssue]) -> DataIssue:
    """One issue from the same issue found in disjoint parts of the records: counts added, examples re-chosen."""
    parts = list(parts)
    first = parts[0]
    return DataIssue(first.source, first.kind, first.column, sum(p.count for p in parts),
                     examples_of(e for p in parts for e in p.examples), first.effect)
