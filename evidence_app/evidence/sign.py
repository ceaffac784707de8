"""Signing identities and the PAdES signature that covers the whole pack, attachments included."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from evidence_app.errors import UsageError
from evidence_app.evidence import identity_files
from evidence_app.evidence.deflate import deflate
from evidence_app.evidence.trust import sha256_fingerprint

T = TypeVar("T")

PASSPHRASE_ENV = "EVIDENCE_SIGNING_PASSPHRASE"
FIELD_NAME = "EvidencePackSignature"


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the pack. ``deflated`` is :func:`~evidence_app.evidence.deflate.deflate` of ``data``
    when the caller made it ahead (on other cores, while the main thread went on); otherwise it is made here."""

    name: str
    data: bytes
    mime: str
    description: str
    deflated: bytes | None = None


@dataclass(frozen=True)
class SigningOptions:
    """Where the identity comes from; passphrases only from a file or the environment."""

    key: Path | None = None
    cert: Path | None = None
    chain: Path | None = None
    pkcs12: Path | None = None
    passphrase_file: Path | None = None
    passphrase_env: str = PASSPHRASE_ENV
    tsa_url: str | None = None
    lta: bool = False
    """PAdES B-LTA: after the timestamped signature, validation data and a document timestamp (needs tsa_url)."""
    validation_files: tuple[Path, ...] = ()
    """Certificates, CRLs, OCSP responses to embed besides what is fetched (--validation-data)."""
    anchors: tuple[Path, ...] = ()
    """Root certificates the signer's and the timestamp authority's chains are built to (--trust)."""


@dataclass(frozen=True)
class Identity:
    """A loaded signing identity: the signer, and what the pack and a verifier say about it."""

    signer: object
    """pyhanko SimpleSigner."""
    subject: str
    """The signer certificate's subject, in words."""
    self_signed: bool
    """True when the certificate is its own issuer (a trial identity)."""
    not_after: datetime
    """End of the certificate's validity."""
    fingerprint: str
    """SHA-256 of the signer certificate's DER (64 lowercase hex digits), to compare out of band."""
    certificates: tuple[bytes, ...]
    """DER of the signer certificate followed by its chain: what a verifier may trust."""


def read_passphrase(options: SigningOptions) -> bytes | None:
    """The key passphrase from --passphrase-file or the environment, never from the command line."""
    if options.passphrase_file is not None:
        try:
            return options.passphrase_file.read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise UsageError(f"--passphrase-file: cannot read {options.passphrase_file}: {exc.strerror}") from exc
    value = os.environ.get(options.passphrase_env)
    return value.encode("utf-8") if value else None


def load_identity(options: SigningOptions) -> Identity:
    """Load key + certificate (PEM/DER) or a PKCS#12 file; every failure says what failed and names the file."""
    passphrase = read_passphrase(options)
    if options.pkcs12 is not None:
        if options.key or options.cert:
            raise UsageError("give either --pkcs12 or --key/--cert, not both")
        key, certs = identity_files.load_pkcs12(options.pkcs12, passphrase, options.passphrase_env)
    elif options.key is not None and options.cert is not None:
        key = identity_files.load_key(options.key, passphrase, options.passphrase_env)
        certs = identity_files.load_certificates(options.cert, "--cert")
        identity_files.check_pair(key, certs[0], f"--cert {options.cert}", f"--key {options.key}")
        if options.chain is not None:
            certs += identity_files.load_certificates(options.chain, "--chain")
    else:
        raise UsageError("signing needs --key KEY.pem --cert CERT.pem (optionally --chain) or --pkcs12 FILE.p12")
    return _identity(key, certs)


def _identity(key, certs: tuple) -> Identity:  # noqa: ANN001 - a cryptography private key
    """Wrap loaded key material as a pyHanko signer."""
    from asn1crypto import keys, x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    der = tuple(c.public_bytes(serialization.Encoding.DER) for c in certs)
    key_info = keys.PrivateKeyInfo.load(key.private_bytes(serialization.Encoding.DER,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    chain = [x509.Certificate.load(d) for d in der]
    signer = signers.SimpleSigner(signing_cert=chain[0], signing_key=key_info,
                                  cert_registry=SimpleCertificateStore.from_certs(chain[1:]))
    cert = chain[0]
    return Identity(signer, cert.subject.human_friendly, cert.subject == cert.issuer, cert.not_valid_after,
                    sha256_fingerprint(der[0]), der)


def outside_event_loop(func: Callable[[], T]) -> T:
    """pyHanko's sync API calls asyncio.run(); inside a running loop (e.g. a test driving a browser) it
    must run on a worker thread instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return func()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func).result()


@contextmanager
def quiet_pyhanko() -> Iterator[None]:
    """pyHanko logs expected conditions (self-signed, bad passphrase) with tracebacks; we report them ourselves."""
    loggers = [logging.getLogger(n) for n in ("pyhanko", "pyhanko_certvalidator")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def timestamper(url: str | None):  # noqa: ANN201 - a pyHanko TimeStamper or None
    """An RFC 3161 client for --tsa, asked once now so an unreachable authority fails before the heavy work."""
    if url is None:
        return None
    from urllib.parse import urlparse

    from pyhanko.sign import timestamps

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"--tsa {url}: not an http(s) URL")
    stamper = timestamps.HTTPTimeStamper(url, timeout=10)
    try:
        with quiet_pyhanko():
            outside_event_loop(lambda: asyncio.run(stamper.async_dummy_response("sha256")))
    except Exception as exc:  # noqa: BLE001 - network, HTTP and ASN.1 errors all mean "no usable TSA"
        raise UsageError(f"--tsa {url}: the timestamp authority did not answer usably: {_reason(exc)}") from exc
    return stamper


def _reason(exc: BaseException) -> str:
    """The innermost cause in one line (pyHanko wraps the network error)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return (str(exc) or type(exc).__name__).splitlines()[0][:200]


def sign_with_attachments(pdf: bytes, attachments: list[Attachment], identity: Identity,
                          generated_at: datetime, stamper=None, tsa_url: str | None = None) -> bytes:  # noqa: ANN001
    """Embed the attachments and sign, in one incremental revision. The same inputs give
    the same bytes (the file id, /ModDate and the signing time come from ``generated_at``, not the clock)
    unless a timestamp authority stamps it."""
    from pyhanko.pdf_utils import embed, generic
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    writer = _pack_writer(pdf, generated_at)
    # A name tree's keys must be in order (ISO 32000-1, 7.9.6) and embed_file appends: readers that search the
    # tree (qpdf --show-attachment) find every file only when they are embedded sorted by name.
    for a in sorted(attachments, key=lambda a: a.name):
        params = embed.EmbeddedFileParams(creation_date=generated_at, modification_date=generated_at)
        # What EmbeddedFileObject.from_file_data(..., compress=True) builds (FlateDecode), with the stream
        # deflated ahead handed over instead of deflated again on this thread.
        obj = embed.EmbeddedFileObject(writer, stream_data=a.data,
                                       encoded_data=a.deflated if a.deflated is not None else deflate(a.data),
                                       params=params, mime_type=a.mime)
        obj["/Filter"] = generic.pdf_name("/FlateDecode")
        embed.embed_file(writer, embed.FileSpec(file_spec_string=a.name, file_name=a.name, embedded_data=obj,
                                                description=a.description))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="Audit-trail completeness evidence pack",
        location="evidence-app",
    )
    stamper = stamper if stamper is not None else timestamper(tsa_url)
    out = io.BytesIO()
    try:
        pdf_signer = _pack_signer(meta, identity, generated_at, stamper)
        outside_event_loop(lambda: pdf_signer.sign_pdf(writer, output=out))
    except (TimestampRequestError, OSError, ValueError) as exc:
        if stamper is None:
            raise
        raise UsageError(f"--tsa {getattr(stamper, 'url', tsa_url)}: timestamping failed: {_reason(exc)}") from exc
    return out.getvalue()


def _pack_writer(pdf: bytes, at: datetime):  # noqa: ANN202
    """pyHanko's incremental writer with the second file id and /ModDate derived from the inputs."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    class PackWriter(IncrementalPdfFileWriter):
        def _update_meta(self) -> None:
            super()._update_meta()
            if self._info is not None:
                self._info.get_object()["/ModDate"] = generic.pdf_date(at)

    writer = PackWriter(io.BytesIO(pdf))
    second = hashlib.sha256(pdf + at.isoformat().encode()).digest()[:16]
    writer._document_id = generic.ArrayObject([writer._document_id[0], generic.ByteStringObject(second)])
    return writer


def _pack_signer(meta, identity: Identity, at: datetime, stamper):  # noqa: ANN001, ANN202
    """pyHanko's PdfSigner with the signing time (/M and the CMS signing-time attribute) fixed to ``at``."""
    from pyhanko.sign import signers

    class PackSigner(signers.PdfSigner):
        def init_signing_session(self, pdf_out, existing_fields_only=False):  # noqa: ANN001, ANN202
            session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
            session.system_time = at
            return session

    return PackSigner(meta, identity.signer, timestamper=stamper)


def keygen(folder: Path, common_name: str = "evidence-app trial signer", passphrase: bytes | None = None,
           now: datetime | None = None, force: bool = False, valid_from: datetime | None = None) -> tuple[Path, Path]:
    """A self-signed RSA identity for trials: key.pem (encrypted when a passphrase is given) and cert.pem, valid
    from ``valid_from`` (default five minutes ago: a pack whose --generated-at lies before it would not verify)
    for two years.

    An identity already in ``folder`` is never overwritten — earlier packs are pinned to it — unless ``force``;
    then the old files are kept beside the new ones, renamed with the time they were replaced."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = now or datetime.now(timezone.utc)
    start = valid_from or now - timedelta(minutes=5)
    key_path, cert_path = folder / "key.pem", folder / "cert.pem"
    existing = [p for p in (key_path, cert_path) if p.exists() or p.is_symlink()]
    if existing and not force:
        raise UsageError(f"{', '.join(map(str, existing))} already exist(s): keygen never replaces an identity that "
                         "packs may be pinned to (--force keeps the old files beside the new ones)")
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "evidence-app (self-signed, for trials)")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(max(now, start) + timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    for old in existing:  # only with force: kept, never lost
        _keep(old, now)
    enc = (serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption())
    _write_new(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc), 0o600)
    _write_new(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return key_path, cert_path


def _keep(old: Path, now: datetime) -> None:
    """Move ``old`` to its kept name without ever replacing a file there (``rename`` would: a second ``--force``
    in the same second, or a file planted under that name, would silently take the kept identity's place): a hard
    link that fails if the name is taken, then the old name removed; another kept name if it was taken."""
    for _ in range(100):
        kept = _kept_name(old, now)
        try:
            os.link(old, kept, follow_symlinks=False)
        except FileExistsError:
            continue  # taken meanwhile: the next free name
        except OSError:  # no hard links here (a directory named key.pem; some file systems): check, then rename
            if kept.exists() or kept.is_symlink():
                continue
            old.rename(kept)
            return
        old.unlink()
        return
    raise UsageError(f"{old}: no free name to keep it under; nothing was replaced")


def _kept_name(path: Path, now: datetime) -> Path:
    """``key.pem`` → ``key.replaced-20261207T031500Z.pem`` (a counter added if that name is taken)."""
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = path.with_name(f"{path.stem}.replaced-{stamp}{path.suffix}"), 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.stem}.replaced-{stamp}-{n}{path.suffix}")
    return candidate


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (a key is never readable by others, even for a moment);
    O_EXCL: a file that appeared meanwhile, or a planted symlink, is not written through."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
