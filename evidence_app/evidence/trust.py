"""Whom a verifier trusts: certificates (a CA or the signer's own) and pinned SHA-256 certificate fingerprints."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from evidence_app.errors import UsageError

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class TrustAnchors:
    """What vouches for a signer; empty means nothing does (integrity can still be checked)."""

    certificates: tuple[bytes, ...] = ()
    """DER of each trusted certificate: a CA the signer must chain to, or the signer's own certificate."""
    fingerprints: frozenset[str] = frozenset()
    """Pinned signer certificates: SHA-256 of their DER as 64 lowercase hex digits."""
    sources: tuple[str, ...] = ()
    """Where the anchors came from, in words (file names, "pinned fingerprint"), for the report."""

    @property
    def empty(self) -> bool:
        """True when nothing at all is trusted."""
        return not self.certificates and not self.fingerprints

    def __add__(self, other: TrustAnchors) -> TrustAnchors:
        """Both sets of anchors (a signer trusted by either is trusted)."""
        return TrustAnchors(self.certificates + other.certificates, self.fingerprints | other.fingerprints,
                            self.sources + other.sources)

    def label(self) -> str:
        """The sources in one phrase, for a report line."""
        return ", ".join(self.sources) or "nothing"


def sha256_fingerprint(der: bytes) -> str:
    """SHA-256 of a certificate's DER as 64 lowercase hex digits (the form `--signer-fingerprint` takes)."""
    return hashlib.sha256(der).hexdigest()


def colon_hex(fingerprint: str) -> str:
    """AB:CD:… — the form `openssl x509 -fingerprint -sha256` prints, for comparing by eye."""
    up = fingerprint.upper()
    return ":".join(up[i:i + 2] for i in range(0, len(up), 2))


def parse_fingerprint(text: str, what: str = "--signer-fingerprint") -> str:
    """A SHA-256 fingerprint in any common spelling (colons, spaces, case, an `SHA256 Fingerprint=` prefix)."""
    value = text.strip().lower()
    value = value.split("=", 1)[1] if "=" in value else value
    value = re.sub(r"^sha-?256:?", "", value.strip())
    value = re.sub(r"[\s:]", "", value)
    if not _HEX64.fullmatch(value):
        raise UsageError(f"{what}: expected a SHA-256 fingerprint (64 hex digits, colons allowed), got {text!r}")
    return value


def certificates_in(data: bytes, what: str) -> tuple[bytes, ...]:
    """Every certificate in a PEM bundle (or one DER certificate) as DER; anything else is a usage error."""
    blocks = _PEM_BLOCK.findall(data)
    if blocks:
        ders = tuple(_pem_body(body, what) for label, body in blocks if label == b"CERTIFICATE")
        if not ders:
            kinds = ", ".join(sorted({label.decode("ascii", "replace") for label, _ in blocks}))
            raise UsageError(f"{what}: not a certificate (the PEM file holds: {kinds})")
    else:
        ders = (data,)
    for der in ders:
        _parse_certificate(der, what)
    return ders


def _pem_body(body: bytes, what: str) -> bytes:
    """The DER inside one PEM block."""
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UsageError(f"{what}: not a certificate (a PEM block is not valid base64)") from exc


def _parse_certificate(der: bytes, what: str) -> None:
    """Raise a usage error unless the bytes are one X.509 certificate."""
    from cryptography import x509

    try:
        x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise UsageError(f"{what}: not a certificate (neither PEM nor DER X.509)") from exc


def option_file(path: Path, option: str) -> bytes:
    """The bytes of a file named on the command line; a missing or unreadable one is a usage error naming it."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc.strerror or exc}") from exc


def trust_from_files(paths: Iterable[Path], option: str = "--trust") -> TrustAnchors:
    """Anchors from PEM/DER files, each naming the file when it is missing or not a certificate."""
    found = TrustAnchors()
    for path in paths:
        data = option_file(path, option)
        found += TrustAnchors(certificates_in(data, f"{option} {path}"), sources=(Path(path).name,))
    return found


def trust_from_bytes(data: bytes, label: str) -> TrustAnchors:
    """Anchors from certificate bytes already in memory (an upload), named `label` in messages."""
    return TrustAnchors(certificates_in(data, f"certificate {label}"), sources=(label,))


def trust_from_fingerprints(values: Iterable[str], option: str = "--signer-fingerprint") -> TrustAnchors:
    """Anchors that pin signer certificates by their SHA-256 fingerprint."""
    pinned = frozenset(parse_fingerprint(v, option) for v in values)
    return TrustAnchors(fingerprints=pinned, sources=("pinned fingerprint",) if pinned else ())


def signer_problem(der: bytes, at: datetime) -> str | None:
    """Why this certificate could not have signed a document at ``at``, in words; None when it could.

    It must be within its validity then (notBefore ≤ at ≤ notAfter), and when it has a key usage extension, that
    must allow digitalSignature or nonRepudiation (a certificate allowed only to sign certificates or CRLs signs no
    document). A trust anchor or a pinned fingerprint says whose certificate it is, never that it could sign."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    at = at.astimezone(timezone.utc)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if at < start:
        return f"was not yet valid at the signing time {_utc(at)} (valid from {_utc(start)})"
    if at > end:
        return f"had expired at the signing time {_utc(at)} (valid until {_utc(end)})"
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        return "is not allowed to sign documents: its key usage has neither digitalSignature nor nonRepudiation"
    try:
        purposes = {oid.dotted_string for oid in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value}
    except x509.ExtensionNotFound:
        return None
    if not purposes & DOCUMENT_SIGNING_PURPOSES:
        return ("is not allowed to sign documents: its extended key usage names only other purposes "
                f"({', '.join(sorted(purposes))})")
    return None


DOCUMENT_SIGNING_PURPOSES = frozenset({
    "2.5.29.37.0",               # anyExtendedKeyUsage
    "1.3.6.1.5.5.7.3.36",        # id-kp-documentSigning (RFC 9336)
    "1.3.6.1.5.5.7.3.4",         # emailProtection (S/MIME certificates, which PDF signers commonly use)
    "1.3.6.1.4.1.311.10.3.12",   # Microsoft document signing
    "1.2.840.113583.1.1.5",      # Adobe Authentic Documents Trust
})
"""Extended key usages under which a certificate may sign a document; an ExtendedKeyUsage extension naming none of
these (``serverAuth`` only, say) restricts the key to other purposes (RFC 5280 §4.2.1.12)."""


def expired_by_now(der: bytes, stated: datetime, now: datetime | None = None) -> str | None:
    """Why a certificate cannot be taken as having signed at ``stated`` when no timestamp proves that time: it has
    expired by ``now`` (a signing time the signature itself states is only the signer's word — whoever holds an
    expired key can state any time inside the validity). None while it is still valid."""
    from cryptography import x509

    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    end = x509.load_der_x509_certificate(der).not_valid_after_utc
    if now <= end:
        return None
    return (f"had expired by now, {_utc(now)} (valid until {_utc(end)}), and no RFC 3161 timestamp proves the "
            f"signing time the pack states ({_utc(stated)}): that time is only the signer's word")


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
