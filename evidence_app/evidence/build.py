"""Build one signed evidence pack: gather → extracts + manifest → PDF → embed + sign."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from evidence_app.config.settings import Config
from evidence_app.errors import UsageError
from evidence_app.evidence import deflate, pdf
from evidence_app.evidence.contents import PackContents, gather
from evidence_app.evidence.extracts import (
    MANIFEST,
    in_pack_order,
    iter_extracts,
    manifest,
    manifest_bytes,
)
from evidence_app.evidence.sign import (
    Attachment,
    Identity,
    SigningOptions,
    load_identity,
    sign_with_attachments,
    timestamper,
)
from evidence_app.evidence.trust import signer_problem
from evidence_app.reconcile import Period, Scope

Step = Callable[[str], None]

DEFLATE_THREADS = max(2, min(os.cpu_count() or 2, 4))
"""Threads deflating extracts beside the main thread (zlib runs without the GIL)."""


@dataclass(frozen=True)
class BuiltPack:
    """A signed pack and what went into it."""

    path: Path | None
    """Where it was written (None: kept in memory only)."""
    data: bytes
    """The signed PDF."""
    manifest: dict
    """manifest.json as embedded."""
    contents: PackContents
    """The figures the pages show."""
    signer_fingerprint: str
    """SHA-256 of the signer certificate (hex), to compare out of band."""


@dataclass(frozen=True)
class Preflight:
    """Everything that can fail cheaply, checked before minutes of work go into a pack."""

    identity: Identity
    """The loaded signing identity."""
    stamper: object | None
    """The timestamp client, already answered once (None: no --tsa)."""
    previous_sha256: str | None
    """SHA-256 of the --previous pack."""
    archival: object | None = None
    """With --lta: the lta.ValidationInputs the archival step uses (None: B-B or B-T only)."""


def preflight(signing: SigningOptions, out: Path | None, previous: Path | None,
              signing_time: datetime | None = None) -> Preflight:
    """Load the key, check it may sign at ``signing_time`` (the pack's --generated-at, its signature's time; with
    --tsa also now), ask the TSA once, check --out is writable and --previous readable: fail fast, exit 2."""
    identity = load_identity(signing)
    for moment in {signing_time or datetime.now(timezone.utc)} | ({datetime.now(timezone.utc)} if signing.tsa_url
                                                                   else set()):
        problem = signer_problem(identity.certificates[0], moment)
        if problem:
            raise UsageError(f"the signer certificate ({identity.subject}) {problem}: a pack it signs would not "
                             "verify, so none is made")
    stamper = timestamper(signing.tsa_url)
    archival = _archival_inputs(signing, identity, stamper)
    if out is not None:
        check_writable(out)
    return Preflight(identity, stamper, _sha256_file(previous, "--previous") if previous else None, archival)


def _archival_inputs(signing: SigningOptions, identity: Identity, stamper) -> object | None:  # noqa: ANN001
    """With --lta: the anchors and given validation data, and the signer's chain checked now (not revoked, its
    revocation data reachable), so a pack that could not become B-LTA is refused before it is built."""
    from evidence_app.evidence import lta
    from evidence_app.evidence.trust import trust_from_files

    if not signing.lta:
        if signing.validation_files or signing.anchors:
            raise UsageError("--validation-data and --trust are for --lta")
        return None
    if not signing.tsa_url:
        raise UsageError("--lta needs --tsa: B-LTA builds on a timestamped signature")
    given = trust_from_files(signing.anchors, "--trust").certificates
    inputs = lta.inputs_from_certificates(identity.certificates) + lta.inputs_from_files(signing.validation_files)
    inputs = dataclasses.replace(inputs, anchors=inputs.anchors + given)
    lta.check_signer(identity.certificates, inputs, stamper)
    return inputs


def build_pack(config: Config, period: Period, scope: Scope, signing: SigningOptions, generated_at: datetime,
               out: Path | None = None, previous: Path | None = None, sample_seed: int | None = None,
               step: Step | None = None, stores=None, access_limit: str | None = None,
               ready: Preflight | None = None) -> BuiltPack:  # noqa: ANN001
    """Everything ``evidence-app pack`` does; ``step`` hears each stage (for progress bars). ``access_limit``
    says, on the cover and in the manifest, that the builder's access was limited (web app, scoped grant);
    ``ready`` is the result of :func:`preflight` when the caller checked the options already."""
    say = step or (lambda _s: None)
    ready = ready or preflight(signing, out, previous, generated_at)
    identity, previous_sha = ready.identity, ready.previous_sha256
    say("reconciling")
    contents = gather(config, period, scope, generated_at, sample_seed, stores=stores, access_limit=access_limit)
    say("writing extracts")
    # Threads deflate each extract (zlib lets go of the GIL) while this one writes the next and lays out the PDF.
    with ThreadPoolExecutor(max_workers=DEFLATE_THREADS, thread_name_prefix="deflate") as pool:
        written = [(e, deflate.submit(pool, e.data)) for e in iter_extracts(contents)]
        extracts, deflated = zip(*in_pack_order(written, lambda pair: pair[0].name))
        extracts = list(extracts)
        body = manifest(contents, extracts, previous_sha, identity.subject, identity.fingerprint)
        say("laying out the PDF")
        unsigned = pdf.render(contents, body, extracts, identity.subject, identity.self_signed,
                              identity.fingerprint)
        say("signing")
        attachments = [Attachment(e.name, e.data, "text/csv", f"{e.rows} rows", result())
                       for e, result in zip(extracts, deflated)]
    attachments.append(Attachment(MANIFEST, manifest_bytes(body), "application/json", "pack manifest"))
    signed = sign_with_attachments(unsigned, attachments, identity, generated_at, stamper=ready.stamper)
    if ready.archival is not None:
        from evidence_app.evidence import lta

        say("archival timestamp")
        signed = lta.archive(signed, ready.stamper, ready.archival)
    if out is not None:
        write_atomically(out, signed)
    say("done")
    return BuiltPack(out, signed, body, contents, identity.fingerprint)


def check_writable(out: Path) -> None:
    """--out must be writable before minutes of work go into the pack: its folder creatable, a file there."""
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder, not a file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".probe"):
            pass
        if out.exists():
            with out.open("r+b"):
                pass
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write there: {exc.strerror or exc}") from exc


def write_atomically(out: Path, data: bytes) -> None:
    """Write next to the target and rename, so a failed write never leaves half a pack under its name."""
    tmp = None
    try:
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".part", delete=False) as f:
            tmp = Path(f.name)
            f.write(data)
        os.replace(tmp, out)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise UsageError(f"--out {out}: cannot write: {exc.strerror or exc}") from exc


def _sha256_file(path: Path, option: str) -> str:
    """SHA-256 of a file the user named; unreadable is a usage error naming the option."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc.strerror}") from exc
