"""PAdES B-LTA against a real test PKI on 127.0.0.1 (certomancer: RFC 3161 timestamps, OCSP, CRLs over HTTP):
`pack --lta` embeds validation data and a document timestamp, `renew` adds another, `verify` validates offline as
of the timestamps — and accepts after the pack's signature exactly those archival revisions, nothing else."""

from __future__ import annotations

import io
import re
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import forge
from conftest import WAIT_S
from pdftools import PERIOD, run
from pki_server import ARCH, local_pki

from evidence_app.evidence import lta
from evidence_app.evidence.sign import timestamper
from evidence_app.evidence.trust import trust_from_files
from evidence_app.evidence.verify import verify_pack


def failed(stdout: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^FAIL  ([^:]+):", stdout, re.M)}


def stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(pki, out: Path, signer: str, *extra: str):
    """`pack` of the bundled sample, signed by the PKI's ``signer`` (chain: the intermediate CA)."""
    return run("pack", *PERIOD, "--generated-at", stamp(pki.now), "--out", str(out), "--key", str(pki.key(signer)),
               "--cert", str(pki.pem(signer)), "--chain", str(pki.pem("interm")), "--tsa", pki.tsa_url(), *extra)


def build_lta(pki, out: Path, signer: str = "signer") -> Path:
    res = build(pki, out, signer, "--lta", "--trust", str(pki.pem("root")))
    assert res.exit_code == 0, res.stderr + res.stdout
    return out


def verify(pki, path: Path, *extra: str):
    return run("verify", str(path), "--trust", str(pki.pem("root")), *extra)


def root_trust(pki):
    return trust_from_files([pki.pem("root")])


def inputs(pki) -> lta.ValidationInputs:
    return lta.inputs_from_files([pki.pem("root"), pki.pem("interm")])


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    with local_pki(tmp_path_factory.mktemp("pki")) as served:
        yield served


@pytest.fixture(scope="module")
def lta_pack(pki, tmp_path_factory) -> Path:
    return build_lta(pki, tmp_path_factory.mktemp("lta") / "pack.pdf")


@pytest.fixture(scope="module")
def lta_bytes(lta_pack) -> bytes:
    return lta_pack.read_bytes()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    (tmp_path / name).write_bytes(data)
    return tmp_path / name


# --- the archival pack -------------------------------------------------------------------------------------------

def test_pack_says_until_when_it_stays_verifiable(pki, tmp_path):
    res = build(pki, tmp_path / "p.pdf", "signer", "--lta", "--trust", str(pki.pem("root")))
    assert res.exit_code == 0, res.stderr
    assert f"PAdES B-LTA: verifiable until {stamp(pki.not_after('tsa'))}" in res.stdout


def test_lta_pack_verifies_offline_with_its_validation_data(pki, lta_pack):
    res = verify(pki, lta_pack)
    assert res.exit_code == 0, res.stdout
    assert failed(res.stdout) == set()
    assert "OK    long-term validation: valid as of" in res.stdout
    assert "exactly one signature and 1 document timestamp(s)" in res.stdout
    assert "archival revision(s) after the pack's signature" in res.stdout
    assert f"PAdES B-LTA, verifiable until {stamp(pki.not_after('tsa'))}" in res.stdout


def test_verify_json_carries_the_level_and_until_when(pki, lta_pack):
    import json

    res = verify(pki, lta_pack, "--format", "json")
    assert res.exit_code == 0, res.stdout
    found = json.loads(res.stdout)
    assert found["ok"] is True and found["level"] == "B-LTA"
    assert found["verifiable_until"] == stamp(pki.not_after("tsa"))
    assert {"name": "long-term validation", "ok": True} .items() <= next(
        c for c in found["checks"] if c["name"] == "long-term validation").items()


def test_lta_pack_carries_the_chains_crls_and_ocsp_responses_in_its_dss(lta_bytes, pki):
    from asn1crypto import x509
    from pyhanko.pdf_utils.reader import PdfFileReader

    dss = PdfFileReader(io.BytesIO(lta_bytes)).root["/DSS"]
    certs = {x509.Certificate.load(s.get_object().data).subject.native["common_name"] for s in dss["/Certs"]}
    assert {"test signer", "test interm", "test tsa"} <= certs
    assert len(dss["/OCSPs"]) >= 1 and len(dss["/CRLs"]) >= 1  # the signer by OCSP, the CA and TSA by the root CRL


def test_the_pack_signature_is_the_first_revisions_and_stays_untouched(lta_pack, pki, tmp_path):
    from pyhanko.pdf_utils.reader import PdfFileReader

    data = lta_pack.read_bytes()
    renewed = renew(pki, lta_pack, tmp_path / "renewed.pdf", "tsa2").read_bytes()
    sig = PdfFileReader(io.BytesIO(data)).embedded_regular_signatures[0]
    end = sig.byte_range[2] + sig.byte_range[3]
    assert renewed[:len(data)] == data and data[:end] == renewed[:end]
    again = PdfFileReader(io.BytesIO(renewed)).embedded_regular_signatures[0]
    assert list(again.byte_range) == list(sig.byte_range) and again.pkcs7_content == sig.pkcs7_content


def test_lta_without_tsa_is_a_usage_error(pki, tmp_path):
    res = run("pack", *PERIOD, "--generated-at", stamp(pki.now), "--out", str(tmp_path / "x.pdf"), "--key",
              str(pki.key("signer")), "--cert", str(pki.pem("signer")), "--lta")
    assert res.exit_code == 2 and "--lta needs --tsa" in res.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_a_signer_revoked_before_signing_gets_no_lta_pack(pki, tmp_path):
    res = build(pki, tmp_path / "revoked.pdf", "revoked", "--lta", "--trust", str(pki.pem("root")))
    assert res.exit_code == 2, res.stdout
    assert "revoked" in res.stderr and not (tmp_path / "revoked.pdf").exists()


# --- time passes: expiry, revocation, renewal -------------------------------------------------------------------

def test_signer_certificate_expired_after_signing_still_verifies_as_of_its_timestamp(tmp_path):
    """The PKI is shut down before verifying: nothing can be fetched, the pack alone must do."""
    with local_pki(tmp_path / "pki") as pki:
        short = build_lta(pki, tmp_path / "short.pdf", "short")
    later = pki.not_after("short") + timedelta(days=2)
    res = verify(pki, short, "--at", stamp(later))
    assert res.exit_code == 0, res.stdout
    assert f"OK    long-term validation: valid as of {stamp(later)}" in res.stdout
    # and the check is real: past the timestamp certificate's expiry, the same pack no longer verifies
    res = verify(pki, short, "--at", stamp(pki.not_after("tsa") + timedelta(days=1)))
    assert res.exit_code == 1 and "long-term validation" in failed(res.stdout)


def _until_expired(pki, label: str) -> None:
    """Wait until the wall clock is past ``label``'s expiry by more than pyHanko's time tolerance (1 s) — a
    condition, not a fixed sleep."""
    deadline = time.monotonic() + WAIT_S
    while datetime.now(timezone.utc) <= pki.not_after(label) + timedelta(seconds=3):
        assert time.monotonic() < deadline, f"{label} did not expire within {WAIT_S} s"
        time.sleep(0.2)


def test_signer_certificate_really_expired_still_verifies_and_renews(tmp_path):
    """Not only ``--at`` in the future: once the wall clock is past the signer's expiry, the pack alone still proves
    it was signed while the certificate was valid, and it can be renewed (the verdict never depends on the clock
    the validation runs on)."""
    with local_pki(tmp_path / "pki", short_lived=timedelta(seconds=40)) as pki:
        short = build_lta(pki, tmp_path / "short.pdf", "short")
        assert datetime.now(timezone.utc) < pki.not_after("short"), "the pack was made after the signer expired"
        _until_expired(pki, "short")
        res = verify(pki, short)
        assert res.exit_code == 0, res.stdout
        assert failed(res.stdout) == set()
        assert "OK    long-term validation: valid as of" in res.stdout
        before = stamp(pki.not_after("short") - timedelta(seconds=5))
        assert verify(pki, short, "--at", before).exit_code == 0
        renewed = renew(pki, short, tmp_path / "renewed.pdf", "tsa2")
    res = verify(pki, renewed)
    assert res.exit_code == 0, res.stdout
    assert "exactly one signature and 2 document timestamp(s)" in res.stdout
    # the check is real: past the renewal's timestamp certificate's expiry, it no longer verifies
    assert verify(pki, renewed, "--at", stamp(pki.not_after("tsa2") + timedelta(days=1))).exit_code == 1


def _dss_update(data: bytes, crls: list[bytes], certs: list[bytes], ocsps: list[bytes] = ()) -> bytes:
    """A DSS-only revision with the given validation data (what any archiving tool may add)."""
    from asn1crypto import crl, ocsp, x509
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    out = io.BytesIO(data)
    DocumentSecurityStore.add_dss(out, sig_contents=None, certs=[x509.Certificate.load(c) for c in certs],
                                  crls=[crl.CertificateList.load(c) for c in crls],
                                  ocsps=[ocsp.OCSPResponse.load(o) for o in ocsps], force_write=True)
    return out.getvalue()


def _fetch(url: str, body: bytes | None = None) -> bytes:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/ocsp-request"} if body
                                     else {})
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - the test PKI on 127.0.0.1
        return reply.read()


def _ocsp_now(pki, label: str) -> bytes:
    """The intermediate CA's OCSP responder's answer about ``label``, as it stands now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    cert = x509.load_pem_x509_certificate(pki.pem(label).read_bytes())
    issuer = x509.load_pem_x509_certificate(pki.pem("interm").read_bytes())
    req = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()  # noqa: S303 - RFC 6960
    answer = _fetch(f"{pki.base}/{ARCH}/ocsp/interm", req.public_bytes(serialization.Encoding.DER))
    from asn1crypto import ocsp as asn1_ocsp

    assert asn1_ocsp.OCSPResponse.load(answer)["response_status"].native == "successful"
    return answer


def _with_current_revocation(pki, data: bytes, signer: str) -> tuple[bytes, str]:
    """The responder's current answer about ``signer`` and the CA's CRLs put into the pack's DSS, then a document
    timestamp over them; returns the bytes and the OCSP status in words."""
    from asn1crypto import ocsp, pem

    crls = [_fetch(f"{pki.base}/{ARCH}/crls/{repo}/latest.crl") for repo in ("interm", "root")]
    answer = _ocsp_now(pki, signer)
    status = ocsp.OCSPResponse.load(answer).basic_ocsp_response["tbs_response_data"]["responses"][0]["cert_status"]
    interm = pem.unarmor(pki.pem("interm").read_bytes())[2]
    out = lta.archive(_dss_update(data, crls, [interm], [answer]), timestamper(pki.tsa_url()), inputs(pki),
                      first_target=False)
    return out, status.name


def test_signer_revoked_after_signing_still_verifies_with_the_revocation_on_file(pki, tmp_path):
    pack = build_lta(pki, tmp_path / "later.pdf", "later")
    revoked_at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=2)
    pki.revoke("later", revoked_at)
    # the responder's answer is fetched a few seconds after the revocation (beyond validation's 1 s tolerance),
    # as it would be days later in practice: at the revocation time it is not yet known, the earlier one is
    while datetime.now(timezone.utc) <= revoked_at + timedelta(seconds=2):
        time.sleep(0.05)
    data, status = _with_current_revocation(pki, pack.read_bytes(), "later")
    assert status == "revoked"  # the DSS now says so, with a revocation time after the signature's timestamp
    result = verify_pack(data, root_trust(pki))
    assert result.ok, [c.detail for c in result.checks if c.ok is False]
    assert result.level == "B-LTA"


def test_signer_revoked_before_signing_fails_even_with_a_timestamp_and_validation_data(pki, tmp_path):
    res = build(pki, tmp_path / "bt.pdf", "revoked")  # B-T: nothing checks revocation while signing
    assert res.exit_code == 0, res.stderr
    data, status = _with_current_revocation(pki, (tmp_path / "bt.pdf").read_bytes(), "revoked")
    assert status == "revoked"
    result = verify_pack(data, root_trust(pki))
    assert not result.ok
    long_term = next(c for c in result.checks if c.name == "long-term validation")
    assert long_term.ok is False and "REVOKED" in long_term.detail.upper()
    assert "trust" in result.failed


def renew(pki, src: Path, out: Path, tsa: str = "tsa2") -> Path:
    res = run("renew", str(src), "--tsa", pki.tsa_url(tsa), "--out", str(out), "--trust", str(pki.pem("root")))
    assert res.exit_code == 0, res.stderr + res.stdout
    return out


def test_renew_adds_a_timestamp_and_verify_reports_the_new_expiry(pki, lta_pack, tmp_path):
    renewed = renew(pki, lta_pack, tmp_path / "renewed.pdf", "tsa2")
    res = verify(pki, renewed)
    assert res.exit_code == 0, res.stdout
    assert "exactly one signature and 2 document timestamp(s)" in res.stdout
    assert f"verifiable until {stamp(pki.not_after('tsa2'))}" in res.stdout
    assert pki.not_after("tsa2") > pki.not_after("tsa")
    # after the first timestamp's certificate expired, only the renewed pack still verifies
    between = stamp(pki.not_after("tsa") + timedelta(days=30))
    assert verify(pki, lta_pack, "--at", between).exit_code == 1
    res = verify(pki, renewed, "--at", between)
    assert res.exit_code == 0, res.stdout
    assert verify(pki, renewed, "--at", stamp(pki.not_after("tsa2") + timedelta(days=1))).exit_code == 1


def test_renew_refuses_a_pack_that_does_not_verify(pki, lta_pack, tmp_path):
    bad = write(tmp_path, "annotated.pdf", forge.annotate(lta_pack.read_bytes()))
    res = run("renew", str(bad), "--tsa", pki.tsa_url(), "--out", str(tmp_path / "out.pdf"),
              "--trust", str(pki.pem("root")))
    assert res.exit_code == 1 and "does not verify" in res.stderr
    assert not (tmp_path / "out.pdf").exists()


def test_a_renewal_that_would_not_verify_is_never_written(pki, lta_pack, tmp_path, monkeypatch):
    """Whatever went wrong in the renewal (here: it hands back a pack with an annotation added), renew checks its own
    output as verify would and writes nothing rather than report a success verify would then refuse."""
    annotated = forge.annotate(lta_pack.read_bytes())
    monkeypatch.setattr(lta, "renew", lambda *_a, **_k: annotated)
    res = run("renew", str(lta_pack), "--tsa", pki.tsa_url("tsa2"), "--out", str(tmp_path / "out.pdf"),
              "--trust", str(pki.pem("root")))
    assert res.exit_code == 1 and "would not verify" in res.stderr and len(res.stderr.splitlines()) == 1
    assert not (tmp_path / "out.pdf").exists()


# --- anything else after the pack's signature fails ---------------------------------------------------------------

def _archived(pki, data: bytes) -> bytes:
    """An attacker's edit made to look archival: a DSS update and a document timestamp by the trusted TSA on top."""
    return lta.archive(data, timestamper(pki.tsa_url()), inputs(pki))


def test_annotation_after_the_archival_timestamp_fails(pki, lta_bytes, tmp_path):
    res = verify(pki, write(tmp_path, "a.pdf", forge.annotate(lta_bytes)))
    assert res.exit_code == 1 and {"covers entire file", "revisions"} <= failed(res.stdout)


def test_annotation_covered_by_a_fresh_document_timestamp_still_fails(pki, lta_bytes, tmp_path):
    res = verify(pki, write(tmp_path, "a.pdf", _archived(pki, forge.annotate(lta_bytes))))
    assert res.exit_code == 1 and failed(res.stdout) == {"revisions"}
    assert "change more than validation data and document timestamps" in res.stdout


def test_attachment_added_then_timestamped_fails(pki, lta_bytes, tmp_path):
    bad = _archived(pki, forge.add_attachment(lta_bytes, "waiver.csv", b"ok\nyes\n"))
    res = verify(pki, write(tmp_path, "att.pdf", bad))
    assert res.exit_code == 1
    assert {"revisions", "attachments", "extract waiver.csv"} <= failed(res.stdout)


def test_attachment_replaced_then_timestamped_fails(pki, lta_bytes, tmp_path):
    fake = b"day,tenant,operator,route,action,expected\n2026-10-01,x,y,z,a,1\n"
    bad = _archived(pki, forge.replace_attachment(lta_bytes, "coverage.csv", fake))
    res = verify(pki, write(tmp_path, "rep.pdf", bad))
    assert res.exit_code == 1 and {"revisions", "attachments"} <= failed(res.stdout)


def test_new_page_content_then_timestamped_fails(pki, lta_bytes, tmp_path):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(lta_bytes))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 720 Td (ALL CONTROLS MET) Tj ET")
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    res = verify(pki, write(tmp_path, "page.pdf", _archived(pki, out.getvalue())))
    assert res.exit_code == 1 and "revisions" in failed(res.stdout)


def test_second_signature_then_timestamped_fails(pki, lta_bytes, tmp_path):
    ident = forge.make_identity(tmp_path / "id")
    bad = _archived(pki, forge.countersign(lta_bytes, ident))
    res = verify(pki, write(tmp_path, "sig.pdf", bad))
    assert res.exit_code == 1 and {"signature count", "revisions"} <= failed(res.stdout)


def test_validation_data_appended_after_the_last_timestamp_fails(pki, lta_bytes, tmp_path):
    """Even a DSS-only update must be covered by a document timestamp: nothing unsigned after the last one."""
    from asn1crypto import pem

    root = pem.unarmor(pki.pem("root").read_bytes())[2]
    res = verify(pki, write(tmp_path, "dss.pdf", _dss_update(lta_bytes, [], [root])))
    assert res.exit_code == 1 and failed(res.stdout) == {"covers entire file"}


def test_appended_bytes_after_the_archival_timestamp_fail(pki, lta_bytes, tmp_path):
    res = verify(pki, write(tmp_path, "tail.pdf", lta_bytes + b"\n% COVERAGE 100 %\n"))
    assert res.exit_code == 1 and "covers entire file" in failed(res.stdout)


def test_a_changed_byte_in_the_validation_data_fails(pki, lta_bytes, tmp_path):
    data = bytearray(lta_bytes)
    at = data.index(b"/DSS")
    data[at + 1:at + 4] = b"DSX"
    res = verify(pki, write(tmp_path, "flip.pdf", bytes(data)))
    assert res.exit_code == 1


def test_document_timestamp_by_an_untrusted_tsa_fails_long_term_validation(pki, lta_bytes, tmp_path):
    from tsa_server import local_tsa

    with local_tsa(tmp_path) as url:
        bad = lta.archive(lta_bytes, timestamper(url), inputs(pki) + lta.inputs_from_files([tmp_path / "tsa.pem"]))
    res = verify(pki, write(tmp_path, "own-tsa.pdf", bad))
    assert res.exit_code == 1 and "long-term validation" in failed(res.stdout)


def test_lta_with_a_tsa_certificate_naming_no_revocation_source_is_refused(tmp_path):
    """Its timestamps could be checked today, but not past validated once its certificate expired (pyHanko needs
    revocation data for every certificate below the root): `pack --lta` refuses rather than make a pack that
    `verify` rejects, or that a renewal could not carry."""
    with local_pki(tmp_path / "pki", tsa_pointers=False) as pki:
        res = build(pki, tmp_path / "p.pdf", "signer", "--lta", "--trust", str(pki.pem("root")))
        assert res.exit_code == 2, res.stdout
        assert "timestamp authority's certificate Common Name: test tsa," in res.stderr
        assert "names no CRL distribution point or OCSP responder" in res.stderr
        assert not (tmp_path / "p.pdf").exists()
        # the same PKI with the timestamp authority whose certificate names its CRL makes a pack that verifies
        ok = run("pack", *PERIOD, "--generated-at", stamp(pki.now), "--out", str(tmp_path / "ok.pdf"), "--key",
                 str(pki.key("signer")), "--cert", str(pki.pem("signer")), "--chain", str(pki.pem("interm")),
                 "--tsa", pki.tsa_url("tsa2"), "--lta", "--trust", str(pki.pem("root")))
        assert ok.exit_code == 0, ok.stderr + ok.stdout
        # nor does `renew` add a timestamp by that authority
        res = run("renew", str(tmp_path / "ok.pdf"), "--tsa", pki.tsa_url("tsa"), "--out",
                  str(tmp_path / "renewed.pdf"), "--trust", str(pki.pem("root")))
        assert res.exit_code == 2, res.stdout
        assert "timestamp authority's certificate Common Name: test tsa," in res.stderr
        assert "names no CRL distribution point or OCSP responder" in res.stderr
        assert not (tmp_path / "renewed.pdf").exists()
    assert verify(pki, tmp_path / "ok.pdf").exit_code == 0


def test_lta_without_a_root_to_build_to_is_a_usage_error_naming_trust(pki, tmp_path):
    res = build(pki, tmp_path / "x.pdf", "signer", "--lta")
    assert res.exit_code == 2 and "--trust ROOT.pem" in res.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_lta_with_a_tsa_not_under_the_roots_is_refused_before_any_work(pki, tmp_path):
    from tsa_server import local_tsa

    with local_tsa(tmp_path) as url:
        res = run("pack", *PERIOD, "--generated-at", stamp(pki.now), "--out", str(tmp_path / "x.pdf"), "--key",
                  str(pki.key("signer")), "--cert", str(pki.pem("signer")), "--chain", str(pki.pem("interm")),
                  "--tsa", url, "--lta", "--trust", str(pki.pem("root")))
    assert res.exit_code == 2 and "timestamp authority" in res.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_validation_data_given_as_files_is_accepted(pki, tmp_path):
    crl = tmp_path / "interm.crl"
    crl.write_bytes(_fetch(f"{pki.base}/{ARCH}/crls/interm/latest.crl"))
    answer = tmp_path / "signer.ocsp"
    answer.write_bytes(_ocsp_now(pki, "signer"))
    res = build(pki, tmp_path / "given.pdf", "signer", "--lta", "--trust", str(pki.pem("root")),
                "--validation-data", str(crl), "--validation-data", str(answer))
    assert res.exit_code == 0, res.stderr
    assert verify(pki, tmp_path / "given.pdf").exit_code == 0
    bad = write(tmp_path, "junk.der", b"not validation data")
    res = build(pki, tmp_path / "junk.pdf", "signer", "--lta", "--trust", str(pki.pem("root")),
                "--validation-data", str(bad))
    assert res.exit_code == 2 and "junk.der: not a certificate, CRL or OCSP response" in res.stderr


class _RawWriter:
    """pyHanko's incremental writer without its own /Info and XMP updates (an attacker writes what they like)."""

    def __new__(cls, data: bytes):  # noqa: ANN204
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

        class Raw(IncrementalPdfFileWriter):
            def _update_meta(self) -> None:
                pass

        return Raw(io.BytesIO(data))


def _written(writer) -> bytes:  # noqa: ANN001
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_document_information_changed_then_timestamped_fails(pki, lta_bytes, tmp_path):
    from pyhanko.pdf_utils import generic

    writer = _RawWriter(lta_bytes)
    info = writer.trailer["/Info"].get_object()
    info["/Subject"] = generic.TextStringObject("ALL CONTROLS MET - approved by the auditor")
    writer.update_container(info)
    res = verify(pki, write(tmp_path, "info.pdf", _archived(pki, _written(writer))))
    assert res.exit_code == 1 and failed(res.stdout) == {"revisions"}
    assert "/Info /Subject" in res.stdout


def test_xmp_metadata_replaced_then_timestamped_fails(pki, lta_bytes, tmp_path):
    from pyhanko.pdf_utils import generic

    writer = _RawWriter(lta_bytes)
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description>ALL CONTROLS MET'
           b'</dc:description></rdf:Description></rdf:RDF></x:xmpmeta>')
    stream = generic.StreamObject({generic.NameObject("/Type"): generic.NameObject("/Metadata"),
                                   generic.NameObject("/Subtype"): generic.NameObject("/XML")}, stream_data=xmp)
    writer.root["/Metadata"] = writer.add_object(stream)
    writer.update_root()
    res = verify(pki, write(tmp_path, "xmp.pdf", _archived(pki, _written(writer))))
    assert res.exit_code == 1 and failed(res.stdout) == {"revisions"}


def test_open_action_script_then_timestamped_fails(pki, lta_bytes, tmp_path):
    from pyhanko.pdf_utils import generic

    writer = _RawWriter(lta_bytes)
    action = generic.DictionaryObject({generic.NameObject("/S"): generic.NameObject("/JavaScript"),
                                       generic.NameObject("/JS"): generic.TextStringObject("app.alert('all met')")})
    writer.root["/OpenAction"] = writer.add_object(action)
    writer.update_root()
    res = verify(pki, write(tmp_path, "js.pdf", _archived(pki, _written(writer))))
    assert res.exit_code == 1 and "revisions" in failed(res.stdout)


def test_visible_document_timestamp_fails(pki, lta_bytes, tmp_path):
    """A document timestamp is archival only when nothing of it shows: one with a widget on the page is not."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

    writer = IncrementalPdfFileWriter(io.BytesIO(lta_bytes))
    fields.append_signature_field(writer, fields.SigFieldSpec("Approved", box=(50, 50, 500, 150), on_page=0))
    out = io.BytesIO()
    PdfTimeStamper(timestamper(pki.tsa_url()), field_name="Approved").timestamp_pdf(writer, "sha256", output=out)
    res = verify(pki, write(tmp_path, "visible.pdf", out.getvalue()))
    assert res.exit_code == 1 and "revisions" in failed(res.stdout)


def test_renew_makes_a_timestamped_pack_b_lta(pki, tmp_path):
    res = build(pki, tmp_path / "bt.pdf", "signer")
    assert res.exit_code == 0, res.stderr
    assert "PAdES B-T" in verify(pki, tmp_path / "bt.pdf").stdout
    res = run("renew", str(tmp_path / "bt.pdf"), "--tsa", pki.tsa_url(), "--out", str(tmp_path / "lta.pdf"),
              "--trust", str(pki.pem("root")))
    assert res.exit_code == 0, res.stderr + res.stdout
    assert "PAdES B-LTA" in res.stdout
    res = verify(pki, tmp_path / "lta.pdf")
    assert res.exit_code == 0 and "OK    long-term validation" in res.stdout


def test_renew_without_trust_builds_to_the_roots_the_pack_carries(pki, lta_pack, tmp_path):
    res = run("renew", str(lta_pack), "--tsa", pki.tsa_url("tsa2"), "--out", str(tmp_path / "r.pdf"))
    assert res.exit_code == 0, res.stderr + res.stdout
    assert verify(pki, tmp_path / "r.pdf").exit_code == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(where=st.floats(0.0, 1.0, exclude_max=True), value=st.integers(0, 255))
def test_a_byte_changed_anywhere_in_the_archival_revisions_never_verifies(pki, lta_bytes, where, value):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from evidence_app.errors import EvidenceError

    sig = PdfFileReader(io.BytesIO(lta_bytes)).embedded_regular_signatures[0]
    start = sig.byte_range[2] + sig.byte_range[3]  # the first byte after the signed revision
    at = start + int(where * (len(lta_bytes) - start))
    assume(lta_bytes[at] != value)
    data = bytearray(lta_bytes)
    data[at] = value
    try:
        result = verify_pack(bytes(data), root_trust(pki))
    except EvidenceError:
        return  # a damaged file, said in one line
    assert not result.ok, f"byte {at} set to {value} still verifies"


def test_a_document_timestamp_over_other_bytes_fails_even_under_a_good_one(pki, lta_bytes, tmp_path):
    """Every document timestamp must be one: a token for other bytes, covered by a genuine one, still fails."""
    genuine = timestamper(pki.tsa_url())

    class WrongImprint(type(genuine)):
        async def async_timestamp(self, message_digest, md_algorithm):  # noqa: ANN001, ANN201
            return await super().async_timestamp(bytes(len(message_digest)), md_algorithm)

    wrong = WrongImprint(pki.tsa_url())
    bad = lta.archive(lta.archive(lta_bytes, wrong, inputs(pki)), genuine, inputs(pki))
    res = verify(pki, write(tmp_path, "wrong.pdf", bad))
    assert res.exit_code == 1 and "covers entire file" in failed(res.stdout)
    assert "EvidencePackTimestamp2" in res.stdout and "do not match the bytes they cover" in res.stdout
