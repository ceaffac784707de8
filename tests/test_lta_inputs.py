"""--validation-data files: certificates, CRLs and OCSP responses sorted by what they parse as; anything else is a
one-line usage error naming the file, never a traceback."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence_app.errors import UsageError
from evidence_app.evidence import lta
from evidence_app.evidence.sign import keygen


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """A self-signed certificate (keygen's) and a CRL it issued, PEM and DER."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    folder = tmp_path_factory.mktemp("ca")
    key_path, cert_path = keygen(folder, "test CA")
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    now = datetime.now(timezone.utc)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(cert.subject).last_update(now)
           .next_update(now + timedelta(days=7)).sign(key, hashes.SHA256()))
    (folder / "ca.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    (folder / "ca.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    (folder / "ca.crl.pem").write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return folder, cert.public_bytes(serialization.Encoding.DER), crl.public_bytes(serialization.Encoding.DER)


def test_a_self_signed_certificate_is_an_anchor_in_pem_and_der(ca):
    folder, der, _ = ca
    for name in ("cert.pem", "ca.der"):
        found = lta.inputs_from_files([folder / name])
        assert found.anchors == (der,) and found.certificates == () and found.crls == ()


def test_a_crl_is_a_crl_in_pem_and_der(ca):
    folder, _, crl = ca
    for name in ("ca.crl", "ca.crl.pem"):
        found = lta.inputs_from_files([folder / name])
        assert found.crls == (crl,) and found.anchors == () and found.ocsps == ()


def test_a_private_key_is_refused_naming_the_file(ca):
    folder, _, _ = ca
    with pytest.raises(UsageError, match=r"--validation-data .*key\.pem: not a certificate"):
        lta.inputs_from_files([folder / "key.pem"])


def test_a_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="cannot read"):
        lta.inputs_from_files([tmp_path / "nope.der"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=400), st.text(max_size=300).map(str.encode),
                      st.binary(max_size=200).map(lambda b: b"-----BEGIN CERTIFICATE-----\n" + b
                                                  + b"\n-----END CERTIFICATE-----\n"),
                      st.binary(max_size=200).map(lambda b: b"-----BEGIN X509 CRL-----\n" + b
                                                  + b"\n-----END X509 CRL-----\n"),
                      st.binary(max_size=200).map(lambda b: b"\x30\x82" + b)))
def test_any_file_is_sorted_or_refused_with_a_usage_error(tmp_path, data):
    path = Path(tmp_path) / "input"
    path.write_bytes(data)
    try:
        found = lta.inputs_from_files([path])
    except UsageError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert isinstance(found, lta.ValidationInputs)


def test_validation_options_without_lta_are_a_usage_error(ca, tmp_path):
    from click.testing import CliRunner

    from evidence_app.cli import main

    folder, _, _ = ca
    res = CliRunner().invoke(main, ["pack", "--start", "2026-08-01", "--end", "2026-08-02", "--out",
                                    str(tmp_path / "p.pdf"), "--key", str(folder / "key.pem"), "--cert",
                                    str(folder / "cert.pem"), "--trust", str(folder / "cert.pem")])
    assert res.exit_code == 2 and "--validation-data and --trust are for --lta" in res.stderr
    assert not (tmp_path / "p.pdf").exists()
