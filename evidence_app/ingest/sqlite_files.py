"""SQLite files opened read-only without side effects: nothing is created, changed or left next to them.

A rollback-journal database is opened with ``mode=ro``. A WAL-mode database would make SQLite create
``-wal``/``-shm`` files beside it (and fail in a read-only folder), so:

* no WAL file, or one holding no committed frame of the current WAL generation → ``immutable=1``:
  the main file is all there is, and SQLite then touches nothing else;
* committed frames waiting in the WAL (a writer is open, or one stopped before checkpointing) →
  ignoring them would drop rows, so the database and its WAL are copied into a private folder, the
  copy is checkpointed there, and the copy is read (``immutable=1``); the folder is removed when the
  engine goes. The copy is taken as the files stand: for a database being written while it is read,
  point the tool at a stable copy.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
import tempfile
import weakref
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_WAL_MAGIC = (0x377F0682, 0x377F0683)
_URIS: "weakref.WeakKeyDictionary[Engine, str]" = weakref.WeakKeyDictionary()
_WAL_HEADER, _FRAME_HEADER = 32, 24


def sqlite_read_only(path: Path) -> tuple[Engine, str]:
    """An engine reading ``path`` without writing anything anywhere near it, and how, in words."""
    if not _wal_mode(path):
        return _engine(_uri(path, "mode=ro")), "SQLite opened with mode=ro"
    wal = path.with_name(path.name + "-wal")
    if not has_committed_frames(wal):
        mode = "SQLite (WAL mode, nothing pending) opened with mode=ro, immutable=1"
        return _engine(_uri(path, "mode=ro&immutable=1")), mode
    folder = Path(tempfile.mkdtemp(prefix="evidence-app-snapshot-"))
    copy = _checkpointed_copy(path, wal, folder)
    engine = _engine(_uri(copy, "mode=ro&immutable=1"))
    weakref.finalize(engine, shutil.rmtree, folder, True)
    return engine, "SQLite (WAL mode with committed frames) read from a private snapshot opened with mode=ro"


def _uri(path: Path, options: str) -> str:
    """A file: URI; the path is percent-encoded so ``?``, ``#`` or ``%`` in a name cannot change the options."""
    return f"file:{quote(path.as_posix())}?{options}"


def native_uri(engine: Engine) -> str | None:
    """The read-only ``file:`` URI an engine made here opens (for a native reader to open the same), else None."""
    return _URIS.get(engine)


def _engine(uri: str) -> Engine:
    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    engine = sa.create_engine("sqlite://", creator=connect)
    _URIS[engine] = uri
    return engine


def _wal_mode(path: Path) -> bool:
    """The database header says WAL (file format read/write versions 2 at offsets 18 and 19)."""
    try:
        with path.open("rb") as fh:
            header = fh.read(20)
    except OSError:
        return False  # let SQLite report it
    return len(header) == 20 and header[18] == 2 and header[19] == 2


def has_committed_frames(wal: Path) -> bool:
    """Does the WAL hold a commit frame of its current generation (salts equal to the header's)? Frames
    of an earlier generation, left in a reused WAL file, are not part of the database."""
    try:
        with wal.open("rb") as fh:
            header = fh.read(_WAL_HEADER)
            if len(header) < _WAL_HEADER or struct.unpack(">I", header[:4])[0] not in _WAL_MAGIC:
                return False
            page_size = struct.unpack(">I", header[8:12])[0]
            salts = header[16:24]
            while True:
                frame = fh.read(_FRAME_HEADER)
                if len(frame) < _FRAME_HEADER or frame[8:16] != salts:
                    return False
                if struct.unpack(">I", frame[4:8])[0] != 0:  # "database size after commit": a commit frame
                    return True
                fh.seek(page_size, 1)
    except FileNotFoundError:
        return False


def _checkpointed_copy(path: Path, wal: Path, folder: Path) -> Path:
    """Copy database and WAL into ``folder`` and fold the WAL into the copy (there, not beside the original)."""
    copy = folder / path.name
    shutil.copyfile(path, copy)
    shutil.copyfile(wal, folder / wal.name)
    conn = sqlite3.connect(copy)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    return copy
