"""Signing identities and the PAdES signature that covers the whole pack, attachments included."""

from __future__ import annotations

import asyncio
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

T = TypeVar("T")

PASSPHRASE_ENV = "EVIDENCE_SIGNING_PASSPHRASE"
FIELD_NAME = "EvidencePackSignature"


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


@dataclass(frozen=True)
class Identity:
    signer: object
    """pyhanko SimpleSigner."""
    subject: str
    self_signed: bool
    not_after: datetime


def read_passphrase(options: SigningOptions) -> bytes | None:
    if options.passphrase_file is not None:
        try:
            return options.passphrase_file.read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise UsageError(f"--passphrase-file: cannot read {options.passphrase_file}: {exc.strerror}") from None
    value = os.environ.get(options.passphrase_env)
    return value.encode("utf-8") if value else None


def load_identity(options: SigningOptions) -> Identity:
    """Load key + certificate (PEM) or a PKCS#12 file; every failure is a usage error naming the file."""
    from pyhanko.sign import signers

    passphrase = read_passphrase(options)
    if options.pkcs12 is not None:
        if options.key or options.cert:
            raise UsageError("give either --pkcs12 or --key/--cert, not both")
        _readable(options.pkcs12, "--pkcs12")
        signer = _quiet(lambda: signers.SimpleSigner.load_pkcs12(str(options.pkcs12), passphrase=passphrase))
        what = f"--pkcs12 {options.pkcs12}"
    elif options.key is not None and options.cert is not None:
        _readable(options.key, "--key")
        _readable(options.cert, "--cert")
        chain = [str(options.chain)] if options.chain else None
        if options.chain:
            _readable(options.chain, "--chain")
        signer = _quiet(lambda: signers.SimpleSigner.load(str(options.key), str(options.cert), ca_chain_files=chain,
                                                          key_passphrase=passphrase))
        what = f"--key {options.key}"
    else:
        raise UsageError("signing needs --key KEY.pem --cert CERT.pem (optionally --chain) or --pkcs12 FILE.p12")
    if signer is None:
        hint = "" if passphrase else f" (no passphrase given: set ${options.passphrase_env} or --passphrase-file)"
        raise UsageError(f"{what}: could not load the signing key — wrong passphrase or not a key{hint}")
    cert = signer.signing_cert
    return Identity(signer, cert.subject.human_friendly, cert.subject == cert.issuer,
                    cert.not_valid_after)


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


def _quiet(load):  # noqa: ANN001, ANN202
    """pyHanko returns None on a bad passphrase; some errors raise. Normalise to None."""
    with quiet_pyhanko():
        try:
            return load()
        except Exception:  # noqa: BLE001 - any parse failure means "cannot load"
            return None


def _readable(path: Path, option: str) -> None:
    if not path.is_file():
        raise UsageError(f"{option}: file not found: {path}")


def sign_with_attachments(pdf: bytes, attachments: list[tuple[str, bytes, str, str]], identity: Identity,
                          generated_at: datetime, tsa_url: str | None = None) -> bytes:
    """Embed (name, data, mime, description) files and sign, in one incremental revision."""
    from pyhanko.pdf_utils import embed
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for name, data, mime, description in attachments:
        params = embed.EmbeddedFileParams(creation_date=generated_at, modification_date=generated_at)
        obj = embed.EmbeddedFileObject.from_file_data(writer, data, mime_type=mime, params=params)
        embed.embed_file(writer, embed.FileSpec(file_spec_string=name, file_name=name, embedded_data=obj,
                                                description=description))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="Audit-trail completeness evidence pack",
        location="evidence-app",
    )
    stamper = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    out = io.BytesIO()
    outside_event_loop(lambda: signers.sign_pdf(writer, meta, signer=identity.signer, timestamper=stamper, output=out))
    return out.getvalue()


def keygen(folder: Path, common_name: str = "evidence-app trial signer", passphrase: bytes | None = None,
           now: datetime | None = None) -> tuple[Path, Path]:
    """A self-signed RSA identity for trials: key.pem (encrypted when a passphrase is given) and cert.pem."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = now or datetime.now(timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "evidence-app (self-signed, for trials)")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    enc = (serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption())
    key_path, cert_path = folder / "key.pem", folder / "cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
