"""The signature's CMS container holds nothing unsigned beyond what a pack signature needs.

The PDF signature covers every byte but its own value; inside that value the CMS SignedData has parts
no signature covers (the certificate bag, the digest-algorithm list, unsigned attributes, versions).
Bytes there could change without breaking the signature, so a pack is genuine only when they are
exactly what ``evidence-app pack`` writes: canonical DER, one v1 signer, no CRLs, only certificates on
the signer's chain (each verified under its issuer), no unsigned attribute but a timestamp.
"""

from __future__ import annotations


def container_problem(embedded) -> str | None:  # noqa: ANN001 - pyHanko's EmbeddedPdfSignature
    """Why the CMS container is not exactly a pack signature's, or None when it is."""
    try:
        return _problem(embedded)
    except Exception as exc:  # noqa: BLE001 - attacker-made bytes: whatever the parser throws, it is not a pack's
        return f"the CMS container cannot be read ({type(exc).__name__})"


def _problem(embedded) -> str | None:  # noqa: ANN001
    import pyhanko.sign.general  # noqa: F401 - registers pyHanko's CMS attribute names before asn1crypto maps them
    from asn1crypto import cms

    raw = bytes(embedded.pkcs7_content)
    der = raw[:_der_size(raw) or 0]
    try:
        canonical = cms.ContentInfo.load(der).dump(force=True) == der
    except (ValueError, TypeError, KeyError):
        canonical = False
    if not canonical:
        return "the CMS container is not in canonical DER"
    sd = embedded.signed_data
    infos = sd["signer_infos"]
    if len(infos) != 1 or sd["crls"].native or sd["version"].native != "v1" or infos[0]["version"].native != "v1":
        return "the CMS container is not a single-signer v1 SignedData without CRLs"
    if [a["algorithm"].native for a in sd["digest_algorithms"]] != [infos[0]["digest_algorithm"]["algorithm"].native]:
        return "the CMS digest algorithm list does not match the signer's"
    unsigned = infos[0]["unsigned_attrs"]
    if unsigned.native and any(a["type"].native != "signature_time_stamp_token" for a in unsigned):
        return "the signature carries unsigned attributes other than a timestamp"
    return _chain_problem([c.chosen.dump() for c in sd["certificates"]], embedded.signer_cert.dump())


def _chain_problem(bag: list[bytes], signer: bytes) -> str | None:
    """Every certificate in the bag lies on the signer's chain and verifies under the next one up."""
    from cryptography import x509

    if len(set(bag)) != len(bag) or signer not in bag:
        return "the CMS certificates repeat, or lack the signer's"
    try:
        certs = {der: x509.load_der_x509_certificate(der) for der in bag}
    except ValueError:
        return "the CMS carries a certificate that cannot be read"
    used, current = {signer}, certs[signer]
    while True:
        issuer = next((der for der, c in certs.items() if c.subject == current.issuer and _issued(current, c)), None)
        if issuer is None or issuer in used:
            return None if set(bag) == used else "the CMS carries a certificate that is not on the signer's chain"
        used.add(issuer)
        current = certs[issuer]


def _issued(child, parent) -> bool:  # noqa: ANN001
    """``parent``'s key verifies ``child``'s signature (a self-signed certificate is its own parent)."""
    try:
        child.verify_directly_issued_by(parent)
        return True
    except Exception:  # noqa: BLE001 - InvalidSignature, or an algorithm cryptography cannot check: not a link
        return False


def _der_size(raw: bytes) -> int | None:
    """Length of the outer DER SEQUENCE (header included), None when it is not one."""
    if len(raw) < 2 or raw[0] != 0x30:
        return None
    first = raw[1]
    if first < 0x80:
        return 2 + first
    n = first & 0x7F
    if n == 0 or n > 4 or len(raw) < 2 + n:
        return None
    return 2 + n + int.from_bytes(raw[2:2 + n], "big")
