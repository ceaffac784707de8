"""The cheap probe of an audited store: one aggregate SELECT, through the store's read-only engine.

Why here: every statement sent to an audited store is written in ``ingest/`` (read-only engines, bounded
queries); the web app's snapshot asks this module what a store looks like now instead of writing its own SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from evidence_app.ingest.sources import Store, Window, time_predicate

__all__ = ["StoreProbe", "probe_store"]


@dataclass(frozen=True)
class StoreProbe:
    """A store's table summed up by one aggregate query: raw database values, compared, never parsed."""

    rows: int
    """All rows in the table."""
    rows_in_window: int
    """Rows the window's time predicate admits (all rows when there is no window)."""
    max_id: object
    """The largest id (hex text on SQLite, whose text may not be UTF-8)."""
    max_time: object
    """The latest time column value (hex text on SQLite)."""
    min_time: object
    """The earliest time column value (hex text on SQLite)."""


def probe_store(store: Store, time_field: str, window: Window | None) -> StoreProbe:
    """Count, rows in the window, largest id, latest and earliest time: one statement, rolled back after (a list of
    stores: one per entry; counts added, the other values one per entry, in order)."""
    members = getattr(store, "members", None)
    if members:
        from evidence_app.ingest.storelist import opened

        probes = []
        for m in members:
            with opened(m) as one:
                probes.append(probe_store(one, time_field, window))
        return StoreProbe(rows=sum(p.rows for p in probes), rows_in_window=sum(p.rows_in_window for p in probes),
                          max_id=tuple(p.max_id for p in probes), max_time=tuple(p.max_time for p in probes),
                          min_time=tuple(p.min_time for p in probes))
    with store.engine.connect() as conn:
        row = conn.execute(_probe_statement(store, time_field, window)).one()
        conn.rollback()
    return StoreProbe(rows=int(row[0] or 0), rows_in_window=int(row[1] or 0), max_id=row[2], max_time=row[3],
                      min_time=row[4])


def _probe_statement(store: Store, time_field: str, window: Window | None) -> sa.Select:
    """The aggregate SELECT over the store's mapped id and time columns."""
    schema, _, name = store.config.table.rpartition(".")
    id_name, time_name = store.columns["id"], store.columns[time_field]
    tbl = sa.table(name, sa.column(id_name), sa.column(time_name), schema=schema or None)
    t = tbl.c[time_name]
    inside = sa.func.count() if window is None else sa.func.sum(sa.case((time_predicate(store, t, window), 1),
                                                                        else_=0))
    wrap = sa.func.hex if store.dialect == "sqlite" else (lambda c: c)  # SQLite text may not be UTF-8
    return sa.select(sa.func.count(), inside, wrap(sa.func.max(tbl.c[id_name])), wrap(sa.func.max(t)),
                     wrap(sa.func.min(t)))
