"""How a windowed SELECT reads its table: by a full scan, or as the database's planner picks (issue 21).

On a table whose rows lie in no time order (keyed by UUID, bulk-loaded, merged), reading most of it through the
time index visits the rows scattered over the file, about twice as slow as a scan; a day out of a year is
still best read through the index. The choice is made here from cheap statistics — whether an index leads with
the time column, and the window against the table's time range (MIN/MAX, read through that index) — and said
in words, so the extraction record tells an auditor which plan was asked for and why. Rows are never changed:
the hint only tells the database how to find them (``NOT INDEXED`` on SQLite, ``USE INDEX ()`` on
MySQL/MariaDB), the predicate stays the same. PostgreSQL gets no hint: its planner already scans when a window
covers most of a table in random order (its correlation statistics), as measured (bench/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FromClause

from evidence_app.formatting import percent
from evidence_app.ingest.canonical import parse_timestamps

if TYPE_CHECKING:
    from evidence_app.ingest.sources import Store, Window

SCAN_SHARE = 0.5
"""A window covering at least this share of the table's time range is read by a scan: most of the table."""
HINTS = {"sqlite": "NOT INDEXED", "mysql": "USE INDEX ()", "mariadb": "USE INDEX ()"}
"""How each dialect is told to read a table without any index (the same rows, found by a scan)."""


@dataclass(frozen=True)
class Plan:
    """How to read one table's window, and why, in a sentence for the extraction record."""

    scan: bool
    """True: the SELECT names the table with the dialect's no-index hint (a full scan, filtered)."""
    reason: str


def decide(lo: pd.Timestamp | None, hi: pd.Timestamp | None, start: pd.Timestamp, end: pd.Timestamp,
           hint: str | None) -> Plan:
    """The rule: scan when the window [start, end) covers at least SCAN_SHARE of the table's time range
    [lo, hi]; otherwise (a small part, an empty table, a range that does not read as times) the planner's choice."""
    if hint is None:
        return Plan(False, "the database's own plan (no index hint on this database: its planner weighs the "
                           "table's physical order itself)")
    if lo is None and hi is None:
        return Plan(False, "the database's own plan (the table has no times: empty)")
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return Plan(False, "the database's own plan (the table's time range does not read as times)")
    share = covered(lo, hi, start, end)
    where = f"the window covers {percent(share, 0)} of the table's time range {_day(lo)} … {_day(hi)}"
    if share >= SCAN_SHARE:
        return Plan(True, f"read by a full scan ({hint}), not through the time index: {where} "
                          f"(at least {percent(SCAN_SHARE, 0)})")
    return Plan(False, f"the database's own plan (the time index may serve it): {where} "
                       f"(under {percent(SCAN_SHARE, 0)})")


def covered(lo: pd.Timestamp, hi: pd.Timestamp, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Share of [lo, hi] inside [start, end): 0 to 1 (a single instant: 1 inside, 0 outside)."""
    if hi <= lo:
        return 1.0 if start <= lo < end else 0.0
    overlap = min(end, hi) - max(start, lo)
    return max(0.0, overlap / (hi - lo))


def _day(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S")


def choose(store: Store, time_field: str, window: Window,
           extent: Callable[[Store, str], tuple[object, object]]) -> Plan:
    """The plan for reading ``window`` from ``store``: its statistics gathered (``extent`` reads MIN and MAX),
    then :func:`decide`. Without an index leading with the time column there is nothing to avoid."""
    hint = HINTS.get(store.dialect)
    if hint is None:
        return decide(None, None, _ts(window.start), _ts(window.end), None)
    column = store.columns[time_field]
    if not _time_indexed(store, column):
        return Plan(False, f"a full scan by the database's own plan (no index leads with {column})")
    raw_lo, raw_hi = extent(store, time_field)
    if raw_lo is None and raw_hi is None:
        return decide(None, None, _ts(window.start), _ts(window.end), hint)
    lo, hi = parse_timestamps(pd.Series([raw_lo, raw_hi], dtype=object))
    return decide(lo, hi, _ts(window.start), _ts(window.end), hint)


def _ts(moment: object) -> pd.Timestamp:
    """A window bound as a UTC timestamp (naive means UTC, as everywhere in the tool)."""
    ts = pd.Timestamp(moment)
    return ts.tz_convert("UTC") if ts.tzinfo else ts.tz_localize("UTC")


def _time_indexed(store: Store, column: str) -> bool:
    """Does an index (or the primary key) lead with the time column? Unknown (the catalog unreadable): yes."""
    schema, _, name = store.config.table.rpartition(".")
    try:
        insp = sa.inspect(store.engine)
        indexes = insp.get_indexes(name, schema=schema or None)
        key = insp.get_pk_constraint(name, schema=schema or None).get("constrained_columns") or []
    except SQLAlchemyError:
        return True
    leading = [ix["column_names"][0] for ix in indexes if ix.get("column_names")] + key[:1]
    return any(c is not None and c.lower() == column.lower() for c in leading)


def planned(stmt: sa.Select, table: sa.TableClause, plan: Plan) -> sa.Select:
    """``stmt`` reading ``table`` as the plan says (unchanged unless it scans)."""
    return stmt.select_from(Unindexed(table)) if plan.scan else stmt


class Unindexed(FromClause):
    """A table named with its dialect's no-index hint in the FROM clause; the statement keeps its parameters and
    its columns (the table it wraps is hidden from the FROM list, so it is named once)."""

    __visit_name__ = "unindexed"
    inherit_cache = False

    def __init__(self, table: sa.TableClause) -> None:
        self.table = table

    @property
    def _hide_froms(self):  # noqa: ANN202 - SQLAlchemy's protocol
        return [self.table]

    @property
    def _from_objects(self):  # noqa: ANN202 - SQLAlchemy's protocol
        return [self]


@compiles(Unindexed)
def _compile_unindexed(element: Unindexed, compiler, **kw) -> str:  # noqa: ANN001 - SQLAlchemy's compiler
    hint = HINTS.get(compiler.dialect.name)
    text = compiler.process(element.table, **kw)
    return f"{text} {hint}" if hint else text
