"""Attacks on evidence packs, built with pyHanko the way an attacker would: a re-signed forgery, incremental
updates (annotation, attachment, second signature), a signature in another field; and signing identities
(self-signed, a CA and a certificate it issued)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from evidence_app.evidence.attachments import read_attachments
from evidence_app.evidence.extracts import MANIFEST, csv_rows, manifest_bytes, pack_id
from evidence_app.evidence.trust import colon_hex

__all__ = ["Ident", "colon_hex"]

TRIAL_CN = "evidence-app trial signer"
TRIAL_ORG = "evidence-app (self-signed, for trials)"


@dataclass(frozen=True)
class Ident:
    """A key and certificate on disk."""

    key: Path
    cert: Path
    fingerprint: str
    """SHA-256 of the certificate's DER, hex."""


VALID_FROM = datetime(2026, 1, 1, tzinfo=timezone.utc)
"""Test identities are valid from here: the packs the tests sign carry fixed generation times in 2026."""


def make_identity(folder: Path, common_name: str = TRIAL_CN, organisation: str = TRIAL_ORG,
                  issuer: Ident | None = None, ca: bool = False, not_before: datetime | None = None,
                  not_after: datetime | None = None, document_signing: bool = True) -> Ident:
    """A self-signed identity (by default named exactly like `evidence-app keygen`'s), or one issued by `issuer`;
    valid from :data:`VALID_FROM` for 30 days past now unless told otherwise; ``document_signing=False`` gives a
    certificate whose key usage allows only certificate (and CRL) signing."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])
    if issuer is None:
        issuer_name, signing_key = name, key
    else:
        issuer_name = x509.load_pem_x509_certificate(issuer.cert.read_bytes()).subject
        signing_key = serialization.load_pem_private_key(issuer.key.read_bytes(), None)
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or min(VALID_FROM, now - timedelta(hours=1)))
            .not_valid_after(not_after or now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca or issuer is None, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=document_signing, content_commitment=document_signing,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=ca or issuer is None or not document_signing,
                                         crl_sign=ca or not document_signing, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(signing_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / "key.pem", folder / "cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    der = cert.public_bytes(serialization.Encoding.DER)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Ident(key_path, cert_path, hashlib.sha256(der).hexdigest())


def _signer(ident: Ident):  # noqa: ANN202
    from pyhanko.sign import signers

    return signers.SimpleSigner.load(str(ident.key), str(ident.cert))


def _reader(data: bytes):  # noqa: ANN202
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(data), strict=False)


def embedded_files(data: bytes) -> dict[str, bytes]:
    """The files embedded in the last revision."""
    return read_attachments(_reader(data).root).files


def first_revision(data: bytes) -> bytes:
    """The bytes before the signing revision: the unsigned PDF as reportlab wrote it."""
    end = data.index(b"%%EOF") + len(b"%%EOF")
    return data[:end] + b"\n"


def whitewash(files: dict[str, bytes], signer_sha256: str) -> dict[str, bytes]:
    """The attacker's edit: no exceptions, every missing operation logged, manifest recomputed to match."""
    out = dict(files)
    header = files["exceptions.csv"].decode().splitlines()[0]
    out["exceptions.csv"] = (header + "\n").encode()
    rows = list(csv.reader(io.StringIO(files["population.csv"].decode())))
    state = rows[0].index("state")
    for row in rows[1:]:
        if row[state].startswith("missing_"):
            row[state] = "logged"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    out["population.csv"] = buf.getvalue().encode()
    mf = json.loads(files[MANIFEST])
    for entry in mf["extracts"]:
        entry["sha256"] = hashlib.sha256(out[entry["name"]]).hexdigest()
        entry["rows"] = csv_rows(out[entry["name"]])
    mf["signer_sha256"] = signer_sha256
    mf["pack_id"] = pack_id(mf)
    out[MANIFEST] = manifest_bytes(mf)
    return out


def sign_files(unsigned: bytes, files: dict[str, bytes], ident: Ident, field: str = "EvidencePackSignature",
               title: str | None = None) -> bytes:
    """Embed the files into the unsigned PDF (retitled when asked) and sign it in `field`, as evidence-app pack does."""
    from pyhanko.pdf_utils import embed, generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(unsigned))
    if title is not None:
        info = writer.trailer["/Info"]
        info[generic.NameObject("/Title")] = generic.TextStringObject(title)
        writer.update_container(info)
    for name, data in files.items():
        obj = embed.EmbeddedFileObject.from_file_data(writer, data)
        embed.embed_file(writer, embed.FileSpec(file_spec_string=name, file_name=name, embedded_data=obj))
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256")
    return signers.sign_pdf(writer, meta, signer=_signer(ident)).getvalue()


def forge(genuine: bytes, ident: Ident, retitle: bool = True) -> bytes:
    """The re-signed forgery: the genuine pages, whitewashed extracts, a consistent manifest (and document title,
    unless `retitle` is off), signed in the pack's field by a fresh key."""
    files = whitewash(embedded_files(genuine), ident.fingerprint)
    title = f"Evidence pack {json.loads(files[MANIFEST])['pack_id']}" if retitle else None
    return sign_files(first_revision(genuine), files, ident, title=title)


def _annotate(writer, text: str) -> None:  # noqa: ANN001
    from pyhanko.pdf_utils import generic

    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    annot = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in (40, 700, 560, 780)]),
        generic.NameObject("/Contents"): generic.TextStringObject(text),
        generic.NameObject("/DA"): generic.pdf_string("/Helv 20 Tf 0 0.5 0 rg"),
    }))
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(annot)
    page[generic.NameObject("/Annots")] = annots
    writer.update_container(page)


def annotate(data: bytes, text: str = "COVERAGE 100 % – ALL CONTROLS MET", second: Ident | None = None,
             field: str = "Signature2") -> bytes:
    """An incremental update with a FreeText annotation on page 1, optionally signed by a second key."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    _annotate(writer, text)
    if second is not None:
        meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256")
        return signers.sign_pdf(writer, meta, signer=_signer(second)).getvalue()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def countersign(data: bytes, ident: Ident, field: str = "Signature2") -> bytes:
    """A second signature in a new field, covering the whole file as it then is."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256")
    return signers.sign_pdf(writer, meta, signer=_signer(ident)).getvalue()


def replace_attachment(data: bytes, name: str, content: bytes) -> bytes:
    """An incremental update pointing the existing name-tree entry `name` at new bytes."""
    from pyhanko.pdf_utils import embed
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    i = [str(names[j]) for j in range(0, len(names), 2)].index(name) * 2
    obj = embed.EmbeddedFileObject.from_file_data(writer, content)
    spec = embed.FileSpec(file_spec_string=name, file_name=name, embedded_data=obj).as_pdf_object()
    names[i + 1] = writer.add_object(spec)
    writer.update_container(names)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def add_attachment(data: bytes, name: str, content: bytes) -> bytes:
    """An incremental update adding one more embedded file."""
    from pyhanko.pdf_utils import embed
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    obj = embed.EmbeddedFileObject.from_file_data(writer, content)
    embed.embed_file(writer, embed.FileSpec(file_spec_string=name, file_name=name, embedded_data=obj))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def malformed_names(genuine: bytes, ident: Ident) -> bytes:
    """The genuine pages re-signed (in the pack's field) over a broken /EmbeddedFiles tree."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(first_revision(genuine)))
    tree = generic.DictionaryObject({generic.NameObject("/Names"): generic.ArrayObject(
        [generic.pdf_string("manifest.json"), generic.NumberObject(7), generic.pdf_string("coverage.csv")])})
    writer.root[generic.NameObject("/Names")] = writer.add_object(generic.DictionaryObject(
        {generic.NameObject("/EmbeddedFiles"): writer.add_object(tree)}))
    writer.update_root()
    meta = signers.PdfSignatureMetadata(field_name="EvidencePackSignature", subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256")
    return signers.sign_pdf(writer, meta, signer=_signer(ident)).getvalue()


def edit_cms(data: bytes, change) -> bytes:  # noqa: ANN001
    """The same pack with its signature's CMS container rewritten by ``change(ContentInfo)`` — only parts no
    signature covers — and written back into the same /Contents hole (upper-case hex, zero padding)."""
    import pyhanko.sign.general  # noqa: F401 - registers pyHanko's CMS attribute names
    from asn1crypto import cms

    emb = _reader(data).embedded_signatures[0]
    _, a, b, _ = [int(x) for x in emb.byte_range]
    info = cms.ContentInfo.load(bytes(emb.pkcs7_content).rstrip(b"\0"))
    change(info)
    der = info.dump(force=True)
    width = b - a - 2
    text = der.hex().upper().ljust(width, "0").encode()
    assert len(text) == width, "the rewritten container no longer fits the hole"
    return data[:a + 1] + text + data[b - 1:]
