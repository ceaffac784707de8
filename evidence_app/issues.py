"""Input problems, counted: what could not be read or interpreted, how often, and what was done with it.

Nothing is dropped silently: every reader and rule that sets a record aside reports it here, and every
view (CLI warnings, the Sources page, the pack's methodology) lists these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

_EXAMPLES = 5


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
    """Build an issue from the affected ids, or None when there are none."""
    ids = [str(i) for i in ids]
    if not ids:
        return None
    return DataIssue(source, kind, column, len(ids), tuple(ids[:_EXAMPLES]), effect)
