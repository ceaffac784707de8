"""PAdES B-LTA: validation data (certificates, CRLs, OCSP responses) in the document security store, and document
timestamps, each in its own incremental revision after the pack's signature, which stays untouched.

One archival step adds two revisions: a DSS update holding what proves the last timestamp (or, the first time,
the pack's signature and its timestamp) was valid now, then a document timestamp whose own authority's validation
data sits in the DSS of the revision it covers. Every byte of the file is then covered by a signature or a
timestamp; ``verify`` accepts exactly these revisions after the pack's signature."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from evidence_app.errors import UsageError
from evidence_app.evidence.sign import outside_event_loop, quiet_pyhanko
from evidence_app.evidence.trust import certificates_in, option_file

TIMESTAMP_FIELD = "EvidencePackTimestamp"
"""Document timestamp fields are named EvidencePackTimestamp1, 2, … in the order they were added."""


@dataclass(frozen=True)
class ValidationInputs:
    """What the archival step may use besides what it fetches from the certificates' own CRL and OCSP URLs."""

    anchors: tuple[bytes, ...] = ()
    """DER of the trust anchors the chains are built to (CA roots, TSA roots)."""
    certificates: tuple[bytes, ...] = ()
    """DER of other certificates (intermediates)."""
    crls: tuple[bytes, ...] = ()
    """DER CRLs given as files."""
    ocsps: tuple[bytes, ...] = ()
    """DER OCSP responses given as files."""
    fetch: bool = True
    """Fetch CRLs and OCSP responses from the certificates' distribution points and AIA."""

    def __add__(self, other: ValidationInputs) -> ValidationInputs:
        return ValidationInputs(self.anchors + other.anchors, self.certificates + other.certificates,
                                self.crls + other.crls, self.ocsps + other.ocsps, self.fetch and other.fetch)


def inputs_from_certificates(ders: Iterable[bytes]) -> ValidationInputs:
    """Self-issued certificates become anchors, the others intermediates."""
    from cryptography import x509

    anchors, others = [], []
    for der in ders:
        cert = x509.load_der_x509_certificate(der)
        (anchors if cert.subject == cert.issuer else others).append(der)
    return ValidationInputs(tuple(anchors), tuple(others))


def inputs_from_files(paths: Iterable[Path], option: str = "--validation-data") -> ValidationInputs:
    """Certificates, CRLs and OCSP responses from files (PEM or DER), each sorted by what it parses as."""
    found = ValidationInputs()
    for path in paths:
        found += _classify(option_file(path, option), f"{option} {path}")
    return found


def _classify(data: bytes, what: str) -> ValidationInputs:
    """One file's certificates, CRL or OCSP response; anything else is a usage error naming the file."""
    from cryptography import x509

    if b"-----BEGIN X509 CRL-----" in data:
        try:
            return ValidationInputs(crls=(x509.load_pem_x509_crl(data).public_bytes(_der()),))
        except ValueError as exc:
            raise UsageError(f"{what}: not a CRL (a PEM X509 CRL block that cannot be read)") from exc
    if b"-----BEGIN" in data:
        return inputs_from_certificates(certificates_in(data, what))
    for load, kind in ((x509.load_der_x509_certificate, "cert"), (x509.load_der_x509_crl, "crl"),
                       (_ocsp_response, "ocsp")):
        try:
            load(data)
        except ValueError:
            continue
        if kind == "cert":
            return inputs_from_certificates((data,))
        return ValidationInputs(crls=(data,)) if kind == "crl" else ValidationInputs(ocsps=(data,))
    raise UsageError(f"{what}: not a certificate, CRL or OCSP response (PEM or DER)")


def _ocsp_response(data: bytes) -> None:
    """Raise ValueError unless ``data`` is a DER OCSP response (asn1crypto: responders write fractional seconds,
    which cryptography's stricter parser refuses)."""
    from asn1crypto import ocsp

    try:
        response = ocsp.OCSPResponse.load(data, strict=True)
        response["response_status"].native  # noqa: B018 - parse now
        response.basic_ocsp_response["tbs_response_data"].native  # noqa: B018
    except Exception as exc:  # noqa: BLE001 - asn1crypto raises several types on bad input
        raise ValueError("not an OCSP response") from exc


def _der():  # noqa: ANN202
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _context(inputs: ValidationInputs):  # noqa: ANN202 - a pyhanko_certvalidator ValidationContext
    """A validation context that demands revocation data for every certificate below an anchor."""
    from asn1crypto import crl, ocsp, x509
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_roots=[x509.Certificate.load(d) for d in inputs.anchors],
        other_certs=[x509.Certificate.load(d) for d in inputs.certificates],
        crls=[crl.CertificateList.load(d) for d in inputs.crls],
        ocsps=[ocsp.OCSPResponse.load(d) for d in inputs.ocsps],
        allow_fetching=inputs.fetch, revocation_mode="hard-fail")


def check_signer(identity_certificates: tuple[bytes, ...], inputs: ValidationInputs, stamper=None) -> None:  # noqa: ANN001
    """Before a pack is built with --lta: the signer's chain — and the timestamp authority's, when ``stamper`` is
    given — reach an anchor and are not revoked now (their CRLs or OCSP responders answered), so the validation
    data can be embedded; minutes of work are not spent on a pack that could not become B-LTA."""
    from asn1crypto import x509
    from pyhanko_certvalidator import CertificateValidator

    if not inputs.anchors:
        raise UsageError("--lta: no root certificate to build the chains to: give the CA's and the timestamp "
                         "authority's roots with --trust ROOT.pem")
    certs = [x509.Certificate.load(d) for d in identity_certificates]
    tsa_paths: list = []

    async def run() -> None:
        vc = _context(inputs)
        try:
            validator = CertificateValidator(certs[0], intermediate_certs=certs[1:], validation_context=vc)
            await validator.async_validate_usage(key_usage=set())
            if stamper is not None:
                async for path in stamper.validation_paths(vc):
                    tsa_paths.append(path)
        finally:
            await _release(vc)

    try:
        with quiet_pyhanko():
            outside_event_loop(lambda: asyncio.run(run()))
    except Exception as exc:  # noqa: BLE001 - path building, revocation and network errors: the pack cannot be LTA
        raise UsageError(f"--lta: the signer's or the timestamp authority's certificate cannot be validated now, so "
                         f"no validation data can be embedded: {_reason(exc)}") from exc
    for path in tsa_paths:
        _check_revocation_pointers(path, "--lta: ")


def _check_revocation_pointers(path, prefix: str = "") -> None:  # noqa: ANN001 - a certvalidator ValidationPath
    """Every certificate of a timestamp authority's chain below its root names a CRL or an OCSP responder: without
    revocation data for it the timestamp cannot be validated long-term (pyHanko's past validation, which proves an
    older timestamp after its certificate expired, requires that data), so ``verify`` would reject the pack."""
    for cert in path.iter_certs(include_root=False):
        if (cert.crl_distribution_points or cert.ocsp_urls or cert.ocsp_no_check_value is not None
                or cert.self_signed != "no"):  # a root is trusted as it is
            continue
        raise UsageError(f"{prefix}the timestamp authority's certificate {cert.subject.human_friendly} names no CRL "
                         "distribution point or OCSP responder, so no revocation data can be embedded for it and "
                         "the pack could not be validated long-term; use a timestamp authority whose certificate "
                         "names one")


async def _release(vc) -> None:  # noqa: ANN001
    """Close the HTTP sessions the context's fetchers opened (on the loop that opened them)."""
    await vc.aclose()


def archive(data: bytes, stamper, inputs: ValidationInputs, first_target: bool = True) -> bytes:  # noqa: ANN001
    """Add a DSS revision (validation data for the last timestamp, or the pack's signature and its timestamp when
    there is no document timestamp yet) and a document timestamp revision; the bytes before stay as they were.
    ``first_target=False`` skips the DSS revision when there is no document timestamp yet (for tests that build
    the validation data themselves). ``stamper`` is a pyHanko TimeStamper."""
    try:
        with quiet_pyhanko():
            return outside_event_loop(lambda: asyncio.run(_archive(data, stamper, inputs, first_target)))
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - network, revocation and path errors from pyHanko
        raise UsageError(f"archival timestamp failed: {_reason(exc)}") from exc


async def _archive(data: bytes, stamper, inputs: ValidationInputs, first_target: bool) -> bytes:  # noqa: ANN001
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper, TimestampDSSContentSettings
    from pyhanko.sign.validation.dss import async_add_validation_info

    reader = PdfFileReader(io.BytesIO(data), strict=True)
    stamps = reader.embedded_timestamp_signatures
    target = stamps[-1] if stamps else _pack_signature(reader)
    vc = _context(inputs)
    try:
        async for path in stamper.validation_paths(vc):
            _check_revocation_pointers(path)
        with_dss = io.BytesIO(data)
        if stamps or first_target:
            with_dss = await async_add_validation_info(target, vc, skip_timestamp=False, add_vri_entry=False,
                                                       force_write=True, output=io.BytesIO())
        writer = IncrementalPdfFileWriter(with_dss, strict=True)
        name = f"{TIMESTAMP_FIELD}{len(stamps) + 1}"
        out = await PdfTimeStamper(stamper, field_name=name).async_timestamp_pdf(
            writer, "sha256", validation_context=vc, output=io.BytesIO(),
            dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False))
    finally:
        await _release(vc)
    return out.getvalue()


def _pack_signature(reader):  # noqa: ANN001, ANN202
    """The pack's own (approval) signature."""
    from evidence_app.evidence.sign import FIELD_NAME

    found = [s for s in reader.embedded_regular_signatures if s.field_name == FIELD_NAME]
    if len(found) != 1:
        raise UsageError(f"not an evidence pack: no single signature in field {FIELD_NAME}")
    return found[0]


def _reason(exc: BaseException) -> str:
    """The innermost cause in one line."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return (str(exc) or type(exc).__name__).splitlines()[0][:240]


def renew(data: bytes, stamper, inputs: ValidationInputs, trust) -> bytes:  # noqa: ANN001 - TimeStamper, TrustAnchors
    """A fresh document timestamp over a pack, with validation data for the timestamp before it; only a pack that
    verifies now is renewed (a timestamp would otherwise lend a broken pack a date). The pack's signature and every
    byte before stay as they were."""
    from evidence_app.errors import VerificationError
    from evidence_app.evidence.verify import LONG_TERM, TRUST, verify_pack

    found = verify_pack(data, trust)
    blocking = [c for c in found.checks if c.ok is False and (trust.certificates or c.name not in (TRUST, LONG_TERM))]
    if blocking:
        raise VerificationError("the pack does not verify, so it is not renewed: "
                                + "; ".join(f"{c.name}: {c.detail}" for c in blocking)[:600])
    return archive(data, stamper, inputs + _roots_on_file(data))


def _roots_on_file(data: bytes) -> ValidationInputs:
    """Self-signed certificates the pack already carries (its DSS), to build the new validation data to when no
    --trust names them. They decide nothing: whom to trust is for ``verify --trust``."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        root = PdfFileReader(io.BytesIO(data), strict=True).root
        dss = root["/DSS"] if "/DSS" in root else None
        ders = [ref.get_object().data for ref in dss["/Certs"]] if dss is not None and "/Certs" in dss else []
        found = inputs_from_certificates(ders)
    except Exception:  # noqa: BLE001 - an odd DSS holds no usable root; the pack was verified just before
        return ValidationInputs()
    return ValidationInputs(anchors=found.anchors, certificates=found.certificates)


def latest_timestamp_expiry(data: bytes):  # noqa: ANN201 - datetime or None
    """When the certificate of the file's latest document timestamp expires (None: there is none): the date to
    renew before."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    stamps = PdfFileReader(io.BytesIO(data), strict=True).embedded_timestamp_signatures
    return max((s for s in stamps), key=lambda s: s.signed_revision).signer_cert.not_valid_after if stamps else None
