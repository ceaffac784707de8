"""`evidence-app oscal --pack`: the results name a signed pack by its id and SHA-256 only after it verifies, only
with its own figures (same period, scope, configuration and sources), and derive every UUID from its id."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_app.cli import main
from evidence_app.evidence import oscal

from oscal_schema import schema_errors, trestle_model
from pdftools import build

PERIOD = ["--start", "2026-10-01", "--end", "2026-10-29"]
AT = "2026-10-30T00:00:00Z"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def identity(signing_identity) -> tuple[Path, Path]:
    return signing_identity


@pytest.fixture(scope="module")
def pack(tmp_path_factory, identity) -> Path:
    return build(tmp_path_factory.mktemp("pack") / "pack.pdf", identity, period=PERIOD, at=["--generated-at", AT])


def manifest(pack: Path) -> dict:
    from pdftools import attachments

    return json.loads(attachments(pack)["manifest.json"])


def results(pack: Path, identity, out: Path, *extra: str):
    return run("oscal", *PERIOD, "--out", str(out), "--pack", str(pack), "--trust", str(identity[1]), *extra)


@pytest.fixture(scope="module")
def doc(pack, identity, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("oscal") / "results.json"
    res = results(pack, identity, out, "--poam", str(out.with_name("poam.json")))
    assert res.exit_code == 0, res.stderr
    return json.loads(out.read_bytes())


def test_results_with_a_pack_are_valid_for_nist_and_trestle(doc):
    assert schema_errors(doc) == []
    trestle_model(doc)


def test_results_name_the_pack_by_its_id_and_sha256(doc, pack):
    sha, pid = hashlib.sha256(pack.read_bytes()).hexdigest(), manifest(pack)["pack_id"]
    ar = doc["assessment-results"]
    (resource,) = [r for r in ar["back-matter"]["resources"] if "rlinks" in r]
    (link,) = resource["rlinks"]
    assert link["hashes"] == [{"algorithm": "SHA-256", "value": sha}] and link["href"] == pack.name
    for o in ar["results"][0]["observations"]:
        (evidence,) = o["relevant-evidence"]
        assert evidence["href"] == f"#{resource['uuid']}"
        assert {p["name"]: p["value"] for p in evidence["props"]} == {"pack-id": pid, "pack-sha256": sha}
    assert ar["metadata"]["version"] == pid


def test_results_are_judged_at_the_packs_generation_time(doc):
    ar = doc["assessment-results"]
    assert ar["metadata"]["last-modified"] == AT
    assert {o["collected"] for o in ar["results"][0]["observations"]} == {AT}


def test_every_uuid_derives_from_the_pack_id(doc, pack):
    pid = manifest(pack)["pack_id"]
    assert doc["assessment-results"]["uuid"] == str(uuid.uuid5(oscal.ROOT, f"{pid}/assessment-results/"))
    first = doc["assessment-results"]["results"][0]["findings"][0]
    assert first["uuid"] == str(uuid.uuid5(oscal.ROOT, f"{pid}/finding/{first['target']['target-id']}"))


def test_the_same_pack_gives_the_same_bytes(pack, identity, tmp_path, doc):
    out = tmp_path / "again.json"
    assert results(pack, identity, out).exit_code == 0
    assert json.loads(out.read_bytes()) == doc
    again = tmp_path / "third.json"
    assert results(pack, identity, again).exit_code == 0
    assert out.read_bytes() == again.read_bytes()


def test_a_tampered_pack_is_never_vouched_for(pack, identity, tmp_path):
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0x01
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(bytes(data))
    res = results(forged, identity, tmp_path / "r.json")
    assert res.exit_code == 1 and "not vouched for" in res.stderr and len(res.stderr.splitlines()) == 1
    assert not (tmp_path / "r.json").exists()


def test_a_pack_whose_signer_the_given_anchor_does_not_vouch_for_is_refused(pack, tmp_path):
    other = tmp_path / "other"
    assert run("keygen", str(other), "--valid-from", "2026-01-01").exit_code == 0
    res = run("oscal", *PERIOD, "--out", str(tmp_path / "r.json"), "--pack", str(pack),
              "--trust", str(other / "cert.pem"))
    assert res.exit_code == 1 and "signer not trusted" in res.stderr
    assert not (tmp_path / "r.json").exists()


def test_without_any_trust_anchor_an_intact_pack_is_named_and_its_unchecked_signer_said(pack, doc, tmp_path):
    out = tmp_path / "r.json"
    res = run("oscal", *PERIOD, "--out", str(out), "--pack", str(pack))
    assert res.exit_code == 0, res.stderr
    assert "not checked against a trust anchor" in res.stderr
    got = json.loads(out.read_bytes())
    text = json.dumps(got)
    assert hashlib.sha256(pack.read_bytes()).hexdigest() in text and "not checked against any trust anchor" in text
    findings = {f["target"]["target-id"]: f["target"]["status"]["state"]
                for f in got["assessment-results"]["results"][0]["findings"]}
    assert findings == {f["target"]["target-id"]: f["target"]["status"]["state"]
                        for f in doc["assessment-results"]["results"][0]["findings"]}


def test_a_pack_of_another_period_is_refused(pack, identity, tmp_path):
    res = run("oscal", "--start", "2026-10-01", "--end", "2026-10-28", "--out", str(tmp_path / "r.json"),
              "--pack", str(pack), "--trust", str(identity[1]))
    assert res.exit_code == 2 and "covers 2026-10-01 – 2026-10-29" in res.stderr


def test_as_of_other_than_the_packs_time_is_refused(pack, identity, tmp_path):
    res = results(pack, identity, tmp_path / "r.json", "--as-of", "2026-11-01T00:00:00Z")
    assert res.exit_code == 2 and "the pack was generated at" in res.stderr


def test_a_pack_whose_sources_changed_since_is_refused(scenario, identity, tmp_path):
    """A row landed after the pack was built: the figures now are not the pack's, so it is not named."""
    scenario.op("o1").row("a1").op("o2", user="u2")
    cfg = scenario.write()
    day = ["--config", str(cfg), "--start", "2026-10-01", "--end", "2026-10-01"]
    out = tmp_path / "p.pdf"
    assert run("pack", *day, "--generated-at", "2026-10-02T00:00:00Z", "--out", str(out), "--key",
               str(identity[0]), "--cert", str(identity[1])).exit_code == 0
    ok = run("oscal", *day, "--out", str(tmp_path / "before.json"), "--pack", str(out), "--trust", str(identity[1]))
    assert ok.exit_code == 0, ok.stderr
    scenario.row("a2", user="u2", origin="replay")
    scenario.write()
    res = run("oscal", *day, "--out", str(tmp_path / "r.json"), "--pack", str(out), "--trust", str(identity[1]))
    assert res.exit_code == 2 and "sources changed since it was built" in res.stderr
    assert not (tmp_path / "r.json").exists()


def test_every_findings_verdict_is_the_one_the_signed_pack_prints(doc, pack):
    """Read back against the pack itself: each control's row in its Control mapping (pdftotext -layout) shows the
    verdict the finding carries, and the finding's state is that verdict's."""
    from pdftools import tool

    layout = subprocess.run([tool("pdftotext"), "-layout", str(pack), "-"], capture_output=True, text=True,
                            check=True).stdout
    from evidence_app.display import state_name

    state = {"met": "satisfied", "met with exceptions": "satisfied", "not met": "not-satisfied",
             "not applicable": "not-satisfied"}
    for finding in doc["assessment-results"]["results"][0]["findings"]:
        cid = finding["target"]["target-id"]
        verdict = {p["name"]: p["value"] for p in finding["props"]}["verdict"]
        row = re.search(rf"^\s*\S.*?\s{re.escape(cid)}\s+.+?\s{{2,}}(Met with|Not met|Not applicable|Met)\s{{2,}}",
                        layout, re.M)
        assert row, cid
        assert row.group(1) == state_name(verdict).removesuffix(" exceptions"), cid  # the pack names it for people
        assert finding["target"]["status"]["state"] == state[verdict], cid
