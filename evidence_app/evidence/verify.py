"""Offline verification of a pack. Genuine means: exactly one signature, in the pack's own field, covering every
byte of the file (nothing after it) — or, for a B-LTA pack, its own revision followed only by archival revisions
(validation data and document timestamps, the last covering every byte) — by a trusted signer; every attachment
listed in the signed manifest with its SHA-256 and row count; the chain to the previous pack when asked. Each
check has a stable name."""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, TypeVar

from evidence_app.errors import EvidenceError, UsageError, VerificationError
from evidence_app.evidence.attachments import Attachments, read_attachments
from evidence_app.evidence.cms import container_problem
from evidence_app.evidence.extracts import EXTRACT_NAMES, MANIFEST, csv_rows, pack_id
from evidence_app.evidence.sign import FIELD_NAME, outside_event_loop, quiet_pyhanko
from evidence_app.evidence.trust import (
    TrustAnchors,
    colon_hex,
    expired_by_now,
    sha256_fingerprint,
    signer_problem,
    trust_from_files,
)

T = TypeVar("T")

STRUCTURE = "pdf structure"
SIGNATURES = "signature count"
FIELD = "signature field"
INTACT = "signature intact"
COVERAGE = "covers entire file"
REVISIONS = "revisions"
SIGNER = "signer"
TRUST = "trust"
TIMESTAMP = "timestamp"
ATTACHMENTS = "attachments"
MANIFEST_CHECK = "manifest"
MANIFEST_SIGNER = "manifest signer"
PACK_ID = "pack id"
CHAIN = "chain"
LONG_TERM = "long-term validation"
VERIFIABLE_UNTIL = "verifiable until"


def extract_check(name: str) -> str:
    """The check name of one attachment, e.g. "extract coverage.csv"."""
    return f"extract {name}"


@dataclass(frozen=True)
class Check:
    """One verification check, printed as one line."""

    name: str
    """Stable name (the constants above), so a test or a script can tell which check failed."""
    ok: bool | None
    """True passed, False failed, None informational (not demanded)."""
    detail: str
    """What was found, in words."""


@dataclass(frozen=True)
class Signer:
    """Who signed the pack's signature, as the certificate in it says."""

    subject: str
    """The certificate's subject in words (anyone can make a certificate with any name)."""
    fingerprint: str
    """SHA-256 of the certificate's DER, 64 lowercase hex digits: what identifies the signer."""
    self_signed: bool
    """True when the certificate is its own issuer."""


@dataclass(frozen=True)
class Verification:
    """Every check on one pack, the manifest it carries, and its signer."""

    checks: tuple[Check, ...]
    """In the order they were made."""
    manifest: dict | None
    """manifest.json as attached, when it could be read."""
    signer: Signer | None
    """The signer of the signature that was validated (None: no readable signature)."""
    level: str = "B-B"
    """PAdES level found: B-B (signature only), B-T (with a signature timestamp), B-LTA (document timestamps and
    validation data after the signature)."""
    verifiable_until: datetime | None = None
    """When the pack stops being verifiable unless renewed: the latest timestamp certificate's expiry (B-LTA,
    B-T), the signer certificate's (B-B). None when no signature could be read."""

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the failed checks, in order."""
        return tuple(c.name for c in self.checks if c.ok is False)

    @property
    def intact(self) -> bool:
        """Integrity holds: every check but trust passed and a signature was validated."""
        return self.signer is not None and all(n == TRUST for n in self.failed) and \
            any(c.name == INTACT and c.ok for c in self.checks)

    @property
    def trusted(self) -> bool:
        """A trust anchor or a pinned fingerprint vouches for the signer."""
        return any(c.name == TRUST and c.ok for c in self.checks)

    @property
    def ok(self) -> bool:
        """Genuine: intact and trusted."""
        return self.intact and self.trusted

    @property
    def verdict(self) -> str:
        """The last line of the report."""
        if self.ok:
            pid = (self.manifest or {}).get("pack_id")
            return (f"verification passed: pack {pid}, signed by {self.signer.subject}, {_detail(self, TRUST)}; "
                    f"PAdES {self.level}, verifiable until {_utc(self.verifiable_until)}")
        if self.intact:
            return (f"verification FAILED: signer not trusted (integrity OK) — signer {self.signer.subject}, "
                    f"SHA-256 fingerprint {colon_hex(self.signer.fingerprint)}; only if it equals the fingerprint "
                    f"the signer gave you out of band, pass --signer-fingerprint {self.signer.fingerprint} "
                    "(or --trust the signer's CA)")
        return f"verification FAILED: {len(self.failed)} check(s) failed: {', '.join(self.failed)}"


def verification_json(v: Verification) -> dict:
    """The verification as JSON-ready data (``verify --format json``): the same checks and verdict as the text."""
    return {
        "ok": v.ok, "intact": v.intact, "trusted": v.trusted, "verdict": v.verdict,
        "pack_id": (v.manifest or {}).get("pack_id"),
        "signer": None if v.signer is None else {"subject": v.signer.subject, "sha256": v.signer.fingerprint,
                                                 "self_signed": v.signer.self_signed},
        "level": v.level,
        "verifiable_until": None if v.verifiable_until is None else _utc(v.verifiable_until),
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in v.checks],
    }


def _detail(v: Verification, name: str) -> str:
    """The detail of the named check (empty when it was not made)."""
    return next((c.detail for c in v.checks if c.name == name), "")


def verify_pack(data: bytes, trust: TrustAnchors | Path | None = None, previous: Path | None = None,
                at: datetime | None = None) -> Verification:
    """Run every check. Bytes that are not a PDF are a usage error, a PDF that cannot be parsed (truncated,
    damaged) a verification error; everything else is reported as checks, never raised. `trust` may also be
    the path of a certificate file (as `--trust` takes). ``at`` verifies as of another time than now (a B-LTA
    pack's long-term validation; when will it stop verifying)."""
    if isinstance(trust, (str, Path)):
        trust = trust_from_files([Path(trust)])
    with quiet_pyhanko():  # pyHanko logs what it tolerates in damaged files; the checks report it instead
        return _verify(data, trust or TrustAnchors(), previous, at)


def _verify(data: bytes, trust: TrustAnchors, previous: Path | None, at: datetime | None = None) -> Verification:
    """verify_pack's body."""
    reader = _open(data)
    total = reader.xrefs.total_revisions
    checks = [Check(STRUCTURE, True, f"parsed strictly, {total} revision(s)")]
    sig_checks, signer, signed_revision, level = _signature_stage(reader, data, total, trust, at)
    checks += sig_checks
    files = _attempt(ATTACHMENTS, lambda: _attachments(reader, signed_revision, total))
    if isinstance(files, Check):
        checks.append(files)
        files = (Attachments({}, ()), None)
    else:
        checks.append(_attachments_check(files, signed_revision))
    mf, mf_checks = _manifest_checks(files[0].files, reader, signer)
    checks += mf_checks
    if previous is not None:
        checks.append(_chain_check(mf, previous))
    return Verification(tuple(checks), mf, signer, *(level or ("B-B", None)))


def _signature_stage(reader, data: bytes, total: int, trust: TrustAnchors, at: datetime | None = None):  # noqa: ANN001, ANN202
    """(checks, signer, signed revision, (level, verifiable until)) for the signature fields: count, field,
    validity, coverage, archival revisions, trust."""
    fields = _attempt(SIGNATURES, lambda: _signature_fields(reader))
    if isinstance(fields, Check):
        return [fields, Check(TRUST, False, "no readable signature, so no signer to trust")], None, None, None
    checks = [_count_check(fields), _field_check(fields)]
    filled = [(name, field) for name, value, field in fields if value is not None and not _is_doc_timestamp(value)]
    if not filled:
        return checks + [Check(INTACT, False, "no signature to validate"),
                         Check(TRUST, False, "no signature, so no signer to trust")], None, None, None
    embedded = _attempt(INTACT, lambda: _embedded(reader, filled))
    stamps = _attempt(REVISIONS, lambda: _document_timestamps(reader, fields))
    if isinstance(stamps, Check):
        return checks + [stamps, Check(TRUST, False, "the document timestamps cannot be read")], None, None, None
    found = embedded if isinstance(embedded, Check) else \
        _attempt(INTACT, lambda: _signature_checks(embedded, data, total, trust, stamps, at))
    if isinstance(found, Check):
        return checks + [found, Check(TRUST, False, "the signature could not be validated")], None, None, None
    signer, more, level = found
    return checks + more, signer, embedded.signed_revision, level


def _is_doc_timestamp(value) -> bool:  # noqa: ANN001 - a signature dictionary
    """A document timestamp (/Type /DocTimeStamp), which archival revisions may add after the pack's signature."""
    try:
        return value.get_object().get("/Type") == "/DocTimeStamp"
    except Exception:  # noqa: BLE001 - attacker-made objects: not a timestamp
        return False


def _document_timestamps(reader, fields: list) -> list:  # noqa: ANN001
    """The document timestamps, oldest first, as pyHanko's embedded signatures."""
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    found = [EmbeddedPdfSignature(reader, field, name) for name, value, field in fields
             if value is not None and _is_doc_timestamp(value)]
    return sorted(found, key=lambda e: e.signed_revision)


def _open(data: bytes):  # noqa: ANN202 - a pyHanko PdfFileReader
    """A strict reader over the bytes; what is not a PDF, or not a readable one, raises the project's error."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    if b"%PDF-" not in data[:1024]:
        raise UsageError("not a PDF (no %PDF- header)")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=True)
        reader.root  # noqa: B018 - resolve the catalogue now, so damage shows here
        _ = reader.xrefs.total_revisions
    except Exception as exc:  # noqa: BLE001 - pyHanko raises many types on damaged input
        raise VerificationError(f"not a readable PDF (truncated or damaged): {_why(exc)}") from exc
    return reader


def _attempt(name: str, run: Callable[[], T]) -> T | Check:
    """Run one stage; pyHanko parses attacker-controlled bytes lazily, so anything it raises is a failed check."""
    try:
        with quiet_pyhanko():
            return run()
    except EvidenceError:
        raise
    except Exception as exc:  # noqa: BLE001 - see above: fail closed, name the check
        return Check(name, False, f"cannot be read: {_why(exc)}")


def _why(exc: BaseException) -> str:
    """An exception in one short line."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:240] if text else type(exc).__name__


def _signature_fields(reader) -> list[tuple[str, object, object]]:  # noqa: ANN001
    """Every signature field, filled or empty, as (name, signature value or None, field)."""
    from pyhanko.sign.fields import enumerate_sig_fields

    return [(str(name), value, field) for name, value, field in enumerate_sig_fields(reader)]


def _count_check(fields: list) -> Check:
    """Exactly one signature field, and it is signed: a second signature or an empty field added later fails.
    Document timestamps (B-LTA) are counted apart; where they sit is the revisions check's business."""
    filled = [name for name, value, _ in fields if value is not None]
    stamps = [name for name, value, _ in fields if value is not None and _is_doc_timestamp(value)]
    if len(fields) == 1 + len(stamps) and len(filled) == len(fields) and len(stamps) < len(fields):
        return Check(SIGNATURES, True, "exactly one signature" +
                     (f" and {len(stamps)} document timestamp(s)" if stamps else ""))
    if not fields:
        return Check(SIGNATURES, False, "the PDF carries no signature")
    names = ", ".join(name for name, _, _ in fields)
    return Check(SIGNATURES, False, f"{len(fields)} signature field(s) ({names}), {len(filled)} signed; "
                                    "a pack carries exactly one signature")


def _field_check(fields: list) -> Check:
    """The signature sits in the field evidence-app pack makes, not in one anybody could add."""
    if any(name == FIELD_NAME and value is not None for name, value, _ in fields):
        return Check(FIELD, True, f"the signature is in field {FIELD_NAME}, the one evidence-app pack makes")
    found = ", ".join(name for name, value, _ in fields if value is not None) or "none"
    return Check(FIELD, False, f"no signature in field {FIELD_NAME} (signed fields found: {found})")


def _embedded(reader, filled: list):  # noqa: ANN001, ANN202
    """The pack's own signature, else the first signed field (validated to report its signer)."""
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    name, field = next(((n, f) for n, f in filled if n == FIELD_NAME), filled[0])
    return EmbeddedPdfSignature(reader, field, name)


def _signature_checks(emb, data: bytes, total: int, trust: TrustAnchors, stamps: list,  # noqa: ANN001
                      at: datetime | None = None) -> tuple[Signer, list[Check], tuple[str, datetime | None]]:
    """Cryptographic validity, coverage of the whole file, revisions, signer, trust, timestamp; for a B-LTA pack
    the archival revisions and the long-term validation too."""
    status = _validate(emb, trust, diff=bool(stamps))
    der = status.signing_cert.dump()
    cert = status.signing_cert
    signer = Signer(cert.subject.human_friendly, sha256_fingerprint(der), cert.subject == cert.issuer)
    intact = bool(status.intact and status.valid)
    checks = [
        Check(INTACT, intact, "cryptographically valid" if intact else
              "the signed bytes were changed after signing, or the signature value is not valid"),
    ]
    chains = bool(status.trusted)
    if stamps:
        checks += _archival_checks(emb, status, data, total, stamps)
        long_term = _long_term_check(emb, trust, at)
        long_term = Check(long_term.name, long_term.ok, long_term.detail + _latest_stamp_note(stamps))
        chains = long_term.ok is True
    else:
        checks += [_coverage_check(emb, data, status.coverage), _revisions_check(emb.signed_revision, total)]
    checks += [
        Check(SIGNER, None, f"{signer.subject}; SHA-256 fingerprint {colon_hex(signer.fingerprint)} "
                            f"({signer.fingerprint})" + ("; self-signed" if signer.self_signed else "")),
        _trust_check(signer, der, chains, trust, _unfit(der, status)),
    ]
    ts = getattr(status, "timestamp_validity", None)
    if ts is not None:
        checks.append(Check(TIMESTAMP, bool(ts.intact and ts.valid), f"RFC 3161 timestamp at {ts.timestamp}"))
    if stamps:
        checks.append(long_term)
    level, until, what = _lifetime(emb, stamps, cert)
    checks.append(Check(VERIFIABLE_UNTIL, None, f"{_utc(until)}: {what}"))
    return signer, checks, (level, until)


def _lifetime(emb, stamps: list, cert) -> tuple[str, datetime, str]:  # noqa: ANN001
    """(PAdES level, until when the pack stays verifiable, why) — the latest timestamp certificate's expiry."""
    from evidence_app.evidence.longterm import timestamp_certificate_expiry

    if stamps:
        until, subject = timestamp_certificate_expiry(stamps[-1])
        return "B-LTA", until, (f"the certificate of the latest document timestamp ({_utc(_token_time(stamps[-1]))}"
                                f", {subject}) expires then; renew before (evidence-app renew) to extend it")
    token = _signature_timestamp_certificate(emb)
    if token is not None:
        return "B-T", token.not_valid_after.astimezone(timezone.utc), (
            f"the signature timestamp's certificate ({token.subject.human_friendly}) expires then; "
            "evidence-app renew makes the pack B-LTA while the signer's certificate is still valid")
    return "B-B", cert.not_valid_after.astimezone(timezone.utc), (
        "the signer's certificate expires then, and nothing but the signer's word says when it signed")


def _token_time(emb) -> datetime:  # noqa: ANN001 - a document timestamp
    """The time an RFC 3161 token states (genTime)."""
    return emb.signed_data["encap_content_info"]["content"].parsed["gen_time"].native


def _signature_timestamp_certificate(emb):  # noqa: ANN001, ANN202 - an asn1crypto certificate or None
    """The certificate of the authority that timestamped the signature (None: no timestamp)."""
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    for token in extract_tst_data_iter(emb.signer_info, signed=False):
        return extract_certificate_info(token).signer_cert
    return None


def _archival_checks(emb, status, data: bytes, total: int, stamps: list) -> list[Check]:  # noqa: ANN001
    """Coverage and revisions of a B-LTA pack: the signature covers its whole revision; every revision after it is
    an archival one (validation data, document timestamps: nothing a reader would show differently, by pyHanko's
    difference analysis); the last document timestamp is intact and covers every byte of the file."""
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    br = [int(x) for x in emb.byte_range]
    problem = _byte_range_problem(br, data[:br[2] + br[3]]) or container_problem(emb)
    if problem is None and status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        problem = f"pyHanko rates the signature's coverage {status.coverage.name}, not its entire revision"
    last = stamps[-1]
    statuses = [_validate_timestamp(s) for s in stamps]
    last_status = statuses[-1]
    problem = problem or _byte_range_problem(last.byte_range, data)
    broken = [s.field_name for s, st in zip(stamps, statuses) if not (st.intact and st.valid)]
    if problem is None and broken:
        problem = f"document timestamp(s) {', '.join(broken)} do not match the bytes they cover"
    if problem is None and last_status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problem = f"pyHanko rates the last document timestamp's coverage {last_status.coverage.name}"
    coverage = Check(COVERAGE, problem is None, problem or (
        f"the signature covers its revision ({emb.signed_revision + 1} of {total}); the last of {len(stamps)} "
        "document timestamp(s) covers every byte of the file but its own value"))
    early = [s.field_name for s in stamps if s.signed_revision <= emb.signed_revision]
    level = status.modification_level
    changed = _metadata_changes(emb.reader, emb.signed_revision, total)
    if early:
        revisions = Check(REVISIONS, False, f"document timestamp(s) {', '.join(early)} precede the pack's signature")
    elif changed:
        revisions = Check(REVISIONS, False, f"the document's metadata changed after the pack's signature "
                                            f"({', '.join(changed)})")
    elif level not in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES):
        rated = f"rates them {level.name}" if level is not None else "could not rate them"
        revisions = Check(REVISIONS, False, f"{total - 1 - emb.signed_revision} incremental update(s) after the "
                                            f"pack's signature change more than validation data and document "
                                            f"timestamps (pyHanko's difference analysis {rated})")
    else:
        revisions = Check(REVISIONS, True, f"{total - 1 - emb.signed_revision} archival revision(s) after the "
                                           f"pack's signature (revision {emb.signed_revision + 1} of {total}): "
                                           "validation data and document timestamps only")
    return [coverage, revisions]


_ARCHIVER_PRODUCER = re.compile(r"(?:.*; )?pyHanko \d[\w.]*")
"""What pyHanko, which writes the archival revisions, sets a producer to (it appends itself to the original)."""
_PDF_DATE = re.compile(r"D:\d{4,14}(?:[Z+\-][\d']*)?")
_XMP_VOLATILE = re.compile(rb'\s(?:xmp:ModifyDate|xmp:MetadataDate|pdf:Producer|x:xmptk)="([^"]*)"')


def _metadata_changes(reader, signed_revision: int, total: int) -> list[str]:  # noqa: ANN001
    """What of the document information (/Info) and XMP metadata differs, in any later revision, from the signed
    revision's. pyHanko's difference analysis lets archival revisions rewrite both; the archiving tool may only
    move the modification date and name itself producer."""
    signed_info, signed_xmp = _metadata(reader, signed_revision)
    found: set[str] = set()
    for revision in range(signed_revision + 1, total):
        info, xmp = _metadata(reader, revision)
        for key in set(info) | set(signed_info):
            if info.get(key) != signed_info.get(key) and not _archiver_may_set(key, info.get(key)):
                found.add(f"/Info {key}")
        if _xmp_core(xmp) != _xmp_core(signed_xmp) or not _xmp_volatile_ok(xmp):
            found.add("XMP /Metadata")
    return sorted(found)


def _metadata(reader, revision: int) -> tuple[dict[str, str], bytes | None]:  # noqa: ANN001
    """The /Info entries (as text) and the XMP stream's bytes of one revision."""
    resolver = reader.get_historical_resolver(revision)
    info_ref = resolver.trailer_view.raw_get("/Info") if "/Info" in resolver.trailer_view else None
    info = resolver(info_ref.reference) if info_ref is not None and hasattr(info_ref, "reference") else info_ref
    fields = {str(k): str(v) for k, v in info.items()} if info is not None else {}
    meta_ref = resolver.root.raw_get("/Metadata") if "/Metadata" in resolver.root else None
    meta = resolver(meta_ref.reference) if meta_ref is not None and hasattr(meta_ref, "reference") else meta_ref
    return fields, (bytes(meta.data) if meta is not None else None)


def _archiver_may_set(key: str, value: str | None) -> bool:
    """A /ModDate that is a PDF date, a /Producer naming pyHanko."""
    if value is None:
        return False
    if key == "/ModDate":
        return bool(_PDF_DATE.fullmatch(value))
    return key == "/Producer" and bool(_ARCHIVER_PRODUCER.fullmatch(value))


def _xmp_core(xmp: bytes | None) -> bytes | None:
    """The XMP packet without the attributes an archiving tool rewrites."""
    return None if xmp is None else _XMP_VOLATILE.sub(b"", xmp)


def _xmp_volatile_ok(xmp: bytes | None) -> bool:
    """The rewritten XMP attributes hold dates and pyHanko's name, nothing else."""
    for match in _XMP_VOLATILE.finditer(xmp or b""):
        value = match.group(1).decode("utf-8", "replace")
        if not (re.fullmatch(r"[\dT:+\-.Z]{10,40}", value) or _ARCHIVER_PRODUCER.fullmatch(value)):
            return False
    return True


def _validate_timestamp(emb):  # noqa: ANN001, ANN202 - a DocumentTimestampStatus
    """The document timestamp's integrity (digest, token signature); trust is the long-term validation's."""
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    vc = ValidationContext(trust_roots=[], allow_fetching=False)
    return outside_event_loop(lambda: validate_pdf_timestamp(emb, vc, skip_diff=True))


def _long_term_check(emb, trust: TrustAnchors, at: datetime | None) -> Check:  # noqa: ANN001
    """PAdES-LTA validation against the --trust anchors, offline; without anchors it cannot be made."""
    from evidence_app.evidence import longterm

    if not trust.certificates:
        return Check(LONG_TERM, None, "not made: give --trust with the CA and timestamp authority roots")
    result = longterm.validate(emb, trust.certificates, at)
    return Check(LONG_TERM, result.ok, result.detail)


def _latest_stamp_note(stamps: list) -> str:
    """When the latest document timestamp was made, for the long-term validation's line."""
    try:
        return f"; latest document timestamp {_utc(_token_time(stamps[-1]))} ({len(stamps)} in all)"
    except Exception:  # noqa: BLE001 - an unreadable token is reported by the coverage check
        return ""


def _validate(emb, trust: TrustAnchors, diff: bool = False):  # noqa: ANN001, ANN202 - a PdfSignatureStatus
    """pyHanko's validation against exactly the given anchors (never the operating system's trust list); with
    ``diff``, its analysis of what the revisions after the signature changed."""
    from asn1crypto import x509
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    roots = [x509.Certificate.load(der) for der in trust.certificates]
    vc = ValidationContext(trust_roots=roots, allow_fetching=False)
    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
    return outside_event_loop(lambda: validate_pdf_signature(emb, vc, key_usage_settings=usage, skip_diff=not diff))


def _coverage_check(emb, data: bytes, level) -> Check:  # noqa: ANN001
    """Every byte is signed except the signature value itself, and that value holds nothing but the signature."""
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    problem = _byte_range_problem(emb.byte_range, data) or container_problem(emb)
    if problem is None and level != SignatureCoverageLevel.ENTIRE_FILE:
        problem = f"pyHanko rates the coverage {level.name}"
    if problem is None:
        return Check(COVERAGE, True, "the signature covers every byte of the file but its own value")
    return Check(COVERAGE, False, problem)


def _byte_range_problem(byte_range, data: bytes) -> str | None:  # noqa: ANN001
    """Why the /ByteRange does not cover the whole file, or None when it does."""
    try:
        br = [int(x) for x in byte_range]
    except (TypeError, ValueError):
        return "the signature's byte range is not a list of numbers"
    if len(br) != 4 or br[0] != 0 or min(br) < 0 or br[1] > br[2]:
        return f"the signature's byte range {br} is not [0 a b c]"
    _, a, b, c = br
    if b + c < len(data):
        return f"{len(data) - b - c} byte(s) after the signed range: content was added after signing"
    if b + c > len(data):
        return "the signature's byte range runs past the end of the file"
    hole = data[a:b]
    if not (hole.startswith(b"<") and hole.endswith(b">")) or not re.fullmatch(rb"(?:[0-9A-F]{2})*", hole[1:-1]):
        return "the unsigned gap holds more than the signature value"
    raw = bytes.fromhex(hole[1:-1].decode("ascii"))
    length = _der_length(raw)
    if length is None or raw[length:].strip(b"\0"):
        return "the signature value carries bytes beyond the signature itself"
    return None


def _der_length(raw: bytes) -> int | None:
    """Length of the DER value at the start of raw (None when it is not one)."""
    from asn1crypto import parser

    try:
        _, _, _, header, contents, trailer = parser.parse(raw)
    except (ValueError, TypeError):
        return None
    return len(header) + len(contents) + len(trailer)


def _revisions_check(signed_revision: int, total: int) -> Check:
    """No incremental update after the signed revision."""
    if signed_revision == total - 1:
        return Check(REVISIONS, True,
                     f"the signature is in the last of {total} revision(s): nothing was added after it")
    return Check(REVISIONS, False, f"{total - 1 - signed_revision} incremental update(s) after the pack's signature "
                                   f"(signed revision {signed_revision + 1} of {total})")


def _unfit(der: bytes, status) -> str | None:  # noqa: ANN001 - a PdfSignatureStatus
    """Why the signer could not have signed: unfit at the signing time, or — with no valid timestamp to prove that
    time — expired by now (the time the signature states is the signer's own word)."""
    at = _signing_time(status)
    problem = signer_problem(der, at)
    if problem is None and not _timestamped(status):
        problem = expired_by_now(der, at)
    return problem


def _timestamped(status) -> bool:  # noqa: ANN001 - a PdfSignatureStatus
    ts = getattr(status, "timestamp_validity", None)
    return ts is not None and bool(ts.intact and ts.valid) and ts.timestamp is not None


def _signing_time(status) -> datetime:  # noqa: ANN001 - a PdfSignatureStatus
    """When the pack was signed: the RFC 3161 timestamp's time when there is a valid one, else the time the
    signature states (its signing-time attribute), else now."""
    ts = getattr(status, "timestamp_validity", None)
    if ts is not None and ts.intact and ts.valid and ts.timestamp is not None:
        return ts.timestamp
    return getattr(status, "signer_reported_dt", None) or datetime.now(timezone.utc)


def _trust_check(signer: Signer, der: bytes, chains: bool, trust: TrustAnchors, unfit: str | None = None) -> Check:
    """Trusted only when pinned, when it is a given certificate, or when it chains to a given CA — and, on every
    one of those paths, only when the certificate could sign then (``unfit`` says why it could not)."""
    fp = f"SHA-256 fingerprint {colon_hex(signer.fingerprint)}"
    if trust.empty:
        return Check(TRUST, False, f"signer not trusted: no --trust or --signer-fingerprint given; {fp}")
    if unfit is not None:
        return Check(TRUST, False, f"signer not trusted: its certificate {unfit} ({fp}); a pinned fingerprint or a "
                                   "trust anchor says whose certificate it is, not that it could sign")
    if signer.fingerprint in trust.fingerprints:
        return Check(TRUST, True, f"trusted: the pinned fingerprint matches ({fp})")
    if der in trust.certificates:
        return Check(TRUST, True, f"trusted: the signer's certificate is in {trust.label()}")
    if chains:
        return Check(TRUST, True, f"trusted: the signer's certificate chains to a CA in {trust.label()}")
    return Check(TRUST, False, f"signer not trusted: {signer.subject} ({fp}) is not pinned and does not chain "
                               f"to {trust.label()}")


def _attachments(reader, signed_revision: int | None, total: int) -> tuple[Attachments, Attachments | None]:  # noqa: ANN001
    """The attachments a viewer shows (last revision) and those in the signed revision, when that is another."""
    final = read_attachments(reader.root)
    if signed_revision is None or signed_revision == total - 1:
        return final, None
    return final, read_attachments(reader.get_historical_root(signed_revision))


def _attachments_check(found: tuple[Attachments, Attachments | None], signed_revision: int | None) -> Check:
    """The embedded files are well formed and the same as in the signed revision."""
    final, signed = found
    problems = list(final.problems)
    if signed is not None:
        changed = sorted(n for n in set(final.files) | set(signed.files) if final.files.get(n) != signed.files.get(n))
        if changed:
            problems.append(f"changed after the signed revision: {', '.join(changed)}")
    if problems:
        return _clipped(Check(ATTACHMENTS, False, "; ".join(problems)))
    where = "in the signed revision" if signed_revision is not None else "(no signed revision)"
    return Check(ATTACHMENTS, True, f"{len(final.files)} embedded file(s), well-formed, {where}")


def _clipped(check: Check) -> Check:
    """Keep a failure's detail short enough for one line."""
    return Check(check.name, check.ok, check.detail[:400])


def _manifest_checks(files: dict[str, bytes], reader, signer: Signer | None) -> tuple[dict | None, list[Check]]:  # noqa: ANN001
    """manifest.json present and consistent; each listed extract attached with its hash and rows; nothing else."""
    mf = _read_manifest(files)
    if isinstance(mf, Check):
        return None, [mf]
    checks = [Check(MANIFEST_CHECK, True, f"pack {mf['pack_id']}, {len(mf['extracts'])} extracts listed"),
              _pack_id_check(mf, reader), _manifest_signer_check(mf, signer)]
    listed = {e["name"]: e for e in mf["extracts"]}
    checks += [_extract_check(name, entry, files.get(name)) for name, entry in listed.items()]
    for name in sorted(set(files) - set(listed) - {MANIFEST}):
        checks.append(Check(extract_check(name), False, "attached but not listed in the manifest"))
    return mf, checks


def _read_manifest(files: dict[str, bytes]) -> dict | Check:
    """The parsed manifest, or the failed check saying what is wrong with it."""
    if MANIFEST not in files:
        return Check(MANIFEST_CHECK, False, "manifest.json is not attached")
    try:
        mf = json.loads(files[MANIFEST].decode("utf-8"))
    except (ValueError, RecursionError):
        return Check(MANIFEST_CHECK, False, "manifest.json is not valid UTF-8 JSON")
    problem = _manifest_shape(mf)
    if problem:
        return Check(MANIFEST_CHECK, False, problem)
    if mf["pack_id"] != pack_id(mf):
        return Check(MANIFEST_CHECK, False, "the pack id does not match the manifest's content")
    return mf


def _manifest_shape(mf: object) -> str | None:
    """What is structurally wrong with a manifest (None: nothing)."""
    if not isinstance(mf, dict) or not isinstance(mf.get("pack_id"), str):
        return "manifest.json is not a manifest (no pack id)"
    extracts = mf.get("extracts")
    if not isinstance(extracts, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("sha256"), str)
            and type(e.get("rows")) is int for e in extracts):
        return "the manifest's extract list is malformed"
    names = [e["name"] for e in extracts]
    if len(set(names)) != len(names):
        return "the manifest lists an extract twice"
    missing = [n for n in EXTRACT_NAMES if n not in names]
    if missing:
        return f"the manifest does not list {', '.join(missing)}"
    return None


def _pack_id_check(mf: dict, reader) -> Check:  # noqa: ANN001
    """The pack id printed in the document (its title) is the manifest's."""
    try:
        title = str(reader.trailer["/Info"]["/Title"])
    except Exception:  # noqa: BLE001 - a missing or odd /Info is the same finding
        title = ""
    if title == f"Evidence pack {mf['pack_id']}":
        return Check(PACK_ID, True, f"the document's title names the same pack {mf['pack_id']}")
    return Check(PACK_ID, False, f"the manifest says {mf['pack_id']}, the document's title {title or 'nothing'!r}")


def _manifest_signer_check(mf: dict, signer: Signer | None) -> Check:
    """The manifest names the certificate that actually signed (older packs did not record it)."""
    claimed = mf.get("signer_sha256")
    if claimed is None:
        return Check(MANIFEST_SIGNER, None, "the manifest does not record the signer's fingerprint (older pack)")
    if signer is not None and claimed == signer.fingerprint:
        return Check(MANIFEST_SIGNER, True, "the manifest names the certificate that signed the pack")
    actual = signer.fingerprint if signer else "no readable signature"
    return Check(MANIFEST_SIGNER, False, f"the manifest names signer {claimed}, the pack is signed by {actual}")


def _extract_check(name: str, entry: dict, data: bytes | None) -> Check:
    """One listed extract: attached, with the manifest's SHA-256 and row count."""
    if data is None:
        return Check(extract_check(name), False, "listed in the manifest but not attached")
    digest = hashlib.sha256(data).hexdigest()
    try:
        rows: int | None = csv_rows(data)
    except (UnicodeDecodeError, ValueError):
        rows = None
    ok = digest == entry["sha256"] and rows == entry["rows"]
    return Check(extract_check(name), ok, f"{rows} rows, SHA-256 matches" if ok else
                 f"SHA-256 {'matches' if digest == entry['sha256'] else 'differs'}, "
                 f"{rows if rows is not None else 'unreadable'} rows (manifest: {entry['rows']})")


def _chain_check(mf: dict | None, previous: Path) -> Check:
    """The manifest names the SHA-256 of the pack this one claims to follow."""
    try:
        digest = hashlib.sha256(previous.read_bytes()).hexdigest()
    except OSError as exc:
        raise UsageError(f"--previous: cannot read {previous}: {exc.strerror}") from exc
    claimed = (mf or {}).get("previous_pack_sha256")
    if claimed == digest:
        return Check(CHAIN, True, f"follows {previous.name}")
    return Check(CHAIN, False, f"does not follow {previous.name} (manifest names {claimed or 'no previous pack'})")


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
