"""The Evidence pack page offers the OSCAL results of the pack it just built, next to the pack: made from the
pack's own contents (nothing recomputed), naming that pack by its id and SHA-256, valid for NIST and trestle."""

from __future__ import annotations

import hashlib
import json

from streamlit.testing.v1 import AppTest

from conftest import APP, WAIT_S
from oscal_schema import schema_errors, trestle_model


def test_the_evidence_pack_page_offers_the_packs_oscal_results(monkeypatch):
    monkeypatch.delenv("EVIDENCE_APP_CONFIG", raising=False)
    app = AppTest.from_file(APP, default_timeout=WAIT_S)
    app.run()
    app.switch_page("app_pages/evidence_pack.py").run()
    app.button(key="build_pack").click().run(timeout=WAIT_S)
    assert not app.exception, app.exception
    pack_id, pdf, _, _ = app.session_state["pack"]
    doc = json.loads(app.session_state["pack_oscal"])
    assert schema_errors(doc) == []
    result = trestle_model(doc).results[0]
    pack = [r for r in doc["assessment-results"]["back-matter"]["resources"] if "rlinks" in r]
    assert pack[0]["rlinks"][0]["hashes"][0]["value"] == hashlib.sha256(pdf).hexdigest()
    assert pack[0]["rlinks"][0]["href"] == f"evidence-pack-{pack_id}.pdf"
    assert doc["assessment-results"]["metadata"]["version"] == pack_id
    assert len(result.findings) >= 1
    buttons = [b for b in app.get("download_button") if "OSCAL" in b.proto.label]
    assert len(buttons) == 1 and buttons[0].proto.label == "Download OSCAL assessment results (JSON)"
    assert any("OSCAL" in c.value for c in app.caption)
