"""Verification that means something: each attack is built here with pyHanko, and each test asserts WHICH check
failed. Genuine = exactly one signature, in the pack's field, over every byte, by a trusted signer."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evidence_app.cli import main
from evidence_app.errors import EvidenceError
from evidence_app.evidence.trust import certificates_in, colon_hex, trust_from_files
from evidence_app.evidence.verify import verify_pack

import forge

WEEK = ["--start", "2026-10-01", "--end", "2026-10-07", "--generated-at", "2026-10-30T00:00:00Z"]


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def failed(stdout: str) -> set[str]:
    """Names of the checks the CLI printed as FAIL."""
    return set(re.findall(r"^FAIL  ([^:]+):", stdout, re.M))


def fingerprint_of(cert: Path) -> str:
    return hashlib.sha256(certificates_in(cert.read_bytes(), str(cert))[0]).hexdigest()


@pytest.fixture(scope="module")
def genuine_id(tmp_path_factory) -> forge.Ident:
    folder = tmp_path_factory.mktemp("genuine-id")
    res = run("keygen", folder, "--valid-from", "2026-01-01")
    assert res.exit_code == 0, res.output
    return forge.Ident(folder / "key.pem", folder / "cert.pem", fingerprint_of(folder / "cert.pem"))


@pytest.fixture(scope="module")
def attacker(tmp_path_factory) -> forge.Ident:
    """A fresh self-signed key whose subject name equals the genuine trial signer's."""
    return forge.make_identity(tmp_path_factory.mktemp("attacker"))


@pytest.fixture(scope="module")
def genuine(tmp_path_factory, genuine_id) -> Path:
    out = tmp_path_factory.mktemp("pack") / "genuine.pdf"
    res = run("pack", *WEEK, "--out", out, "--key", genuine_id.key, "--cert", genuine_id.cert)
    assert res.exit_code == 0, res.output
    return out


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def verify_trusted(path: Path, ident: forge.Ident, *extra: str):
    return run("verify", path, "--trust", ident.cert, *extra)


# --- genuine packs and the ways to trust their signer -------------------------------------------------------

def test_genuine_pack_with_its_signer_certificate_as_trust_passes(genuine, genuine_id):
    res = verify_trusted(genuine, genuine_id)
    assert res.exit_code == 0, res.output
    assert failed(res.stdout) == set() and "verification passed" in res.stdout


def test_pinned_fingerprint_as_keygen_prints_it_passes(genuine, genuine_id):
    res = run("verify", genuine, "--signer-fingerprint", colon_hex(genuine_id.fingerprint))
    assert res.exit_code == 0, res.output
    assert "OK    trust: trusted: the pinned fingerprint matches" in res.stdout


@pytest.mark.parametrize("spelling", [str.lower, str.upper, lambda fp: colon_hex(fp).lower(),
                                      lambda fp: "SHA256 Fingerprint=" + colon_hex(fp)])
def test_fingerprint_pin_tolerates_colons_case_and_openssl_prefix(genuine, genuine_id, spelling):
    assert run("verify", genuine, "--signer-fingerprint", spelling(genuine_id.fingerprint)).exit_code == 0


def test_without_trust_integrity_holds_but_signer_is_not_trusted(genuine, genuine_id):
    res = run("verify", genuine)
    assert res.exit_code == 1
    assert failed(res.stdout) == {"trust"}
    verdict = res.stdout.strip().splitlines()[-1]
    assert "signer not trusted" in verdict and "integrity OK" in verdict
    assert colon_hex(genuine_id.fingerprint) in verdict and genuine_id.fingerprint in verdict


def test_pack_by_a_ca_issued_certificate_passes_with_the_ca_as_trust(tmp_path):
    ca = forge.make_identity(tmp_path / "ca", "Example Audit CA", "Example GmbH", ca=True)
    leaf = forge.make_identity(tmp_path / "leaf", "Compliance Lead", "Example GmbH", issuer=ca)
    out = tmp_path / "ca-signed.pdf"
    res = run("pack", *WEEK, "--out", out, "--key", leaf.key, "--cert", leaf.cert, "--chain", ca.cert)
    assert res.exit_code == 0, res.output
    res = run("verify", out, "--trust", ca.cert)
    assert res.exit_code == 0, res.output
    assert "trusted: the signer's certificate chains to a CA in cert.pem" in res.stdout
    other_ca = forge.make_identity(tmp_path / "other-ca", "Example Audit CA", "Example GmbH", ca=True)
    res = run("verify", out, "--trust", other_ca.cert)
    assert res.exit_code == 1 and failed(res.stdout) == {"trust"}


def test_a_pem_bundle_of_several_certificates_is_one_trust_file(genuine, genuine_id, attacker, tmp_path):
    bundle = write(tmp_path, "bundle.pem", attacker.cert.read_bytes() + genuine_id.cert.read_bytes())
    assert run("verify", genuine, "--trust", bundle).exit_code == 0


# --- the forged, re-signed pack -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def forged(genuine, attacker, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("forged") / "forged.pdf"
    path.write_bytes(forge.forge(genuine.read_bytes(), attacker))
    return path


def test_forgery_really_whitewashes_the_extracts(forged, genuine):
    before, after = forge.embedded_files(genuine.read_bytes()), forge.embedded_files(forged.read_bytes())
    assert b",missing_" in before["population.csv"] and b",missing_" not in after["population.csv"]
    assert len(after["exceptions.csv"].splitlines()) == 1


def test_forged_pack_without_trust_fails_as_signer_not_trusted_with_its_fingerprint(forged, attacker):
    res = run("verify", forged)
    assert res.exit_code == 1
    assert failed(res.stdout) == {"trust"}
    assert "signer not trusted" in res.stdout and attacker.fingerprint in res.stdout


def test_forged_pack_fails_with_the_genuine_certificate_as_trust(forged, genuine_id):
    res = verify_trusted(forged, genuine_id)
    assert res.exit_code == 1 and failed(res.stdout) == {"trust"}
    assert "verification passed" not in res.stdout


def test_forged_pack_fails_with_the_genuine_fingerprint_pinned(forged, genuine_id):
    res = run("verify", forged, "--signer-fingerprint", genuine_id.fingerprint)
    assert res.exit_code == 1 and failed(res.stdout) == {"trust"}


def test_forgery_that_keeps_the_old_title_also_fails_the_pack_id_check(genuine, attacker, attacker_pin, tmp_path):
    naive = write(tmp_path, "naive.pdf", forge.forge(genuine.read_bytes(), attacker, retitle=False))
    res = run("verify", naive, *attacker_pin)
    assert res.exit_code == 1 and failed(res.stdout) == {"pack id"}


@pytest.fixture(scope="module")
def attacker_pin(attacker) -> list[str]:
    """Trust the attacker, to show which integrity checks still catch what they did."""
    return ["--signer-fingerprint", attacker.fingerprint]


# --- anything after the pack's signature ----------------------------------------------------------------------

def test_annotation_added_in_an_update_fails(genuine, genuine_id, tmp_path):
    bad = write(tmp_path, "annotated.pdf", forge.annotate(genuine.read_bytes()))
    res = verify_trusted(bad, genuine_id)
    assert res.exit_code == 1
    assert failed(res.stdout) == {"covers entire file", "revisions"}


def test_annotation_plus_a_second_signature_by_another_key_fails(genuine, genuine_id, attacker, tmp_path):
    bad = write(tmp_path, "annotated-signed.pdf", forge.annotate(genuine.read_bytes(), second=attacker))
    res = verify_trusted(bad, genuine_id)
    assert res.exit_code == 1
    assert failed(res.stdout) == {"signature count", "covers entire file", "revisions"}


def test_second_signature_covering_everything_fails_even_by_the_trusted_key(genuine, genuine_id, tmp_path):
    bad = write(tmp_path, "countersigned.pdf", forge.countersign(genuine.read_bytes(), genuine_id))
    res = verify_trusted(bad, genuine_id)
    assert res.exit_code == 1
    assert failed(res.stdout) == {"signature count", "covers entire file", "revisions"}


def test_empty_signature_field_added_in_an_update_fails(genuine, genuine_id, tmp_path):
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    writer = IncrementalPdfFileWriter(io.BytesIO(genuine.read_bytes()))
    fields.append_signature_field(writer, fields.SigFieldSpec("ApprovedBy"))
    out = io.BytesIO()
    writer.write(out)
    res = verify_trusted(write(tmp_path, "field.pdf", out.getvalue()), genuine_id)
    assert res.exit_code == 1
    assert failed(res.stdout) == {"signature count", "covers entire file", "revisions"}


def test_attachment_replaced_in_an_update_fails(genuine, genuine_id, tmp_path):
    fake = b"day,tenant,operator,route,action,expected\n2026-10-01,x,y,z,a,1\n"
    bad = write(tmp_path, "replaced.pdf", forge.replace_attachment(genuine.read_bytes(), "coverage.csv", fake))
    res = verify_trusted(bad, genuine_id)
    assert res.exit_code == 1
    assert failed(res.stdout) == {"covers entire file", "revisions", "attachments", "extract coverage.csv"}
    assert "changed after the signed revision: coverage.csv" in res.stdout


def test_attachment_added_in_an_update_fails(genuine, genuine_id, tmp_path):
    bad = write(tmp_path, "added.pdf", forge.add_attachment(genuine.read_bytes(), "waiver.csv", b"ok\nyes\n"))
    res = verify_trusted(bad, genuine_id)
    assert res.exit_code == 1
    assert failed(res.stdout) == {"covers entire file", "revisions", "attachments", "extract waiver.csv"}


def test_appended_bytes_fail_coverage(genuine, genuine_id, tmp_path):
    bad = write(tmp_path, "appended.pdf", genuine.read_bytes() + b"\n% COVERAGE 100 %\n")
    res = verify_trusted(bad, genuine_id)
    assert res.exit_code == 1 and failed(res.stdout) == {"covers entire file"}


def test_bytes_hidden_in_the_signature_gap_fail_coverage(genuine, genuine_id, tmp_path):
    data = bytearray(genuine.read_bytes())
    gap_end = data.index(b">", data.rindex(b"/Contents <")) - 1  # last hex digit of the zero padding
    assert data[gap_end:gap_end + 1] == b"0"
    data[gap_end] = ord("7")
    res = verify_trusted(write(tmp_path, "gap.pdf", bytes(data)), genuine_id)
    assert res.exit_code == 1 and failed(res.stdout) == {"covers entire file"}


def test_trusted_signature_in_another_field_fails(genuine, genuine_id, tmp_path):
    data = genuine.read_bytes()
    bad = forge.sign_files(forge.first_revision(data), forge.embedded_files(data), genuine_id, field="Signature1")
    res = verify_trusted(write(tmp_path, "other-field.pdf", bad), genuine_id)
    assert res.exit_code == 1 and failed(res.stdout) == {"signature field"}


def test_one_changed_signed_byte_fails_the_signature(genuine, genuine_id, tmp_path):
    data = bytearray(genuine.read_bytes())
    pos = data.index(b"(Evidence pack EP-") + 20
    data[pos] = ord("X") if data[pos] != ord("X") else ord("Y")
    res = verify_trusted(write(tmp_path, "flipped.pdf", bytes(data)), genuine_id)
    assert res.exit_code == 1
    assert "signature intact" in failed(res.stdout)


def _xref_line(data: bytes, number: int) -> int:
    """Where the last cross-reference table's entry for object `number` starts."""
    pos = data.rindex(b"\nxref\n") + len(b"\nxref\n")
    while True:
        header_end = data.index(b"\n", pos)
        first, count = map(int, data[pos:header_end].split())
        if first <= number < first + count:
            return header_end + 1 + 20 * (number - first)
        pos = header_end + 1 + 20 * count


def test_library_warnings_about_a_damaged_file_stay_out_of_the_output(genuine_bytes, trust, caplog):
    import logging

    data = genuine_bytes
    root = int(re.findall(rb"/Root (\d+) 0 R", data)[-1])
    entry = _xref_line(data, root)
    offset = int(data[entry:entry + 10])
    assert data[offset - 1:offset] == b"\n"
    damaged = data[:entry] + b"%010d" % (offset - 1) + data[entry + 10:]  # off by one whitespace byte
    with caplog.at_level(logging.DEBUG):
        result = verify_pack(damaged, trust)
    assert "signature intact" in result.failed
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pyhanko")] == []


# --- bad input: one clear line, never a traceback ------------------------------------------------------------

def test_malformed_embedded_files_tree_is_a_failed_check(genuine, genuine_id, tmp_path):
    bad = write(tmp_path, "malformed.pdf", forge.malformed_names(genuine.read_bytes(), genuine_id))
    res = verify_trusted(bad, genuine_id)
    assert res.exit_code == 1 and not isinstance(res.exception, Exception)
    assert "attachments" in failed(res.stdout) and "Traceback" not in res.output


def test_truncated_pack_is_one_clear_line(genuine, genuine_id, tmp_path):
    cut = write(tmp_path, "cut.pdf", genuine.read_bytes()[: len(genuine.read_bytes()) * 2 // 3])
    res = verify_trusted(cut, genuine_id)
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "not a readable PDF" in res.stderr and str(cut) in res.stderr


def test_not_a_pdf_is_a_usage_error(tmp_path):
    res = run("verify", write(tmp_path, "junk.pdf", b"hello, auditor"))
    assert res.exit_code == 2 and res.stderr.startswith("error: ") and "not a PDF" in res.stderr
    assert res.stderr.count("\n") == 1


@pytest.mark.parametrize("content", [b"", b"not a certificate at all",
                                     b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"])
def test_trust_file_that_is_not_a_certificate_is_a_usage_error(genuine, tmp_path, content):
    res = run("verify", genuine, "--trust", write(tmp_path, "trust.pem", content))
    assert res.exit_code == 2 and "--trust" in res.stderr and "not a certificate" in res.stderr
    assert res.stderr.count("\n") == 1


def test_private_key_given_as_trust_is_named_for_what_it_is(genuine, genuine_id):
    res = run("verify", genuine, "--trust", genuine_id.key)
    assert res.exit_code == 2 and "not a certificate (the PEM file holds: PRIVATE KEY)" in res.stderr


def test_missing_trust_file_is_a_usage_error(genuine, tmp_path):
    res = run("verify", genuine, "--trust", tmp_path / "nope.pem")
    assert res.exit_code == 2 and "nope.pem" in res.stderr


@pytest.mark.parametrize("value", ["abc", "zz" * 32, "12:34"])
def test_malformed_fingerprint_is_a_usage_error(genuine, value):
    res = run("verify", genuine, "--signer-fingerprint", value)
    assert res.exit_code == 2 and "--signer-fingerprint" in res.stderr


# --- what the signer's fingerprint looks like where people compare it ---------------------------------------

def test_keygen_prints_the_certificate_fingerprint(tmp_path):
    res = run("keygen", tmp_path / "id", "--valid-from", "2026-01-01")
    assert res.exit_code == 0
    fp = fingerprint_of(tmp_path / "id" / "cert.pem")
    assert colon_hex(fp) in res.stdout and f"--signer-fingerprint {fp}" in res.stdout


def test_manifest_records_the_signer_fingerprint(genuine, genuine_id):
    import json

    manifest = json.loads(forge.embedded_files(genuine.read_bytes())["manifest.json"])
    assert manifest["signer_sha256"] == genuine_id.fingerprint


# --- fuzz: random damage never verifies and never escapes as a foreign exception ----------------------------

@pytest.fixture(scope="module")
def genuine_bytes(genuine) -> bytes:
    return genuine.read_bytes()


@pytest.fixture(scope="module")
def trust(genuine_id):
    return trust_from_files([genuine_id.cert])


def _assert_never_passes(data: bytes, trust) -> None:
    try:
        result = verify_pack(data, trust)
    except EvidenceError:
        return
    assert not result.ok, "a damaged pack verified as passed"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=4),
       tail=st.booleans())
def test_random_byte_edits_never_verify(genuine_bytes, trust, edits, tail):
    data = bytearray(genuine_bytes)
    start = len(data) - 12_000 if tail else 0  # the tail holds the signature, xref and trailer
    for where, value in edits:
        pos = start + int(where * (len(data) - start))
        data[pos] = value if value != data[pos] else value ^ 0x20
    assume(bytes(data) != genuine_bytes)  # two edits of one byte can put it back as it was
    _assert_never_passes(bytes(data), trust)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keep=st.floats(0, 1, exclude_max=True))
def test_truncations_never_verify(genuine_bytes, trust, keep):
    _assert_never_passes(genuine_bytes[: int(keep * len(genuine_bytes))], trust)


def test_verify_pack_takes_a_certificate_path_as_trust(genuine_bytes, genuine_id):
    assert verify_pack(genuine_bytes, genuine_id.cert).ok
    assert verify_pack(genuine_bytes).failed == ("trust",)


# --- the CMS container's unsigned parts --------------------------------------------------------------------------

def _extra_certificate(attacker):
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate(attacker.cert.read_bytes()).public_bytes(Encoding.DER))


def test_a_certificate_slipped_into_the_cms_bag_fails(genuine, genuine_id, attacker, tmp_path):
    from asn1crypto import cms

    def add(info):
        certs = list(info["content"]["certificates"])
        info["content"]["certificates"] = certs + [cms.CertificateChoices(name="certificate",
                                                                          value=_extra_certificate(attacker))]

    res = verify_trusted(write(tmp_path, "bag.pdf", forge.edit_cms(genuine.read_bytes(), add)), genuine_id)
    assert res.exit_code == 1 and failed(res.stdout) == {"covers entire file"}, res.stdout


def test_an_unsigned_attribute_slipped_into_the_cms_fails(genuine, genuine_id, tmp_path):
    from asn1crypto import cms

    def add(info):
        signer = info["content"]["signer_infos"][0]
        signer["unsigned_attrs"] = cms.CMSAttributes([cms.CMSAttribute(
            {"type": "signing_time", "values": [cms.Time(name="utc_time", value=datetime.now(timezone.utc))]})])

    res = verify_trusted(write(tmp_path, "attr.pdf", forge.edit_cms(genuine.read_bytes(), add)), genuine_id)
    assert res.exit_code == 1 and failed(res.stdout) == {"covers entire file"}, res.stdout


def test_an_unchanged_cms_rewritten_the_same_way_still_passes(genuine, genuine_id, tmp_path):
    """The control for the two tests above: the rewriting itself breaks nothing."""
    res = verify_trusted(write(tmp_path, "same.pdf", forge.edit_cms(genuine.read_bytes(), lambda info: None)),
                         genuine_id)
    assert res.exit_code == 0, res.stdout


def test_json_output_has_the_same_checks_and_the_signer_certificates_expiry_for_a_plain_pack(genuine, genuine_id):
    import json

    from cryptography import x509

    res = verify_trusted(genuine, genuine_id, "--format", "json")
    assert res.exit_code == 0, res.stdout
    found = json.loads(res.stdout)
    text = verify_trusted(genuine, genuine_id)
    assert found["ok"] is True and found["verdict"] in text.stdout
    assert [c["name"] for c in found["checks"]] == re.findall(r"^(?:OK  |FAIL|INFO)  ([^:]+):", text.stdout, re.M)
    cert = x509.load_pem_x509_certificate(genuine_id.cert.read_bytes())
    assert found["level"] == "B-B"
    assert found["verifiable_until"] == cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
