"""Deflate the pack's extracts on every core: a large file is cut into chunks compressed side by side and joined
into one standard zlib stream (as pigz does), so the pack waits for no single 100 MB compression."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from concurrent.futures import Executor, Future

LEVEL = 6
"""zlib's default level, the one pyHanko's FlateDecode encoder uses."""
CHUNK = 8 << 20
"""Bytes per independently compressed piece; smaller files are one piece."""
WINDOW = 32 << 10
"""Each piece starts with the previous 32 KiB as its dictionary, so cutting costs (almost) no compression."""


def deflate(data: bytes) -> bytes:
    """``data`` as one zlib stream, piece by piece on this thread (what :func:`submit` spreads over threads)."""
    return _join(data, [_piece(data, start) for start in _starts(data)])


def submit(pool: Executor, data: bytes) -> Callable[[], bytes]:
    """Start deflating ``data`` on ``pool``, a piece per task; the returned function waits and gives the stream."""
    pieces: list[Future[bytes]] = [pool.submit(_piece, data, start) for start in _starts(data)]
    return lambda: _join(data, [p.result() for p in pieces])


def _starts(data: bytes) -> range:
    """Where each piece begins (empty data is one empty piece)."""
    return range(0, max(len(data), 1), CHUNK)


def _piece(data: bytes, start: int) -> bytes:
    """Raw deflate of data[start:start + CHUNK], ending on a byte boundary (sync flush) or, the last, the end."""
    view = memoryview(data)
    last = start + CHUNK >= len(data)
    if start:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=view[max(start - WINDOW, 0):start])
    else:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = compressor.compress(view[start:start + CHUNK])
    return out + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _join(data: bytes, pieces: list[bytes]) -> bytes:
    """The zlib header (deflate, 32 KiB window, default level), the pieces, and the Adler-32 of all of ``data``."""
    return b"\x78\x9c" + b"".join(pieces) + zlib.adler32(data).to_bytes(4, "big")
