"""Signing errors say what really failed, in one line, exit 2, before any heavy work — and keep their cause."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_app.cli import main
from evidence_app.errors import UsageError
from evidence_app.evidence import build
from evidence_app.evidence.sign import SigningOptions, load_identity

import forge

PACK = ["pack", "--start", "2026-10-01", "--end", "2026-10-01"]
NO_PASSPHRASE = {"EVIDENCE_SIGNING_PASSPHRASE": ""}


@pytest.fixture
def no_heavy_work(monkeypatch):
    """Reconciling is the heavy work: the errors below must be found before it starts."""
    def refuse(*_a, **_k):
        raise AssertionError("reconciliation started before the error was detected")

    monkeypatch.setattr(build, "gather", refuse)


@pytest.fixture(scope="module")
def ident(tmp_path_factory) -> forge.Ident:
    return forge.make_identity(tmp_path_factory.mktemp("id"))


def pack(tmp_path: Path, *signing: str, env: dict | None = None, out: Path | None = None):
    return CliRunner().invoke(main, [*PACK, "--out", str(out or tmp_path / "p.pdf"), *map(str, signing)],
                              env=env if env is not None else NO_PASSPHRASE)


def one_line(res, *words: str) -> None:
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "Traceback" not in res.output
    for word in words:
        assert word in res.stderr, res.stderr


def _encrypted_copy(ident: forge.Ident, folder: Path, passphrase: bytes) -> Path:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(ident.key.read_bytes(), None)
    path = folder / "enc.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(passphrase)))
    return path


def test_missing_key_file_is_named(tmp_path, ident, no_heavy_work):
    one_line(pack(tmp_path, "--key", tmp_path / "absent.pem", "--cert", ident.cert), "--key", "file not found",
             "absent.pem")


def test_certificate_given_as_key_is_not_a_private_key(tmp_path, ident, no_heavy_work):
    one_line(pack(tmp_path, "--key", ident.cert, "--cert", ident.cert), "not a private key", "CERTIFICATE")


def test_garbage_key_is_not_a_private_key(tmp_path, ident, no_heavy_work):
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"\x00\x01 definitely not a key")
    one_line(pack(tmp_path, "--key", junk, "--cert", ident.cert), "not a private key", "junk.pem")


def test_encrypted_key_without_passphrase_says_a_passphrase_is_needed(tmp_path, ident, no_heavy_work):
    enc = _encrypted_copy(ident, tmp_path, b"s3cret")
    one_line(pack(tmp_path, "--key", enc, "--cert", ident.cert), "encrypted", "no passphrase was given",
             "EVIDENCE_SIGNING_PASSPHRASE")


def test_encrypted_key_with_the_wrong_passphrase_says_so(tmp_path, ident, no_heavy_work):
    enc = _encrypted_copy(ident, tmp_path, b"s3cret")
    res = pack(tmp_path, "--key", enc, "--cert", ident.cert, env={"EVIDENCE_SIGNING_PASSPHRASE": "nope"})
    one_line(res, "wrong passphrase")
    assert "nope" not in res.output


def test_certificate_for_another_key_is_refused(tmp_path, ident, no_heavy_work):
    other = forge.make_identity(tmp_path / "other")
    one_line(pack(tmp_path, "--key", ident.key, "--cert", other.cert), "does not match", "different key")


def test_cert_that_is_not_a_certificate_is_named(tmp_path, ident, no_heavy_work):
    one_line(pack(tmp_path, "--key", ident.key, "--cert", ident.key), "--cert", "not a certificate")


def test_chain_that_is_not_a_certificate_is_named(tmp_path, ident, no_heavy_work):
    bad = tmp_path / "chain.pem"
    bad.write_text("nothing here")
    one_line(pack(tmp_path, "--key", ident.key, "--cert", ident.cert, "--chain", bad), "--chain", "not a certificate")


def _p12(ident: forge.Ident, folder: Path, passphrase: bytes) -> Path:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, load_pem_private_key, pkcs12

    key = load_pem_private_key(ident.key.read_bytes(), None)
    cert = x509.load_pem_x509_certificate(ident.cert.read_bytes())
    path = folder / "id.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"id", key, cert, None, BestAvailableEncryption(passphrase)))
    return path


def test_file_that_is_not_pkcs12_is_named(tmp_path, ident, no_heavy_work):
    one_line(pack(tmp_path, "--pkcs12", ident.cert), "--pkcs12", "not a PKCS#12 file")


def test_pkcs12_without_passphrase_says_one_is_needed(tmp_path, ident, no_heavy_work):
    one_line(pack(tmp_path, "--pkcs12", _p12(ident, tmp_path, b"pw")), "no passphrase was given")


def test_pkcs12_with_the_wrong_passphrase_says_so(tmp_path, ident, no_heavy_work):
    res = pack(tmp_path, "--pkcs12", _p12(ident, tmp_path, b"pw"), env={"EVIDENCE_SIGNING_PASSPHRASE": "bad"})
    one_line(res, "wrong passphrase")


def test_key_loading_errors_keep_their_cause(tmp_path, ident):
    enc = _encrypted_copy(ident, tmp_path, b"right")
    (tmp_path / "pass").write_text("wrong\n")
    with pytest.raises(UsageError, match="wrong passphrase") as caught:
        load_identity(SigningOptions(key=enc, cert=ident.cert, passphrase_file=tmp_path / "pass"))
    assert isinstance(caught.value.__cause__, ValueError)


def test_right_passphrase_loads_and_reports_the_fingerprint(tmp_path, ident):
    enc = _encrypted_copy(ident, tmp_path, b"right")
    (tmp_path / "pass").write_text("right\n")
    loaded = load_identity(SigningOptions(key=enc, cert=ident.cert, passphrase_file=tmp_path / "pass"))
    assert loaded.fingerprint == ident.fingerprint


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_tsa_is_a_usage_error_naming_the_url(tmp_path, ident, no_heavy_work):
    url = f"http://127.0.0.1:{_closed_port()}/tsa"
    res = pack(tmp_path, "--key", ident.key, "--cert", ident.cert, "--tsa", url)
    one_line(res, f"--tsa {url}", "did not answer")
    assert not (tmp_path / "p.pdf").exists()


def test_tsa_that_is_not_a_url_is_a_usage_error(tmp_path, ident, no_heavy_work):
    one_line(pack(tmp_path, "--key", ident.key, "--cert", ident.cert, "--tsa", "tsa.example"), "not an http(s) URL")


def test_out_under_a_file_is_a_usage_error_before_the_work(tmp_path, ident, no_heavy_work):
    blocker = tmp_path / "report.txt"
    blocker.write_text("a file, not a folder")
    out = blocker / "pack.pdf"
    one_line(pack(tmp_path, "--key", ident.key, "--cert", ident.cert, out=out), "--out", str(out))


def test_out_that_is_a_folder_is_a_usage_error(tmp_path, ident, no_heavy_work):
    res = pack(tmp_path, "--key", ident.key, "--cert", ident.cert, out=tmp_path)
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_out_in_a_read_only_place_is_a_usage_error(tmp_path, ident, no_heavy_work):
    out = Path("/proc/evidence-pack.pdf")
    one_line(pack(tmp_path, "--key", ident.key, "--cert", ident.cert, out=out), "--out", str(out))
