"""The web app's snapshot: served only while the sources are unchanged, identical to a fresh read, never trusted
when damaged or kept in a folder that is not private, and never used by the CLI or the evidence pack."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from evidence_app.assess.pipeline import reconcile_dataset
from evidence_app.assess.summary import summarize
from evidence_app.config.settings import load_config
from evidence_app.errors import ConfigError
from evidence_app.ingest.dataset import load_dataset
from evidence_app.persistence.snapshot import _save, fingerprint, read_through, snapshot_key
from evidence_app.reconcile import Period
from evidence_app.reconcile.coverage import coverage_table

from scenario import T0, sql_ts

PERIOD = Period(date(2026, 10, 1), date(2026, 10, 1))
AS_OF = datetime(2026, 10, 2, tzinfo=UTC)
FRAMES = ("operations", "audit")


def _world(scenario):
    """Three operations, two rows (one missing), a failure event; snapshots kept in the scenario's folder."""
    scenario.op("o1").row("a1").op("o2", T0 + timedelta(minutes=5)).row("a2", T0 + timedelta(minutes=5))
    scenario.op("o3", T0 + timedelta(minutes=9)).failure("f1", T0 + timedelta(minutes=9))
    scenario.extra_config = '[cache]\nfolder = "snapshots"\n'
    return load_config(scenario.write())


def _numbers(cfg, data):
    recon = reconcile_dataset(cfg, data, PERIOD)
    s = summarize(data, recon, AS_OF)
    figures = (s.totals, s.orphans, s.duplicates, s.replay, s.write_capable, s.data_issue_count, s.inaccurate,
               s.incomplete, s.remediation.routes.to_dict("records"),
               [getattr(s.remediation, f.name) for f in dataclasses.fields(s.remediation) if f.name != "routes"])
    return coverage_table(recon, ["day", "operator"]).to_dict("records"), figures


def _add_row(scenario, id_: str) -> None:
    with sqlite3.connect(scenario.root / "audit.db") as db:
        db.execute("INSERT INTO staff_audit_logs (id, created_at, action, restaurant_id, user_id, target) "
                   "VALUES (?, ?, 'cache_purge', 'r1', 'u1', '[\"m-1\"]')", (id_, sql_ts(T0 + timedelta(minutes=9))))
    db.close()


def _snapshot_dir(cfg) -> Path:
    return cfg.cache.folder / snapshot_key(cfg, PERIOD)


# ---------------------------------------------------------------------------------------------- round trip


def test_snapshot_gives_frames_identical_to_a_fresh_read(scenario):
    cfg = _world(scenario)
    first = read_through(cfg, PERIOD)
    again = read_through(cfg, PERIOD)
    assert not first.provenance.from_snapshot and again.provenance.from_snapshot
    fresh = load_dataset(cfg, PERIOD)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(again.dataset, name), getattr(fresh, name), check_exact=True)
    pd.testing.assert_frame_equal(again.dataset.logs.failures, fresh.logs.failures, check_exact=True)
    pd.testing.assert_frame_equal(again.dataset.logs.replays, fresh.logs.replays, check_exact=True)
    for key in fresh.rejected:
        pd.testing.assert_frame_equal(again.dataset.rejected[key], fresh.rejected[key], check_exact=True)
    assert (again.dataset.sources, again.dataset.issues, again.dataset.queries) == \
        (fresh.sources, fresh.issues, fresh.queries)


def test_snapshot_gives_the_same_coverage_and_summary_as_a_fresh_read(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    served = read_through(cfg, PERIOD)
    assert served.provenance.from_snapshot
    assert _numbers(cfg, served.dataset) == _numbers(cfg, load_dataset(cfg, PERIOD))


def test_the_kept_reconciliation_equals_reconciling_a_fresh_read(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    served = read_through(cfg, PERIOD)
    _assert_same_reconciliation(served.reconciliation, reconcile_dataset(cfg, load_dataset(cfg, PERIOD), PERIOD))


def _assert_same_reconciliation(a, b) -> None:
    for name in ("operations", "rows", "failures"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert (a.issues, a.period, a.tolerance_seconds) == (b.issues, b.period, b.tolerance_seconds)


def test_the_sample_round_trips_with_identical_numbers(tmp_path):
    cfg = dataclasses.replace(load_config(None), cache=dataclasses.replace(load_config(None).cache,
                                                                           folder=tmp_path / "snap"))
    period = Period(date(2026, 8, 1), date(2026, 10, 29))
    read_through(cfg, period)
    served = read_through(cfg, period)
    fresh = load_dataset(cfg, period)
    assert served.provenance.from_snapshot
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(served.dataset, name), getattr(fresh, name), check_exact=True)
    a, b = served.reconciliation, reconcile_dataset(cfg, fresh, period)
    _assert_same_reconciliation(a, b)
    pd.testing.assert_frame_equal(coverage_table(a, ["day", "operator", "route"]),
                                  coverage_table(b, ["day", "operator", "route"]), check_exact=True)


# ---------------------------------------------------------------------------------------------- changed sources


def test_a_row_added_is_not_served_from_the_snapshot(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    _add_row(scenario, "a3")
    after = read_through(cfg, PERIOD)
    assert not after.provenance.from_snapshot
    assert "audit: rows changed (2 → 3)" in after.provenance.reason
    assert "a3" in set(after.dataset.audit["id"])


def test_a_row_added_to_a_server_table_changes_its_fingerprint(scenario, tmp_path):
    """Beyond SQLite's file stats: the aggregate query alone sees the new row (as on PostgreSQL/MariaDB)."""
    cfg = _world(scenario)
    from evidence_app.ingest.dataset import open_stores

    stores = open_stores(cfg)
    before = fingerprint(cfg, PERIOD, stores)
    _add_row(scenario, "a3")
    after = fingerprint(cfg, PERIOD, open_stores(cfg))
    assert before["audit"]["rows"] + 1 == after["audit"]["rows"]
    assert before["audit"]["rows_in_window"] + 1 == after["audit"]["rows_in_window"]


def test_a_touched_log_file_is_not_served_from_the_snapshot(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    log = scenario.root / "logpush" / "20261001" / "events.log.gz"
    st = log.stat()
    os.utime(log, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    after = read_through(cfg, PERIOD)
    assert not after.provenance.from_snapshot
    assert "worker_logs" in after.provenance.reason


def test_a_new_log_file_is_not_served_from_the_snapshot(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    (scenario.root / "logpush" / "20261001" / "more.log.gz").write_bytes(
        (scenario.root / "logpush" / "20261001" / "events.log.gz").read_bytes())
    assert not read_through(cfg, PERIOD).provenance.from_snapshot


def test_a_changed_loading_setting_is_another_snapshot(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    scenario.extra_config += "[matching]\ntolerance_seconds = 30\n"
    changed = load_config(scenario.write())
    assert snapshot_key(changed, PERIOD) != snapshot_key(cfg, PERIOD)
    assert not read_through(changed, PERIOD).provenance.from_snapshot


def test_another_period_is_another_snapshot(scenario):
    cfg = _world(scenario)
    assert snapshot_key(cfg, PERIOD) != snapshot_key(cfg, Period(date(2026, 10, 1), date(2026, 10, 2)))


def test_refresh_reads_the_sources_and_replaces_the_snapshot(scenario):
    cfg = _world(scenario)
    first = read_through(cfg, PERIOD, clock=lambda: AS_OF)
    later = AS_OF + timedelta(hours=1)
    refreshed = read_through(cfg, PERIOD, refresh=True, clock=lambda: later)
    served = read_through(cfg, PERIOD, clock=lambda: later + timedelta(hours=1))
    assert not refreshed.provenance.from_snapshot and first.provenance.read_at == AS_OF
    assert served.provenance.from_snapshot and served.provenance.read_at == later


def test_the_page_sentence_names_the_read_time_and_the_snapshot(scenario):
    cfg = _world(scenario)
    fresh = read_through(cfg, PERIOD, clock=lambda: datetime(2026, 11, 28, 12, 3, tzinfo=UTC))
    served = read_through(cfg, PERIOD, clock=lambda: datetime(2026, 11, 28, 12, 9, tzinfo=UTC))
    assert fresh.provenance.describe() == "Data read 2026-11-28 12:03 UTC from the sources."
    assert served.provenance.describe() == ("Data from a snapshot taken 2026-11-28 12:03 UTC (sources unchanged "
                                            "since; checked 2026-11-28 12:09 UTC).")


# ---------------------------------------------------------------------------------------------- damaged files


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "garbage_index", "empty_index"])
def test_a_damaged_snapshot_reads_the_sources_without_a_traceback(scenario, damage, caplog):
    cfg = _world(scenario)
    truth = _numbers(cfg, read_through(cfg, PERIOD).dataset)
    folder = _snapshot_dir(cfg)
    arrow, index = folder / "operations.arrow", folder / "snapshot.json"
    if damage == "truncate":
        arrow.write_bytes(arrow.read_bytes()[: arrow.stat().st_size // 2])
    elif damage == "flip":
        raw = bytearray(arrow.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        arrow.write_bytes(bytes(raw))
    elif damage == "delete":
        arrow.unlink()
    elif damage == "garbage_index":
        index.write_bytes(b"\x00\xff not json")
    else:
        index.write_bytes(b"")
    with caplog.at_level(logging.INFO, logger="evidence_app.persistence.snapshot"):
        again = read_through(cfg, PERIOD)
    assert not again.provenance.from_snapshot
    assert _numbers(cfg, again.dataset) == truth
    assert "reading the sources" in caplog.text and "Traceback" not in caplog.text


def test_a_damaged_snapshot_is_replaced_by_a_good_one(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    (_snapshot_dir(cfg) / "audit.arrow").write_bytes(b"ARROW1 nothing else")
    read_through(cfg, PERIOD)
    assert read_through(cfg, PERIOD).provenance.from_snapshot


def test_snapshot_files_are_private(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    folder = _snapshot_dir(cfg)
    assert cfg.cache.folder.stat().st_mode & 0o777 == 0o700
    assert folder.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o600}


def test_snapshot_holds_no_pickle(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    names = sorted(p.name for p in _snapshot_dir(cfg).iterdir())
    assert names == ["audit.arrow", "failures.arrow", "invocations.arrow", "operations.arrow", "reconciled-failures.arrow",
                     "reconciled-operations.arrow", "reconciled-rows.arrow", "rejected-audit.arrow",
                     "rejected-operations.arrow", "replays.arrow", "snapshot.json"]
    json.loads((_snapshot_dir(cfg) / "snapshot.json").read_text())
    assert all((_snapshot_dir(cfg) / n).read_bytes()[:6] == b"ARROW1" for n in names if n.endswith(".arrow"))


# ---------------------------------------------------------------------------------------------- the folder


def test_a_folder_writable_by_others_is_refused(scenario, caplog):
    cfg = _world(scenario)
    cfg.cache.folder.mkdir(mode=0o700)
    read_through(cfg, PERIOD)
    cfg.cache.folder.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="evidence_app.persistence.snapshot"):
        again = read_through(cfg, PERIOD)
    assert not again.provenance.from_snapshot
    assert "refused: open to group or others (mode 777)" in caplog.text


def test_a_refused_folder_gets_nothing_written(scenario):
    cfg = _world(scenario)
    cfg.cache.folder.mkdir(mode=0o770)
    cfg.cache.folder.chmod(0o770)
    read_through(cfg, PERIOD)
    assert list(cfg.cache.folder.iterdir()) == []


def test_a_folder_owned_by_another_user_is_refused(scenario, caplog, monkeypatch):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(cfg.cache.folder).st_uid + 1)
    with caplog.at_level(logging.WARNING, logger="evidence_app.persistence.snapshot"):
        assert not read_through(cfg, PERIOD).provenance.from_snapshot
    assert "owned by another user" in caplog.text


def test_a_snapshot_file_open_to_others_is_refused(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    (_snapshot_dir(cfg) / "operations.arrow").chmod(0o644)
    assert "refused" in read_through(cfg, PERIOD).provenance.reason


def test_snapshots_off_keeps_nothing(scenario):
    cfg = _world(scenario)
    scenario.extra_config = '[cache]\nfolder = "snapshots"\nenabled = false\n'
    cfg = load_config(scenario.write())
    read_through(cfg, PERIOD)
    assert not read_through(cfg, PERIOD).provenance.from_snapshot
    assert not cfg.cache.folder.exists()


def test_default_folder_is_under_xdg_cache_home(scenario, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    scenario.op("o1").row("a1")
    cfg = load_config(scenario.write())
    read_through(cfg, PERIOD)
    assert (tmp_path / "xdg" / "evidence-app" / snapshot_key(cfg, PERIOD) / "snapshot.json").is_file()


@pytest.mark.parametrize("text, named", [
    ("enabled = 1", "cache.enabled"),
    ('enabled = "yes"', "cache.enabled"),
    ('folder = ""', "cache.folder"),
    ("folder = 3", "cache.folder"),
    ('colour = "red"', "cache.colour"),
])
def test_hostile_cache_settings_name_the_key(scenario, text, named):
    scenario.extra_config = f"[cache]\n{text}\n"
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(scenario.write())


def test_a_relative_folder_resolves_against_the_config_folder(scenario):
    cfg = _world(scenario)
    assert cfg.cache.folder == scenario.root.resolve() / "snapshots"


# ---------------------------------------------------------------------------------------------- CLI and pack


def _poison(cfg) -> None:
    """A snapshot that looks valid (fingerprints match) but holds the wrong numbers: only o1 and a1."""
    from evidence_app.ingest.dataset import open_stores

    stores = open_stores(cfg)
    real = load_dataset(cfg, PERIOD, stores=stores)
    fake = dataclasses.replace(real, operations=real.operations.iloc[:1].reset_index(drop=True),
                               audit=real.audit.iloc[:1].reset_index(drop=True))
    key = snapshot_key(cfg, PERIOD)
    cfg.cache.folder.mkdir(mode=0o700, exist_ok=True)
    _save(cfg.cache.folder, key, fingerprint(cfg, PERIOD, stores), fake, reconcile_dataset(cfg, fake, PERIOD), AS_OF)
    served = read_through(cfg, PERIOD)
    assert served.provenance.from_snapshot and len(served.dataset.operations) == 1  # the poison works


def test_cli_never_reads_the_snapshot(scenario):
    cfg = _world(scenario)
    truth = scenario.json("coverage", "--start", "2026-10-01", "--end", "2026-10-01", "--by", "operator")
    _poison(cfg)
    assert scenario.json("coverage", "--start", "2026-10-01", "--end", "2026-10-01", "--by", "operator") == truth
    assert truth[0]["expected"] == 3


def test_the_pack_never_reads_the_snapshot(scenario):
    from evidence_app.evidence.contents import gather
    from evidence_app.reconcile import Scope

    cfg = _world(scenario)
    _poison(cfg)
    contents = gather(cfg, PERIOD, Scope(), AS_OF)
    assert len(contents.data.operations) == 3 and len(contents.data.audit) == 2


def _rewrite_in_place_keeping_size_and_mtime(db_path: Path, sql: str) -> None:
    """What an in-place edit restored with `cp -p` or `rsync -a` looks like: same size, the old mtime."""
    st = db_path.stat()
    with sqlite3.connect(db_path) as db:
        db.execute(sql)
    db.close()
    assert db_path.stat().st_size == st.st_size
    os.utime(db_path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert db_path.stat().st_mtime_ns == st.st_mtime_ns


def test_rows_changed_in_place_with_size_and_mtime_put_back_are_not_served_stale(scenario):
    cfg = _world(scenario)
    first = read_through(cfg, PERIOD)
    assert set(first.dataset.audit["operator"].astype(str)) == {"u1"}
    read_through(cfg, PERIOD)
    _rewrite_in_place_keeping_size_and_mtime(scenario.root / "audit.db",
                                            "UPDATE staff_audit_logs SET user_id = 'u9' WHERE id = 'a2'")
    after = read_through(cfg, PERIOD)
    assert not after.provenance.from_snapshot, after.provenance.reason
    assert "u9" in set(after.dataset.audit["operator"].astype(str))


def test_a_log_file_replaced_by_a_same_size_copy_with_the_old_mtime_is_not_served_stale(scenario):
    cfg = _world(scenario)
    read_through(cfg, PERIOD)
    log = scenario.root / "logpush" / "20261001" / "events.log.gz"
    st = log.stat()
    replacement = log.with_name("new.tmp")
    replacement.write_bytes(log.read_bytes())
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(replacement, log)  # same bytes, size and mtime: only the inode (and ctime) tell
    assert not read_through(cfg, PERIOD).provenance.from_snapshot


def test_invocations_and_dropped_duplicates_round_trip(scenario):
    cfg = _world(scenario)
    fresh = read_through(cfg, PERIOD)
    kept = read_through(cfg, PERIOD)
    assert kept.provenance.from_snapshot
    pd.testing.assert_frame_equal(kept.dataset.logs.invocations.reset_index(drop=True),
                                  fresh.dataset.logs.invocations.reset_index(drop=True), check_dtype=False)
    assert kept.dataset.logs.duplicates_dropped == fresh.dataset.logs.duplicates_dropped
    assert len(kept.dataset.logs.invocations) > 0
