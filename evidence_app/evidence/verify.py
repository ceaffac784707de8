"""Offline verification of a pack: signature intact over the entire file, trust, attachments, chain."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from evidence_app.errors import UsageError
from evidence_app.evidence.extracts import MANIFEST, csv_rows, pack_id
from evidence_app.evidence.sign import outside_event_loop, quiet_pyhanko


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None
    """True passed, False failed, None informational (not demanded)."""
    detail: str


@dataclass(frozen=True)
class Verification:
    checks: tuple[Check, ...]
    manifest: dict | None

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks) and any(c.ok for c in self.checks)


def verify_pack(data: bytes, trust: Path | None = None, previous: Path | None = None) -> Verification:
    """Run every check; unusable input (not a PDF) raises UsageError."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError) as exc:
        raise UsageError(f"not a readable PDF: {exc}") from None
    checks: list[Check] = []
    if not sigs:
        return Verification((Check("signature", False, "the PDF carries no signature"),), None)
    checks += _signature_checks(sigs[-1], trust)
    files = _attachments(reader)
    mf, attach_checks = _attachment_checks(files)
    checks += attach_checks
    if previous is not None:
        checks.append(_chain_check(mf, previous))
    return Verification(tuple(checks), mf)


def _signature_checks(sig, trust: Path | None) -> list[Check]:  # noqa: ANN001
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    roots = [load_cert_from_pemder(str(trust))] if trust else []
    vc = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        with quiet_pyhanko():
            status = outside_event_loop(lambda: validate_pdf_signature(sig, vc))
    except (SignatureValidationError, ValueError) as exc:
        return [Check("signature", False, f"cannot be validated: {exc}")]
    signer = status.signing_cert.subject.human_friendly
    checks = [
        Check("signature intact", bool(status.intact and status.valid),
              f"cryptographically valid, signed by {signer}" if status.intact and status.valid
              else "the signed bytes were changed after signing"),
        Check("covers entire file", status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
              "the signature covers every byte of the file" if status.coverage == SignatureCoverageLevel.ENTIRE_FILE
              else f"content was added after signing (coverage: {status.coverage.name})"),
    ]
    if trust:
        checks.append(Check("trust", bool(status.trusted),
                            f"chains to {trust.name}" if status.trusted else f"does not chain to {trust.name}"))
    else:
        self_signed = status.signing_cert.subject == status.signing_cert.issuer
        checks.append(Check("trust", None, "not checked (no --trust given)" +
                            ("; the signer is a self-signed trial identity" if self_signed else "")))
    ts = getattr(status, "timestamp_validity", None)
    if ts is not None:
        checks.append(Check("timestamp", bool(ts.intact and ts.valid), f"RFC 3161 timestamp at {ts.timestamp}"))
    return checks


def _attachments(reader) -> dict[str, bytes]:  # noqa: ANN001
    root = reader.root
    try:
        names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return {}
    out = {}
    for i in range(0, len(names), 2):
        spec = names[i + 1].get_object()
        stream = spec["/EF"]["/F"].get_object()
        out[str(names[i])] = stream.data
    return out


def _attachment_checks(files: dict[str, bytes]) -> tuple[dict | None, list[Check]]:
    if MANIFEST not in files:
        return None, [Check("manifest", False, "manifest.json is not attached")]
    try:
        mf = json.loads(files[MANIFEST])
    except ValueError:
        return None, [Check("manifest", False, "manifest.json is not valid JSON")]
    checks = [Check("manifest", mf.get("pack_id") == pack_id(mf),
                    f"pack {mf.get('pack_id')}" if mf.get("pack_id") == pack_id(mf)
                    else "pack id does not match the manifest's content")]
    listed = {e["name"]: e for e in mf.get("extracts", [])}
    for name, entry in listed.items():
        data = files.get(name)
        if data is None:
            checks.append(Check(f"extract {name}", False, "listed in the manifest but not attached"))
            continue
        digest, rows = hashlib.sha256(data).hexdigest(), csv_rows(data)
        ok = digest == entry["sha256"] and rows == entry["rows"]
        checks.append(Check(f"extract {name}", ok, f"{rows} rows, SHA-256 matches" if ok else
                            f"SHA-256 {'matches' if digest == entry['sha256'] else 'differs'}, "
                            f"{rows} rows (manifest: {entry['rows']})"))
    for name in sorted(set(files) - set(listed) - {MANIFEST}):
        checks.append(Check(f"extract {name}", False, "attached but not listed in the manifest"))
    return mf, checks


def _chain_check(mf: dict | None, previous: Path) -> Check:
    try:
        digest = hashlib.sha256(previous.read_bytes()).hexdigest()
    except OSError as exc:
        raise UsageError(f"--previous: cannot read {previous}: {exc.strerror}") from None
    claimed = (mf or {}).get("previous_pack_sha256")
    if claimed == digest:
        return Check("chain", True, f"follows {previous.name}")
    return Check("chain", False, f"does not follow {previous.name} (manifest names {claimed or 'no previous pack'})")
