"""How a pack embeds its files, and the text its extracts hold, as other tools and an auditor read them:
text Arrow cannot hold, timestamps in any zone, deflate pieces at the real size, /Params, byte-identical packs,
tampering inside a piece, and a name tree other readers can search (an independent reviewer's attacks)."""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import zlib
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from evidence_app.evidence import deflate
from evidence_app.formatting import iso_utc_column
from evidence_app.render import to_csv

from pdftools import attachments, build, run, tool

# ---------------------------------------------------------------------------------------------------------------
# Lone surrogates: to_csv gives text for every frame, as the csv module writes it


def test_lone_surrogate_value_in_an_object_column_still_gives_csv_text():
    frame = pd.DataFrame({"a": pd.Series(["ok\ud800"], dtype=object), "b": ["x"]})
    assert to_csv(frame) == "a,b\nok\ud800,x\n"


def test_lone_surrogate_in_a_column_name_still_gives_csv_text():
    frame = pd.DataFrame([[1, 2]], columns=pd.Index(["a\udcff", "b"], dtype=object))
    assert to_csv(frame) == "a\udcff,b\n1,2\n"


# ---------------------------------------------------------------------------------------------------------------
# A non-UTC column with one value before the year 1000


def test_iso_utc_column_gives_true_utc_for_a_non_utc_column_with_an_early_year():
    us = np.array(["2026-01-01T10:00:00", "0999-06-01T00:00:00"], dtype="datetime64[us]")
    paris = pd.Series(us).dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
    assert iso_utc_column(paris).tolist()[0] == "2026-01-01T10:00:00Z"


def test_iso_utc_column_renders_a_timestamp_the_same_whatever_the_other_rows():
    at = pd.Timestamp("2026-01-01T10:00:00", tz="UTC")
    alone = pd.Series([at]).dt.tz_convert("Europe/Paris")
    early = pd.Series(np.array(["0999-06-01T00:00:00"], dtype="datetime64[us]")).dt.tz_localize("UTC")
    with_early = pd.concat([alone, early.dt.tz_convert("Europe/Paris")], ignore_index=True)
    assert iso_utc_column(alone).tolist()[0] == iso_utc_column(with_early).tolist()[0]


# ---------------------------------------------------------------------------------------------------------------
# The multi-piece stream at the real piece size, in a signed PDF, read by other tools


def _unsigned_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, "review")
    c.showPage()
    c.save()
    return buf.getvalue()


def _csv_like(size: int) -> bytes:
    rng = random.Random(7)
    line = b"".join(b"op-%08d,2026-09-%02dT10:00:00Z,t%d,/api/r%d\n" % (i, rng.randint(1, 30), rng.randint(0, 9),
                                                                        rng.randint(0, 40)) for i in range(200_000))
    return (line * (size // len(line) + 1))[:size]


@pytest.fixture(scope="module")
def big_signed(tmp_path_factory):
    from evidence_app.evidence.sign import Attachment, SigningOptions, load_identity, sign_with_attachments

    tmp = tmp_path_factory.mktemp("big")
    assert run("keygen", str(tmp / "id"), "--valid-from", "2026-01-01").exit_code == 0
    ident = load_identity(SigningOptions(key=tmp / "id" / "key.pem", cert=tmp / "id" / "cert.pem"))
    files = {
        "two_pieces.csv": _csv_like(deflate.CHUNK + deflate.WINDOW + 1),
        "exact.csv": _csv_like(deflate.CHUNK),
        "noise.bin": random.Random(11).randbytes(2 * deflate.CHUNK + 3),  # incompressible pieces
        "empty.csv": b"",
    }
    at = datetime(2026, 10, 30, tzinfo=timezone.utc)
    signed = sign_with_attachments(_unsigned_pdf(), [Attachment(n, d, "text/csv", n) for n, d in files.items()],
                                   ident, at)
    path = tmp / "big.pdf"
    path.write_bytes(signed)
    return path, files


def test_real_piece_size_streams_read_back_in_pyhanko_qpdf_and_poppler(big_signed, tmp_path):
    path, files = big_signed
    assert attachments(path) == files
    check = subprocess.run([tool("qpdf"), "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = json.loads(subprocess.run([tool("qpdf"), "--json", "--json-key=attachments", str(path)],
                                       capture_output=True, check=True).stdout)["attachments"]
    for name, data in files.items():
        number = listed[name]["preferredcontents"].split()[0]
        shown = subprocess.run([tool("qpdf"), f"--show-object={number}", "--filtered-stream-data", str(path)],
                               capture_output=True)
        assert shown.returncode == 0 and shown.stdout == data, name
    out = tmp_path / "detached"
    out.mkdir()
    subprocess.run([tool("pdfdetach"), "-saveall", "-o", str(out), str(path)], check=True, capture_output=True)
    for name, data in files.items():
        assert (out / name).read_bytes() == data, name


def _string_bytes(value) -> bytes:
    """A PDF string's bytes: pyHanko reads any string that decodes as text as text, an MD5 digest included."""
    return value.original_bytes if hasattr(value, "original_bytes") else bytes(value)


def test_embedded_file_params_still_carry_size_checksum_and_dates(big_signed):
    from pyhanko.pdf_utils.reader import PdfFileReader

    path, files = big_signed
    reader = PdfFileReader(io.BytesIO(path.read_bytes()), strict=False)
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    seen = {}
    for i in range(0, len(names), 2):
        stream = names[i + 1].get_object()["/EF"]["/F"].get_object()
        params = stream["/Params"]
        seen[str(names[i])] = (int(params["/Size"]), _string_bytes(params["/CheckSum"]), "/CreationDate" in params,
                               "/ModDate" in params, stream["/Filter"])
    for name, data in files.items():
        assert seen[name] == (len(data), hashlib.md5(data).digest(), True, True, "/FlateDecode")


def test_the_two_piece_stream_is_one_zlib_stream_with_the_whole_adler32(big_signed):
    _, files = big_signed
    data = files["two_pieces.csv"]
    stream = deflate.deflate(data)
    assert stream[:2] == b"\x78\x9c" and stream[-4:] == zlib.adler32(data).to_bytes(4, "big")
    d = zlib.decompressobj()
    assert d.decompress(stream) == data and d.eof and d.unused_data == b""
    assert deflate.deflate(files["exact.csv"]) == zlib.compress(files["exact.csv"])


# ---------------------------------------------------------------------------------------------------------------
# Packs whose extracts are cut in many pieces on threads are byte-identical run to run and pass qpdf


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(deflate, "CHUNK", 1000)  # smaller than the 32 KiB window: every piece sees all before it


def test_many_piece_packs_are_byte_identical_and_qpdf_clean(small_pieces, tmp_path):
    assert run("keygen", str(tmp_path / "id"), "--valid-from", "2026-01-01").exit_code == 0
    ident = (tmp_path / "id" / "key.pem", tmp_path / "id" / "cert.pem")
    one, two = build(tmp_path / "1.pdf", ident), build(tmp_path / "2.pdf", ident)
    assert one.read_bytes() == two.read_bytes()
    check = subprocess.run([tool("qpdf"), "--check", str(one)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    res = run("verify", str(one), "--trust", str(ident[1]))
    assert res.exit_code == 0, res.output


def test_verify_still_catches_an_edit_inside_a_multi_piece_attachment(small_pieces, tmp_path):
    assert run("keygen", str(tmp_path / "id"), "--valid-from", "2026-01-01").exit_code == 0
    ident = (tmp_path / "id" / "key.pem", tmp_path / "id" / "cert.pem")
    pack = build(tmp_path / "p.pdf", ident)
    data = bytearray(pack.read_bytes())
    population = attachments(pack)["population.csv"]
    stream = deflate.deflate(population)
    at = bytes(data).find(stream)
    assert at > 0  # the pieces as written are found verbatim in the file
    data[at + len(stream) // 2] ^= 0x01
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    res = run("verify", str(bad), "--trust", str(ident[1]))
    assert res.exit_code != 0, res.output


# ---------------------------------------------------------------------------------------------------------------
# The /EmbeddedFiles name tree is sorted


def test_every_extract_can_be_looked_up_by_name_in_qpdf(tmp_path):
    """A name tree's keys must be in sorted order (ISO 32000-1, 7.9.6); embedded in pack order, a reader that
    searches the tree, as qpdf --show-attachment does, found only 3 of the 10 files."""
    from evidence_app.evidence.extracts import BREAKDOWN_NAMES, EXTRACT_NAMES, MANIFEST

    assert run("keygen", str(tmp_path / "id"), "--valid-from", "2026-01-01").exit_code == 0
    pack = build(tmp_path / "p.pdf", (tmp_path / "id" / "key.pem", tmp_path / "id" / "cert.pem"))
    files = attachments(pack)
    missing = []
    for name in EXTRACT_NAMES + BREAKDOWN_NAMES + (MANIFEST,):
        shown = subprocess.run([tool("qpdf"), f"--show-attachment={name}", str(pack)], capture_output=True)
        if shown.returncode != 0 or shown.stdout != files[name]:
            missing.append(name)
    assert missing == []
