"""Build one signed evidence pack: gather → extracts + manifest → PDF → embed + sign."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from evidence_app.config import Config
from evidence_app.errors import UsageError
from evidence_app.evidence import pdf
from evidence_app.evidence.contents import PackContents, gather
from evidence_app.evidence.extracts import (
    MANIFEST,
    build_extracts,
    manifest,
    manifest_bytes,
)
from evidence_app.evidence.sign import (
    SigningOptions,
    load_identity,
    sign_with_attachments,
)
from evidence_app.reconcile import Period, Scope

Step = Callable[[str], None]


@dataclass(frozen=True)
class BuiltPack:
    path: Path | None
    data: bytes
    manifest: dict
    contents: PackContents


def build_pack(config: Config, period: Period, scope: Scope, signing: SigningOptions, generated_at: datetime,
               out: Path | None = None, previous: Path | None = None, sample_seed: int | None = None,
               step: Step | None = None, stores=None, access_limit: str | None = None) -> BuiltPack:  # noqa: ANN001
    """Everything ``evidence-app pack`` does; ``step`` hears each stage (for progress bars). ``access_limit``
    says, on the cover and in the manifest, that the builder's access was limited (web app, scoped grant)."""
    say = step or (lambda _s: None)
    identity = load_identity(signing)  # fail fast on a bad key before any heavy work
    previous_sha = _sha256_file(previous, "--previous") if previous else None
    say("reconciling")
    contents = gather(config, period, scope, generated_at, sample_seed, stores=stores, access_limit=access_limit)
    say("writing extracts")
    extracts = build_extracts(contents)
    body = manifest(contents, extracts, previous_sha, identity.subject)
    say("laying out the PDF")
    unsigned = pdf.render(contents, body, extracts, identity.subject, identity.self_signed)
    say("signing")
    attachments = [(e.name, e.data, "text/csv", f"{e.rows} rows") for e in extracts]
    attachments.append((MANIFEST, manifest_bytes(body), "application/json", "pack manifest"))
    signed = sign_with_attachments(unsigned, attachments, identity, generated_at, signing.tsa_url)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(signed)
    say("done")
    return BuiltPack(out, signed, body, contents)


def _sha256_file(path: Path, option: str) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc.strerror}") from None
