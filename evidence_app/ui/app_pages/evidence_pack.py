"""Evidence pack: build the signed PDF for the sidebar's period and scope, download it, verify one."""

import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import streamlit as st

from evidence_app.evidence.build import build_pack
from evidence_app.evidence.sign import SigningOptions
from evidence_app.evidence.verify import verify_pack
from evidence_app.reconcile import Period
from evidence_app.ui import data
from evidence_app.ui.components import current_view, guarded, plain

KEY_ENV, CERT_ENV = "EVIDENCE_SIGNING_KEY", "EVIDENCE_SIGNING_CERT"
STAGES = ["reconciling", "writing extracts", "laying out the PDF", "signing", "done"]

v = current_view()
st.title("Evidence pack")
st.markdown(f"**Period** {v.start} – {v.end} (UTC days, inclusive) · **Scope** {plain(v.scope.label())}  \n"
            "Change either in the sidebar. The pack carries the full population as signed CSV attachments.")

server_identity = bool(os.environ.get(KEY_ENV) and os.environ.get(CERT_ENV))
choices = ["Trial identity (self-signed, made for this server)"]
if server_identity:
    choices.insert(0, f"Server identity (${KEY_ENV} / ${CERT_ENV})")
identity = st.radio("Sign with", choices, key="pack_identity")
if not server_identity:
    st.caption(f"To sign with your organisation's certificate, start the server with ${KEY_ENV} and ${CERT_ENV} "
               "(and the passphrase in $EVIDENCE_SIGNING_PASSPHRASE).")

if st.button("Build signed pack", type="primary", key="build_pack"):
    if identity.startswith("Server"):
        signing = SigningOptions(key=Path(os.environ[KEY_ENV]), cert=Path(os.environ[CERT_ENV]))
    else:
        key, cert = data.trial_identity()
        signing = SigningOptions(key=Path(key), cert=Path(cert), passphrase_env="EVIDENCE_TRIAL_NO_PASSPHRASE")
    bar = st.progress(0, text="starting…")
    done = []

    def step(stage: str) -> None:
        done.append(stage)
        bar.progress(min(len(done) / len(STAGES), 1.0), text=stage)

    generated_at = datetime.now(timezone.utc).replace(microsecond=0)
    built = guarded(lambda: build_pack(data.config(v.config_path), Period(v.start, v.end), v.scope, signing,
                                       generated_at, step=step, stores=data.stores(v.config_path)))
    st.session_state["pack"] = (built.manifest["pack_id"], built.data, len(built.data))

if "pack" in st.session_state:
    pack_id, pdf, size = st.session_state["pack"]
    st.success(f"Pack {plain(pack_id)} is ready ({size / 1024:,.0f} KiB).")
    st.download_button("Download the signed pack (PDF)", pdf, file_name=f"evidence-pack-{pack_id}.pdf",
                       mime="application/pdf", key="dl_pack")

st.divider()
st.subheader("Verify a pack")
st.caption("The same checks as `evidence-app verify`: signature intact and covering the entire file, every "
           "attachment's SHA-256 and row count against the manifest.")
uploaded = st.file_uploader("Evidence pack (PDF)", type=["pdf"], key="verify_upload")
if uploaded is not None:
    result = guarded(lambda: verify_pack(uploaded.getvalue()))
    (st.success if result.ok else st.error)(
        f"Verification {'passed' if result.ok else 'FAILED'}" +
        (f" for pack {plain(result.manifest.get('pack_id'))}" if result.manifest else ""))
    st.dataframe(pd.DataFrame([{"check": c.name, "status": {True: "OK", False: "FAIL", None: "info"}[c.ok],
                                "detail": c.detail} for c in result.checks]), hide_index=True, width="stretch")
