"""Reading a store in chunks keeps every value as the driver gave it, whatever mix of types a
column holds from one chunk to the next (SQLite's dynamic typing allows any)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import make_url

from evidence_app.columns.text import TEXT_DTYPE, as_text, text_in, text_set
from evidence_app.config.settings import AUDIT_COLUMNS, StoreConfig
from evidence_app.ingest import sources
from evidence_app.ingest.canonical import canonical_audit
from evidence_app.ingest.sources import open_store, select_frame

BIG_ID = 9_007_199_254_740_993  # 2**53 + 1: a float64 column would silently turn it into ...992


def _store(tmp_path: Path, values: list[tuple]) -> sources.Store:
    db = tmp_path / "t.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (id, created_at, action, restaurant_id, user_id, target)")
    conn.executemany("INSERT INTO t VALUES (?,?,?,?,?,?)", values)
    conn.commit()
    conn.close()
    required, optional = AUDIT_COLUMNS
    cfg = StoreConfig(key="audit", table="t", columns={c: c for c in required + optional},
                      optional=frozenset(optional), url=make_url(f"sqlite:///{db}"))
    return open_store(cfg)


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "FETCH_CHUNK", 2)  # every row pair is its own chunk


def _row(i: object, t: object = "2026-10-01 12:00:00") -> tuple:
    return (i, t, "cache_purge", "r1", "u1", '["m-1"]')


def test_text_columns_arrive_as_arrow_text(tmp_path, tiny_chunks):
    frame = select_frame(_store(tmp_path, [_row(f"a{i}") for i in range(5)]), "created_at", None)
    assert frame["id"].dtype == TEXT_DTYPE
    assert frame["id"].tolist() == [f"a{i}" for i in range(5)]


def test_a_column_whose_type_changes_between_chunks_keeps_every_value(tmp_path, tiny_chunks):
    # chunk 1: integers, chunk 2: text, chunk 3: a float and NULL
    values = [_row(1), _row(2), _row("x"), _row("y"), _row(2.5), _row(None)]
    frame = select_frame(_store(tmp_path, values), "created_at", None)
    assert frame["id"].tolist() == [1, 2, "x", "y", 2.5, None]


def test_all_null_chunks_do_not_decide_a_column_type(tmp_path, tiny_chunks):
    values = [_row(None), _row(None), _row("a"), _row("b")]
    frame = select_frame(_store(tmp_path, values), "created_at", None)
    assert frame["id"].dtype == TEXT_DTYPE
    assert frame["id"].isna().tolist() == [True, True, False, False]


def test_large_integer_ids_stay_exact(tmp_path, tiny_chunks):
    values = [_row(BIG_ID), _row(None), _row(BIG_ID + 2)]
    frame = select_frame(_store(tmp_path, values), "created_at", None)
    assert as_text(frame["id"]).tolist()[0] == str(BIG_ID)
    assert as_text(frame["id"]).tolist()[2] == str(BIG_ID + 2)
    assert pd.isna(as_text(frame["id"]).tolist()[1])


def test_timestamps_mixing_epoch_numbers_and_text_across_chunks_all_parse(tmp_path, tiny_chunks):
    values = [_row("a", 1790856000000), _row("b", 1790856000), _row("c", "2026-10-01 12:00:00"),
              _row("d", "2026-10-01T12:00:00Z")]
    c = canonical_audit(select_frame(_store(tmp_path, values), "created_at", None))
    assert c.frame["created_at"].nunique() == 1
    assert len(c.rejected) == 0


def test_text_in_compares_as_text_and_never_matches_missing():
    among = text_set(pd.Series(["7", "b", None], dtype=object))
    mask = text_in(pd.Series(["a", None, 7, "b"], dtype=object), among)
    assert mask.tolist() == [False, False, True, True]


def test_duplicate_ids_are_counted_once_each_and_every_row_is_kept():
    raw = pd.DataFrame({
        "id": ["a", "b", "a", None, None, "c", "c", "c"],
        "created_at": ["2026-10-01 12:00:00"] * 8,
        "action": ["cache_purge"] * 8, "restaurant_id": ["r1"] * 8, "user_id": ["u1"] * 8,
        "target": ['["m-1"]'] * 8,
    })
    c = canonical_audit(raw)
    dup = [i for i in c.issues if i.kind == "duplicate_id"]
    assert len(dup) == 1 and dup[0].count == 2 and set(dup[0].examples) == {"a", "c"}
    assert len(c.frame) == 8


def test_the_numbers_do_not_depend_on_how_the_read_is_chunked(scenario, monkeypatch):
    t0 = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)
    for i in range(12):
        at = t0 + timedelta(minutes=7 * i)
        scenario.op(f"o{i}", at, user=f"u{i % 3}", request_id=f"r{i}" if i % 2 else None)
        if i % 4:
            # timestamps in three forms, so the time column's type changes from chunk to chunk
            when = [at, int(at.timestamp() * 1000), at.isoformat()][i % 3]
            scenario.row(f"a{i}", when, user=f"u{i % 3}", request_id=f"r{i}" if i % 2 else None,
                         origin=[None, "replay", "backfill"][i % 3])
    expected = scenario.json("exceptions"), scenario.json("coverage", "--by", "day,operator")
    monkeypatch.setattr(sources, "FETCH_CHUNK", 2)
    assert (scenario.json("exceptions"), scenario.json("coverage", "--by", "day,operator")) == expected


# ------------------------------------------------------------------ repetitive columns, encoded as they are read

from evidence_app.columns.text import expanded, is_compact  # noqa: E402
from evidence_app.ingest.canonical import REPETITIVE_COLUMNS  # noqa: E402

MIXED_TENANTS = [_row("a1"), ("a2", "2026-10-01 12:00:00", "cache_purge", 7, "u2", "[1]"),
                 ("a3", "2026-10-01 12:00:00", None, "7", " u1", "[2]"), _row("a4", "not a time"),
                 ("a5", "2026-10-01 12:00:00", "x", None, "", None), ("a6", "2026-10-01 12:00:00", "x", "r1", "u1", "[3]"),
                 ("a7", "2026-10-01 12:00:00", "x", "7.0", b"u\xff", "[4]"), (8, 1790856000, "é", "r2", "u3", "[5]")]


def test_repetitive_columns_come_back_categorical_with_every_value_as_read(tmp_path, tiny_chunks):
    store = _store(tmp_path, [_row(f"a{i}") for i in range(3)] + [(f"b{i}", "2026-10-01 12:00:00", "x", None,
                                                                     f"u{i % 2}", "[1]") for i in range(4)])
    plain = select_frame(store, "created_at", None)
    encoded = select_frame(store, "created_at", None, repetitive=REPETITIVE_COLUMNS)
    for name in ("action", "restaurant_id", "user_id"):
        assert is_compact(encoded[name]), name
        assert expanded(encoded[name]).fillna("<null>").tolist() == plain[name].fillna("<null>").tolist()
    assert not is_compact(encoded["id"]) and not is_compact(encoded["target"])


@pytest.mark.parametrize("chunk", [1, 2, 3, 50_000])
def test_canonical_frames_from_encoded_columns_equal_those_from_plain_text(tmp_path, monkeypatch, chunk):
    """Mixed types across chunks (ints and text for one tenant), NULLs, blanks, bytes that are not UTF-8, a bad time:
    issues, rejected rows and every value read the same whether the columns came encoded or not."""
    monkeypatch.setattr(sources, "FETCH_CHUNK", chunk)
    store = _store(tmp_path, MIXED_TENANTS)
    plain = canonical_audit(select_frame(store, "created_at", None))
    encoded = canonical_audit(select_frame(store, "created_at", None, repetitive=REPETITIVE_COLUMNS))
    assert encoded.issues == plain.issues
    pd.testing.assert_frame_equal(encoded.rejected, plain.rejected)
    for name in plain.frame.columns:
        pd.testing.assert_series_equal(expanded(encoded.frame[name]), expanded(plain.frame[name]), check_names=False)
    for name in ("action", "tenant", "operator", "route", "origin"):
        assert is_compact(encoded.frame[name]) and is_compact(plain.frame[name]), name


# ------------------------------------------------------------------ the two stores read at once

def test_the_audit_read_beside_the_operations_records_its_queries_after_theirs(scenario):
    import threading

    from evidence_app.config.settings import load_config
    from evidence_app.ingest.dataset import load_dataset
    from evidence_app.reconcile import Period

    t0 = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)
    for i in range(6):
        scenario.op(f"o{i}", t0 + timedelta(minutes=i))
        scenario.row(f"a{i}", t0 + timedelta(minutes=i))
    readers = {id(t) for t in threading.enumerate()}
    data = load_dataset(load_config(scenario.write()), Period(t0.date(), t0.date()))
    assert [q.source for q in data.queries][:2] == ["operations", "audit"]
    assert len(data.operations) == 6 and len(data.audit) == 6
    assert not [t for t in threading.enumerate() if id(t) not in readers and t.name.startswith("evidence-read")]


def test_an_audit_read_that_fails_on_its_thread_fails_the_load_and_leaves_no_thread(scenario, monkeypatch):
    import threading

    from evidence_app.config.settings import load_config
    from evidence_app.errors import SourceError
    from evidence_app.ingest import dataset
    from evidence_app.reconcile import Period

    t0 = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)
    scenario.op("o1", t0)
    scenario.row("a1", t0)
    real = dataset.select_frame
    seen: list[str] = []

    def failing(store, *args, **kwargs):
        seen.append(threading.current_thread().name)
        if store.key == "audit":
            raise SourceError("audit: reading failed on test: disk gone")
        return real(store, *args, **kwargs)

    monkeypatch.setattr(dataset, "select_frame", failing)
    with pytest.raises(SourceError, match="disk gone"):
        dataset.load_dataset(load_config(scenario.write()), Period(t0.date(), t0.date()))
    assert any(name.startswith("evidence-read") for name in seen)  # it was read on its own thread
    assert not [t for t in threading.enumerate() if t.name.startswith("evidence-read") and t.is_alive()]
