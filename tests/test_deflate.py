"""Extracts deflated in pieces on several threads are still one standard zlib stream, read by any PDF tool."""

from __future__ import annotations

import random
import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.evidence import deflate

from pdftools import attachments, build, run, tool


def csv_like(n: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    return b"".join(b"op-%08d,2026-09-%02dT10:00:00Z,t%d,/api/r%d\n" % (i, rng.randint(1, 30), rng.randint(0, 9),
                                                                        rng.randint(0, 40)) for i in range(n))


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces of 4 KiB, so a small file is cut in many places (a pack's extracts are cut at 8 MiB)."""
    monkeypatch.setattr(deflate, "CHUNK", 4096)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=20_000) | st.integers(0, 700).map(csv_like))
def test_pieces_inflate_to_the_data(data):
    original = deflate.CHUNK
    deflate.CHUNK = 4096
    try:
        assert zlib.decompress(deflate.deflate(data)) == data
    finally:
        deflate.CHUNK = original


def test_a_file_of_one_piece_is_exactly_what_zlib_makes():
    """Below the piece size the stream is zlib.compress's (and pyHanko's): packs of small data did not change."""
    for data in (b"", b"a", csv_like(1000)):
        assert deflate.deflate(data) == zlib.compress(data)


def test_threads_give_the_same_bytes_as_one_thread(small_pieces):
    data = csv_like(3000)
    with ThreadPoolExecutor(3) as pool:
        assert deflate.submit(pool, data)() == deflate.deflate(data)


def test_cutting_costs_almost_no_compression(small_pieces):
    """Each piece starts from the previous 32 KiB: the stream is within a few percent of the uncut one."""
    data = csv_like(20_000)
    assert len(deflate.deflate(data)) <= len(zlib.compress(data)) * 1.05


def test_a_pack_of_extracts_cut_into_pieces_verifies_and_reads_in_other_tools(small_pieces, tmp_path):
    """The whole path: extracts deflated in 4 KiB pieces, signed, verified, and detached by poppler."""
    folder = tmp_path / "id"
    assert run("keygen", str(folder), "--valid-from", "2026-01-01").exit_code == 0
    ident = (folder / "key.pem", folder / "cert.pem")
    pack = build(tmp_path / "pack.pdf", ident)
    res = run("verify", str(pack), "--trust", str(ident[1]))
    assert res.exit_code == 0, res.output
    files = attachments(pack)
    assert len(files["population.csv"]) > 4 * 4096  # really cut into pieces
    out = tmp_path / "detached"
    out.mkdir()
    subprocess.run([tool("pdfdetach"), "-saveall", "-o", str(out), str(pack)], check=True, capture_output=True)
    assert (out / "population.csv").read_bytes() == files["population.csv"]
    assert (out / "coverage.csv").read_bytes() == files["coverage.csv"]
