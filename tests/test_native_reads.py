"""Native reads (ADBC) hand on exactly the frames the Python path gives, or leave the read to it; read-only too."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
import sqlite3
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from evidence_app.config.settings import AUDIT_COLUMNS, StoreConfig
from evidence_app.errors import SourceError
from evidence_app.ingest import native, sources
from evidence_app.ingest.canonical import canonical_audit
from evidence_app.ingest.sqlite_files import native_uri

COLUMNS = ("id", "created_at", "action", "restaurant_id", "user_id", "target", "origin")
DECLARED = ("TEXT", "REAL", "INTEGER", "NUMERIC", "", "BLOB", "VARCHAR(20)", "DOUBLE")
BAD_UTF8 = object()
"""Marks a value stored as text whose bytes are not UTF-8."""

_values = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 1, 1_700_000_000, 1_700_000_000_000, 9_007_199_254_740_993]),
    st.floats(allow_nan=False),
    st.sampled_from([1_700_000_000.5, 1.7e12, -0.0, 0.0, 3.0, 1e300]),
    st.text(max_size=6),
    st.sampled_from(["", " ", "  ", "1700000000.5", "12", "2026-10-01T12:00:00Z", "2026-13-45T99:99:99Z",
                     "2026-10-01 12:00:00+02:00", "nul\x00inside", "é"]),
    st.binary(max_size=3),
    st.just(BAD_UTF8),
)


def _write(path: Path, declared: list[str], rows: list[tuple]) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE t ({', '.join(f'{c} {d}' for c, d in zip(COLUMNS, declared))})")
    for row in rows:
        marks = ", ".join("CAST(? AS TEXT)" if v is BAD_UTF8 else "?" for v in row)
        conn.execute(f"INSERT INTO t VALUES ({marks})", [b"\xff\xfeok" if v is BAD_UTF8 else v for v in row])
    conn.commit()
    conn.close()


def _store(path: Path) -> sources.Store:
    required, optional = AUDIT_COLUMNS
    names = [c for c in required + optional if c in COLUMNS]
    cfg = StoreConfig(key="audit", table="t", columns={c: c for c in names},
                      optional=frozenset(optional), url=make_url(f"sqlite:///{path}"))
    return sources.open_store(cfg)


def _read(store: sources.Store, python: bool, chunk: int = sources.FETCH_CHUNK) -> tuple[pd.DataFrame, list]:
    records: list = []
    env = {native.FORCE_PYTHON: "1" if python else "0"}
    with mock.patch.dict("os.environ", env), mock.patch.object(sources, "FETCH_CHUNK", chunk):
        frame = sources.select_frame(store, "created_at", None, record=records.append,
                                     repetitive=frozenset({"action"}))
    return frame, records


def _same(store: sources.Store, chunk: int) -> str:
    """Both paths give identical frames and issues; returns the driver the default path used."""
    native_frame, native_records = _read(store, python=False, chunk=chunk)
    python_frame, python_records = _read(store, python=True, chunk=chunk)
    pd.testing.assert_frame_equal(native_frame, python_frame, check_exact=True)
    assert [type(v) for v in native_frame["id"]] == [type(v) for v in python_frame["id"]]
    assert native_records[0].rows_returned == python_records[0].rows_returned == len(python_frame)
    assert canonical_audit(native_frame).issues == canonical_audit(python_frame).issues
    return native_records[0].driver


@settings(max_examples=150)
@given(declared=st.lists(st.sampled_from(DECLARED), min_size=len(COLUMNS), max_size=len(COLUMNS)),
       rows=st.lists(st.tuples(*[_values] * len(COLUMNS)), max_size=9), chunk=st.integers(1, 4))
def test_any_mix_of_values_reads_the_same_natively_as_through_python(tmp_path_factory, declared, rows, chunk):
    path = tmp_path_factory.mktemp("mix") / "t.db"
    _write(path, declared, rows)
    _same(_store(path), chunk)


_one_class = st.sampled_from([st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False),
                              st.text(max_size=6), st.sampled_from(["", " ", "2026-10-01T12:00:00Z"])])


@settings(max_examples=60)
@given(data=st.data(), declared=st.sampled_from(["TEXT", "", "NUMERIC"]), n=st.integers(0, 9),
       chunk=st.integers(1, 4))
def test_columns_of_one_storage_class_with_nulls_read_the_same(tmp_path_factory, data, declared, n, chunk):
    kinds = [data.draw(_one_class) for _ in COLUMNS]
    rows = [tuple(data.draw(st.one_of(st.none(), k)) for k in kinds) for _ in range(n)]
    path = tmp_path_factory.mktemp("one") / "t.db"
    _write(path, [declared] * len(COLUMNS), rows)
    _same(_store(path), chunk)


def _realistic(tmp_path: Path, n: int = 7, time: object = 1_700_000_000.5) -> sources.Store:
    path = tmp_path / "t.db"
    rows = [(f"a{i}", time if i else None, "cache_purge", f"r{i % 3}", "u1", '["m-1"]', None) for i in range(n)]
    _write(path, ["TEXT", "REAL", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"], rows)
    return _store(path)


def test_a_store_of_plain_columns_is_read_natively(tmp_path):
    assert _same(_realistic(tmp_path), chunk=3).startswith("sqlite+adbc_driver_sqlite ")


def test_the_python_path_names_its_own_driver_when_forced(tmp_path):
    _, records = _read(_realistic(tmp_path), python=True)
    assert records[0].driver.startswith("sqlite+pysqlite ")


def test_an_integer_among_reals_in_a_later_batch_is_left_to_the_python_path(tmp_path):
    path = tmp_path / "t.db"
    rows = [(f"a{i}", 1_700_000_000.5 if i < 2 else 1_700_000_000, "x", "r", "u", "t", None) for i in range(4)]
    _write(path, ["TEXT", "", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"], rows)
    store = _store(path)
    assert _same(store, chunk=2).startswith("sqlite+pysqlite ")
    assert _read(store, python=False, chunk=2)[0]["created_at"].tolist() == [1_700_000_000.5] * 2 + [1_700_000_000] * 2


def test_a_real_in_a_text_column_is_never_read_as_text(tmp_path):
    path = tmp_path / "t.db"
    rows = [("a", "2026-10-01T12:00:00Z", "x", "r", "u", "t", None), ("b", 1_700_000_000.5, "x", "r", "u", "t", None)]
    _write(path, ["TEXT", "", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"], rows)
    frame, _ = _read(_store(path), python=False)
    assert frame["created_at"].tolist() == ["2026-10-01T12:00:00Z", 1_700_000_000.5]


def test_text_that_is_not_utf8_is_left_to_the_python_path_as_bytes(tmp_path):
    path = tmp_path / "t.db"
    _write(path, ["TEXT"] * len(COLUMNS), [("a", "2026-10-01T12:00:00Z", BAD_UTF8, "r", "u", "t", None)])
    frame, records = _read(_store(path), python=False)
    assert records[0].driver.startswith("sqlite+pysqlite ") and frame["action"].tolist() == [b"\xff\xfeok"]


def test_a_blob_in_a_text_column_is_left_to_the_python_path(tmp_path):
    path = tmp_path / "t.db"
    _write(path, ["TEXT"] * len(COLUMNS), [("a", "2026-10-01T12:00:00Z", b"ok", "r", "u", "t", None)])
    assert _same(_store(path), chunk=2).startswith("sqlite+pysqlite ")


def test_an_all_null_batch_then_numbers_reads_as_the_python_path_does(tmp_path):
    path = tmp_path / "t.db"
    rows = [(f"a{i}", None if i < 2 else 1_700_000_000 + i, "x", "r", "u", "t", None) for i in range(4)]
    _write(path, ["TEXT", "", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"], rows)
    _same(_store(path), chunk=2)


def test_progress_is_told_once_per_row_when_a_native_read_is_abandoned(tmp_path):
    path = tmp_path / "t.db"
    rows = [(f"a{i}", 1.5 if i < 4 else "late text", "x", "r", "u", "t", None) for i in range(6)]
    _write(path, ["TEXT", "", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"], rows)
    told: list[int] = []
    with mock.patch.object(sources, "FETCH_CHUNK", 2):
        sources.select_frame(_store(path), "created_at", None, progress=told.append)
    assert sum(told) == 6


def test_thinning_by_keep_happens_per_batch_natively(tmp_path):
    store = _realistic(tmp_path, n=9)
    with mock.patch.object(sources, "FETCH_CHUNK", 2):
        kept = sources._fetch(store, sources._select_present(store)[2], sorted(store.columns), None,
                              keep=lambda f: f[f["restaurant_id"] == "r1"])
    assert kept["id"].tolist() == ["a1", "a4", "a7"]


def test_the_environment_switch_forces_the_python_path(tmp_path, monkeypatch):
    monkeypatch.setenv(native.FORCE_PYTHON, "1")
    records: list = []
    sources.select_frame(_realistic(tmp_path), "created_at", None, record=records.append)
    assert records[0].driver.startswith("sqlite+pysqlite ")


def test_a_driver_that_fails_to_import_is_said_once_and_python_reads(tmp_path, monkeypatch, caplog):
    native._driver.cache_clear()
    monkeypatch.setitem(__import__("sys").modules, "adbc_driver_sqlite.dbapi", None)
    store, records = _realistic(tmp_path), []
    try:
        with caplog.at_level(logging.WARNING, logger=native.__name__):
            for _ in range(2):
                sources.select_frame(store, "created_at", None, record=records.append)
    finally:
        native._driver.cache_clear()
    assert [r.driver.split()[0] for r in records] == ["sqlite+pysqlite"] * 2
    assert sum("adbc-driver-sqlite" in r.getMessage() for r in caplog.records) == 1


def test_a_native_failure_ends_as_the_python_paths_source_error(tmp_path):
    store = _realistic(tmp_path)
    (tmp_path / "t.db").unlink()
    store.engine.dispose()  # no pooled connection still holding the file open
    with pytest.raises(SourceError, match="reading failed"):
        sources.select_frame(store, "created_at", None)


def test_a_native_drivers_message_is_never_logged(tmp_path, monkeypatch, caplog):
    def leaky(*_args, **_kwargs):
        raise RuntimeError("connect postgresql://u:hunter2@db/x failed")

    monkeypatch.setattr(native._SQLite, "chunks", leaky)
    with caplog.at_level(logging.DEBUG):
        frame = sources.select_frame(_realistic(tmp_path), "created_at", None)
    assert len(frame) == 7 and "hunter2" not in caplog.text and "RuntimeError" in caplog.text


WRITES = ("INSERT INTO t (id) VALUES ('intruder')", "UPDATE t SET id = 'changed'", "DELETE FROM t")


@pytest.mark.parametrize("statement", WRITES)
def test_the_native_sqlite_connection_refuses_writes(tmp_path, statement):
    store = _realistic(tmp_path)
    before = (tmp_path / "t.db").read_bytes()
    with native._adbc_sqlite().connect(native_uri(store.engine)) as conn, conn.cursor() as cur:
        with pytest.raises(Exception, match="readonly|read-only|read only"):
            cur.execute(statement)
            conn.commit()
    assert (tmp_path / "t.db").read_bytes() == before


def test_the_native_uri_of_a_wal_store_with_pending_frames_is_the_private_copy(tmp_path):
    path = tmp_path / "t.db"
    _write(path, ["TEXT"] * len(COLUMNS), [("a", "2026-10-01T12:00:00Z", "x", "r", "u", "t", None)])
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO t (id, created_at, action) VALUES ('b', '2026-10-01T12:00:00Z', 'x')")
    writer.commit()
    try:
        store = _store(path)
        uri = native_uri(store.engine)
        assert str(tmp_path) not in uri and "immutable=1" in uri and "mode=ro" in uri
        frame, records = _read(store, python=False)
        assert frame["id"].tolist() == ["a", "b"] and records[0].driver.startswith("sqlite+adbc_driver_sqlite ")
    finally:
        writer.close()


def test_columns_whose_affinity_vouches_for_their_type_are_read_with_the_python_paths_statement(tmp_path):
    store = _realistic(tmp_path)
    (_, native_records), (_, python_records) = _read(store, python=False), _read(store, python=True)
    assert native_records[0].sql == python_records[0].sql and native.CLASSES not in native_records[0].sql


def test_a_column_without_affinity_has_its_storage_classes_named_by_sqlite(tmp_path):
    path = tmp_path / "t.db"
    _write(path, ["TEXT", "", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"], [("a", 1.5, "x", "r", "u", "t", None)])
    _, records = _read(_store(path), python=False)
    assert records[0].driver.startswith("sqlite+adbc_driver_sqlite ") and "typeof(t.created_at)" in records[0].sql


def test_a_table_the_plan_reads_by_a_scan_keeps_its_affinities_natively(tmp_path):
    """The plan's NOT INDEXED wraps the table; the native read still sees its declared types (no per-row typeof)."""
    store = _realistic(tmp_path, n=20)
    writer = sqlite3.connect(tmp_path / "t.db")
    writer.execute("CREATE INDEX t_created ON t(created_at)")
    writer.commit()
    writer.close()
    store = _store(tmp_path / "t.db")
    window = sources.Window(datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC))
    records: list = []
    frame = sources.select_frame(store, "created_at", window, record=records.append)
    assert "NOT INDEXED" in records[0].sql and "scan" in records[0].purpose
    assert records[0].driver.startswith("sqlite+adbc_driver_sqlite ") and native.CLASSES not in records[0].sql
    assert len(frame) == 20  # the row without a time is fetched too, to be counted
