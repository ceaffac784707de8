"""Reading signing keys and certificates from files, saying exactly what failed (missing, not a key, passphrase
needed, wrong passphrase, certificate for another key, bad PKCS#12) and keeping the cause."""

from __future__ import annotations

import re
from pathlib import Path

from evidence_app.errors import UsageError
from evidence_app.evidence.trust import certificates_in

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")


def read_file(path: Path, option: str) -> bytes:
    """The file's bytes; a missing, unreadable or folder path is a usage error naming it."""
    if not path.exists():
        raise UsageError(f"{option}: file not found: {path}")
    if path.is_dir():
        raise UsageError(f"{option}: {path} is a folder, not a file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc.strerror or exc}") from exc


def load_key(path: Path, passphrase: bytes | None, passphrase_env: str):  # noqa: ANN201 - a cryptography key
    """A private key (PEM or DER, PKCS#8 or traditional), decrypted with the passphrase when it is encrypted."""
    data = read_file(path, "--key")
    what = f"--key {path}"
    try:
        return _private_key(data, passphrase)
    except TypeError as exc:
        if passphrase is None:
            raise UsageError(f"{what}: the key is encrypted and no passphrase was given "
                             f"(set ${passphrase_env} or --passphrase-file)") from exc
        return _unencrypted_key(data, what)
    except ValueError as exc:
        if passphrase is not None and _is_encrypted(data):
            raise UsageError(f"{what}: wrong passphrase (the key did not decrypt)") from exc
        raise UsageError(f"{what}: not a private key{_found(data)}") from exc
    except Exception as exc:  # noqa: BLE001 - e.g. UnsupportedAlgorithm from a key type cryptography lacks
        raise UsageError(f"{what}: cannot load the key: {exc}") from exc


def _unencrypted_key(data: bytes, what: str):  # noqa: ANN202
    """A passphrase was given for a key that is not encrypted: the key is still usable as it is."""
    try:
        return _private_key(data, None)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{what}: not a private key{_found(data)}") from exc


def _private_key(data: bytes, passphrase: bytes | None):  # noqa: ANN202
    """cryptography's loader for the file's encoding."""
    from cryptography.hazmat.primitives.serialization import load_der_private_key, load_pem_private_key

    loader = load_pem_private_key if b"-----BEGIN" in data else load_der_private_key
    return loader(data, passphrase)


def _is_encrypted(data: bytes) -> bool:
    """True when the file is a private key that needs a passphrase (told apart from "not a key at all")."""
    try:
        _private_key(data, None)
    except TypeError:
        return True
    except Exception:  # noqa: BLE001 - anything else means it is not an encrypted key we can read
        return False
    return False


def _found(data: bytes) -> str:
    """What a PEM file holds instead, e.g. " (the PEM file holds: CERTIFICATE)"."""
    labels = sorted({m.decode("ascii", "replace") for m in _PEM_LABEL.findall(data)})
    return f" (the PEM file holds: {', '.join(labels)})" if labels else " (neither PEM nor DER)"


def load_certificates(path: Path, option: str) -> tuple:
    """Every certificate in a PEM bundle or one DER file, first the signer's (cryptography objects)."""
    from cryptography import x509

    return tuple(x509.load_der_x509_certificate(der) for der in certificates_in(read_file(path, option),
                                                                                 f"{option} {path}"))


def check_pair(key, cert, cert_what: str, key_what: str) -> None:  # noqa: ANN001
    """The certificate must be for this key; signing with a mismatched pair makes packs that never verify."""
    from cryptography.hazmat.primitives import serialization

    def spki(public) -> bytes:  # noqa: ANN001
        return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    if spki(key.public_key()) != spki(cert.public_key()):
        raise UsageError(f"{cert_what} does not match {key_what}: the certificate is for a different key")


def load_pkcs12(path: Path, passphrase: bytes | None, passphrase_env: str) -> tuple:
    """(key, (certificate, chain…)) from a PKCS#12 file."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    data = read_file(path, "--pkcs12")
    what = f"--pkcs12 {path}"
    if not _is_pfx(data):
        raise UsageError(f"{what}: not a PKCS#12 file")
    tries = [passphrase, None] if passphrase else [None, b""]
    for i, attempt in enumerate(tries):
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, attempt)
            break
        except ValueError as exc:
            if i < len(tries) - 1:
                continue
            if passphrase is None:
                raise UsageError(f"{what}: the file is protected and no passphrase was given "
                                 f"(set ${passphrase_env} or --passphrase-file)") from exc
            raise UsageError(f"{what}: wrong passphrase (the file did not decrypt)") from exc
    if key is None or cert is None:
        raise UsageError(f"{what}: holds no {'private key' if key is None else 'certificate'}")
    check_pair(key, cert, f"{what}: its certificate", "its key")
    return key, (cert, *extra)


def _is_pfx(data: bytes) -> bool:
    """True when the bytes parse as a PKCS#12 PFX structure (whether or not they decrypt)."""
    from asn1crypto import pkcs12

    try:
        pfx = pkcs12.Pfx.load(data, strict=True)
        return pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native is not None
    except Exception:  # noqa: BLE001 - asn1crypto raises several types on junk
        return False
