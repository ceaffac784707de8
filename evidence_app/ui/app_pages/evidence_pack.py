"""Evidence pack: build the signed PDF for the sidebar's period and scope, download it, verify one."""

import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import streamlit as st

from evidence_app.errors import EvidenceError
from evidence_app.evidence.sign import SigningOptions
from evidence_app.evidence.trust import (
    TrustAnchors,
    colon_hex,
    trust_from_bytes,
    trust_from_fingerprints,
)
from evidence_app.ui import data
from evidence_app.ui.access import download
from evidence_app.ui.components import LONGEST_MESSAGE, current_view, guarded, plain, shown_table

STAGES = ["reconciling", "writing extracts", "laying out the PDF", "signing", "done"]


def pack_file_name(pack_id: str) -> str:
    """The signed pack's download name (the OSCAL results name it as their evidence)."""
    return f"evidence-pack-{pack_id}.pdf"


def _given_trust(cert_upload, fingerprint: str) -> TrustAnchors:  # noqa: ANN001
    """What the user asked to trust besides the server's own identity."""
    given = TrustAnchors()
    if cert_upload is not None:
        given += trust_from_bytes(cert_upload.getvalue(), cert_upload.name)
    if fingerprint.strip():
        given += trust_from_fingerprints([fingerprint], "fingerprint")
    return given


def _show(result: data.Verification) -> None:
    """The verdict: passed only for an intact pack by a trusted signer; an untrusted signer is named by fingerprint."""
    pid = (result.manifest or {}).get("pack_id")
    if result.ok:
        st.success(f"Verification passed for pack {plain(pid)}: signed by {plain(result.signer.subject)}, "
                   f"SHA-256 fingerprint `{colon_hex(result.signer.fingerprint)}`, a trusted signer.")
    elif result.intact:
        st.error(f"Verification FAILED: signer not trusted. Integrity OK (one signature over the entire file, "
                 f"every attachment matches the manifest), but nothing trusted here vouches for "
                 f"{plain(result.signer.subject)}: SHA-256 fingerprint `{colon_hex(result.signer.fingerprint)}`. "
                 "Compare it with the signer's out of band; to trust it, switch on *Trust another signer* and "
                 "enter it or upload the certificate.")
    else:
        st.error(f"Verification FAILED: {len(result.failed)} check(s) failed: {plain(', '.join(result.failed))}.")
    st.dataframe(shown_table(pd.DataFrame([{"check": c.name, "status": {True: "OK", False: "FAIL", None: "info"}[c.ok],
                                            "detail": c.detail} for c in result.checks])), hide_index=True,
                 width="stretch")


v = current_view()
st.title("Evidence pack")
st.markdown(f"**Period** {v.start} – {v.end} (UTC days, inclusive) · **Scope** {plain(v.scope.label())}  \n"
            "Change either in the sidebar. The pack carries the full population as signed CSV attachments.")

server_identity = data.server_identity_configured()
choices = ["Trial identity (self-signed, made for this server)"]
if server_identity:
    choices.insert(0, f"Server identity (`${data.KEY_ENV}` / `${data.CERT_ENV}`)")
identity = st.radio("Sign with", choices, key="pack_identity")
if not server_identity:
    st.caption(f"To sign with your organisation's certificate, start the server with `${data.KEY_ENV}` and "
               f"`${data.CERT_ENV}` (optionally `${data.CHAIN_ENV}`, and the passphrase in "
               "`$EVIDENCE_SIGNING_PASSPHRASE`).")

if st.button("Build signed pack", type="primary", key="build_pack"):
    if identity.startswith("Server"):
        chain = os.environ.get(data.CHAIN_ENV)
        signing = SigningOptions(key=Path(os.environ[data.KEY_ENV]), cert=Path(os.environ[data.CERT_ENV]),
                                 chain=Path(chain) if chain else None)
    else:
        key, cert = data.trial_identity()
        signing = SigningOptions(key=Path(key), cert=Path(cert), passphrase_env="EVIDENCE_TRIAL_NO_PASSPHRASE")
    bar = st.progress(0, text="starting…")
    done = []

    def step(stage: str) -> None:
        done.append(stage)
        bar.progress(min(len(done) / len(STAGES), 1.0), text=stage)

    generated_at = datetime.now(timezone.utc).replace(microsecond=0)
    built = guarded(lambda: data.build_pack(v, signing, generated_at, step=step))
    st.session_state["pack"] = (built.manifest["pack_id"], built.data, len(built.data), built.signer_fingerprint)
    st.session_state["pack_oscal"] = data.pack_oscal(built, pack_file_name(built.manifest["pack_id"]))

if "pack" in st.session_state:
    pack_id, pdf, size, fingerprint = st.session_state["pack"]
    st.success(f"Pack {plain(pack_id)} is ready ({size / 1024:,.0f} KiB). Signer certificate SHA-256 fingerprint: "
               f"`{colon_hex(fingerprint)}`")
    download("Download the signed pack (PDF)", lambda: pdf, file_name=pack_file_name(pack_id),
             mime="application/pdf", key="dl_pack", action="pack_download", page="evidence_pack", pack_id=pack_id)
    oscal = st.session_state["pack_oscal"]
    download("Download OSCAL assessment results (JSON)", lambda: oscal, file_name=f"oscal-results-{pack_id}.json",
             mime="application/json", key="dl_oscal", action="pack_download", page="evidence_pack", pack_id=pack_id,
             format="oscal")
    st.caption("The same findings and figures as the pack, for GRC tools (NIST OSCAL Assessment Results): one finding "
               "per control, one observation per figure, naming this pack by its id and SHA-256 as the evidence.")

st.divider()
st.header("Verify a pack")
st.caption("The same checks as `evidence-app verify`: exactly one signature, in the pack's own field, covering the "
           "entire file (nothing added after it), every attachment's SHA-256 and row count against the manifest — "
           "and a trusted signer. Trusted here: this server's own signing identity, and whatever you add below.")
uploaded = st.file_uploader("Evidence pack (PDF)", type=["pdf"], key="verify_upload")
trust_cert, trust_fp = None, ""
if st.toggle("Trust another signer (a certificate or a fingerprint)", key="verify_trust_more"):
    trust_cert = st.file_uploader("Certificate to trust (PEM or DER: a CA the signer chains to, or the signer's "
                                  "own certificate)", type=["pem", "crt", "cer", "der"], key="verify_trust_cert")
    trust_fp = st.text_input("…or the signer certificate's SHA-256 fingerprint (colons optional)",
                             key="verify_trust_fingerprint")
if uploaded is not None:
    trust = guarded(lambda: data.server_trust() + _given_trust(trust_cert, trust_fp))
    try:
        _show(data.verify_pack(uploaded.name, uploaded.getvalue(), trust))
    except EvidenceError as exc:  # not a PDF, or one too damaged to read: the pack fails, in one line
        st.error(f"Verification FAILED: {plain(exc, LONGEST_MESSAGE)}")
