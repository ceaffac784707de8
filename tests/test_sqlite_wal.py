"""Read-only without side effects: WAL-mode SQLite sources are read without creating, changing or leaving
any file next to them, and committed frames still waiting in the WAL are never ignored."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_app.cli import main
from evidence_app.config.settings import load_config
from evidence_app.ingest.sources import open_store
from evidence_app.ingest.sqlite_files import has_committed_frames

from scenario import T0, sql_ts


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _to_wal(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.close()  # the last connection checkpoints and removes the -wal/-shm files


def _coverage(cfg: Path) -> dict:
    res = CliRunner().invoke(main, ["coverage", "--config", str(cfg), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)[0]


@pytest.fixture
def wal_world(scenario):
    scenario.op("o1").row("a1").op("o2", T0)
    cfg = scenario.write()
    for name in ("audit.db", "operations.db"):
        _to_wal(cfg.parent / name)
    return cfg


def test_a_wal_database_is_read_without_creating_any_file(wal_world):
    folder = wal_world.parent
    before = _files(folder)
    assert _coverage(wal_world)["logged"] == 1
    assert _files(folder) == before  # no -wal, no -shm, nothing changed
    store = open_store(load_config(wal_world).audit)
    assert "immutable=1" in store.read_only_mode and "mode=ro" in store.read_only_mode


@contextmanager
def _read_only(folder: Path):
    """The folder made read-only for this process: by permissions, or (root ignores them) by a read-only bind
    mount onto itself; skipped with the reason only where neither is possible."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    mount = shutil.which("mount")
    if mount is None or subprocess.run([mount, "--bind", str(folder), str(folder)], capture_output=True).returncode:
        pytest.skip("running as root without the right to mount: a read-only folder cannot be made here")
    try:
        assert subprocess.run([mount, "-o", "remount,bind,ro", str(folder)], capture_output=True).returncode == 0
        with pytest.raises(OSError):
            (folder / "probe").touch()  # the folder really is read-only
        yield
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_wal_database_in_a_read_only_folder_is_read(wal_world):
    with _read_only(wal_world.parent):
        assert _coverage(wal_world)["logged"] == 1


def test_committed_frames_waiting_in_the_wal_are_read_and_nothing_is_touched(wal_world, tmp_path):
    folder = wal_world.parent
    writer = sqlite3.connect(folder / "audit.db")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # the new row stays in the WAL only
    writer.execute("INSERT INTO staff_audit_logs (id, created_at, action, route, restaurant_id, user_id, target) "
                   "VALUES ('a2', ?, 'cache_purge', '/api/cache-purge', 'r1', 'u1', '[\"m-1\"]')", (sql_ts(T0),))
    writer.commit()
    try:
        assert has_committed_frames(folder / "audit.db-wal")
        before = _files(folder)
        assert _coverage(wal_world)["logged"] == 2  # o2 is covered by the row that lives only in the WAL
        assert _files(folder) == before
    finally:
        writer.close()


def test_a_wal_left_by_a_stopped_writer_is_read_without_creating_a_shm_file(wal_world, tmp_path):
    folder = wal_world.parent
    writer = sqlite3.connect(folder / "audit.db")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO staff_audit_logs (id, created_at, action, route, restaurant_id, user_id, target) "
                   "VALUES ('a2', ?, 'cache_purge', '/api/cache-purge', 'r1', 'u1', '[\"m-1\"]')", (sql_ts(T0),))
    writer.commit()
    crashed = tmp_path / "crashed"
    shutil.copytree(folder, crashed, ignore=shutil.ignore_patterns("*-shm"))  # as a crash leaves it: db + WAL
    writer.close()
    before = _files(crashed)
    assert _coverage(crashed / "evidence.toml")["logged"] == 2
    assert _files(crashed) == before and not list(crashed.glob("*-shm"))


def test_stale_frames_of_an_earlier_wal_generation_are_not_pending(tmp_path):
    wal = tmp_path / "x.db-wal"
    header = bytes.fromhex("377f0682") + (3007000).to_bytes(4, "big") + (512).to_bytes(4, "big") + bytes(4) \
        + b"SALTSALT" + bytes(8)
    stale = bytes(4) + (1).to_bytes(4, "big") + b"OLDSALT!" + bytes(8) + bytes(512)
    wal.write_bytes(header + stale)
    assert not has_committed_frames(wal)
    current = bytes(4) + (1).to_bytes(4, "big") + b"SALTSALT" + bytes(8) + bytes(512)
    wal.write_bytes(header + current)
    assert has_committed_frames(wal)


def test_a_database_path_with_uri_characters_is_opened_as_that_file(scenario):
    scenario.op("o1").row("a1")
    cfg = scenario.write()
    (cfg.parent / "audit.db").rename(cfg.parent / "audit #1 ?mode=rw.db")  # unquoted, a file: URI would misread it
    cfg.write_text(cfg.read_text().replace("sqlite:///audit.db", "sqlite:///audit #1 %3Fmode=rw.db"))
    assert _coverage(cfg)["logged"] == 1
