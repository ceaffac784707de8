"""The store probe the snapshot relies on: one aggregate SELECT written in ingest/, sent over the read-only engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from evidence_app.config.settings import load_config
from evidence_app.ingest.dataset import open_stores
from evidence_app.ingest.fingerprint import probe_store
from evidence_app.ingest.sources import Window

from scenario import T0


def _stores(scenario):
    scenario.op("o1").row("a1").op("o2", T0 + timedelta(days=3)).row("a2", T0 + timedelta(days=3))
    return open_stores(load_config(scenario.write()))


def test_probe_counts_every_row_of_the_table(scenario):
    ops, _ = _stores(scenario)
    assert probe_store(ops, "occurred_at", None).rows == 2


def test_probe_counts_only_rows_the_window_admits(scenario):
    _, audit = _stores(scenario)
    start = datetime(T0.year, T0.month, T0.day, tzinfo=UTC)
    window = Window(start, start + timedelta(days=1))
    assert probe_store(audit, "created_at", window).rows_in_window == 1


def test_probe_reports_the_largest_id(scenario):
    ops, _ = _stores(scenario)
    assert probe_store(ops, "occurred_at", None).max_id == b"o2".hex().upper()


def test_probe_goes_through_the_read_only_engine(scenario):
    """The engine the probe uses refuses writes: the statement cannot change what it measures."""
    ops, _ = _stores(scenario)
    probe_store(ops, "occurred_at", None)
    with pytest.raises(sa.exc.OperationalError), ops.engine.connect() as conn:
        conn.execute(sa.text("DELETE FROM operations"))
