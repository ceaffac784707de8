"""Signed evidence packs: sign → verify → tamper, reproducibility, chaining, keys, independent tools."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest

from evidence_app.display import state_name
from pdftools import AT, PERIOD, attachments, build, run, tool


@pytest.fixture(scope="module")
def identity(signing_identity) -> tuple[Path, Path]:
    return signing_identity


@pytest.fixture(scope="module")
def pack(tmp_path_factory, identity) -> Path:
    return build(tmp_path_factory.mktemp("pack") / "pack.pdf", identity)


def verify(path: Path, *extra: str):
    return run("verify", str(path), *extra)


def verify_trusted(path: Path, identity, *extra: str):
    """Verify trusting the signer's own certificate (exit 0 needs a trusted signer)."""
    return verify(path, "--trust", str(identity[1]), *extra)


def test_fresh_pack_verifies(pack, identity):
    res = verify_trusted(pack, identity)
    assert res.exit_code == 0, res.stdout
    assert "OK    covers entire file" in res.stdout and "verification passed" in res.stdout


def test_trust_in_the_signer_certificate_is_reported(pack, identity):
    res = verify_trusted(pack, identity)
    assert res.exit_code == 0 and "OK    trust" in res.stdout


def test_fresh_pack_without_trust_is_intact_but_not_trusted(pack):
    res = verify(pack)
    assert res.exit_code == 1
    assert "FAIL  trust: signer not trusted" in res.stdout
    assert [line for line in res.stdout.splitlines() if line.startswith("FAIL")] == \
        [line for line in res.stdout.splitlines() if line.startswith("FAIL  trust")]


def test_trust_in_another_certificate_fails(pack, tmp_path):
    run("keygen", str(tmp_path / "other"), "--valid-from", "2026-01-01")
    res = verify(pack, "--trust", str(tmp_path / "other" / "cert.pem"))
    assert res.exit_code == 1 and "FAIL  trust" in res.stdout


def test_one_changed_byte_fails_verification(pack, identity, tmp_path):
    data = bytearray(pack.read_bytes())
    pos = data.index(b"(Evidence pack EP-") + 20
    data[pos] ^= 0x01
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(bytes(data))
    res = verify_trusted(bad, identity)
    assert res.exit_code == 1
    assert "FAIL  signature intact" in res.stdout


def test_content_appended_after_signing_fails_verification(pack, tmp_path):
    from pyhanko.pdf_utils import embed
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pack.read_bytes()))
    fake = b"day,expected\n2026-08-01,1\n"
    spec = embed.FileSpec(file_spec_string="coverage.csv", file_name="coverage.csv",
                          embedded_data=embed.EmbeddedFileObject.from_file_data(writer, fake))
    embed.embed_file(writer, spec)
    out = io.BytesIO()
    writer.write(out)
    bad = tmp_path / "replaced.pdf"
    bad.write_bytes(out.getvalue())
    res = verify(bad)
    assert res.exit_code == 1
    assert "FAIL  covers entire file" in res.stdout and "FAIL  revisions" in res.stdout
    assert "FAIL  attachments: coverage.csv is embedded twice" in res.stdout


def test_plain_bytes_appended_fail_verification(pack, tmp_path):
    bad = tmp_path / "appended.pdf"
    bad.write_bytes(pack.read_bytes() + b"\n% appended after signing\n")
    res = verify(bad)
    assert res.exit_code == 1 and "FAIL  covers entire file" in res.stdout


def test_not_a_pdf_is_unusable_input(tmp_path):
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"hello")
    res = verify(junk)
    assert res.exit_code == 2 and "not a PDF" in res.stderr


def test_every_extract_is_attached_with_manifest(pack):
    files = attachments(pack)
    assert set(files) == {"coverage.csv", "exceptions.csv", "replay_status.csv", "population.csv", "sample.csv",
                          "remediation.csv", "coverage_by_operator.csv", "coverage_by_tenant.csv",
                          "coverage_by_route.csv", "manifest.json"}
    manifest = json.loads(files["manifest.json"])
    assert {e["name"] for e in manifest["extracts"]} == set(files) - {"manifest.json"}
    assert manifest["period"] == {"start": "2026-08-01", "end": "2026-10-29"}
    assert manifest["sample"]["seed"] and manifest["previous_pack_sha256"] is None


def test_same_inputs_give_byte_identical_extracts(pack, tmp_path, identity):
    again = build(tmp_path / "again.pdf", identity)
    assert attachments(again) == attachments(pack)


def test_same_inputs_give_a_byte_identical_signed_pack(pack, tmp_path, identity):
    """File id, /ModDate and the signing time come from --generated-at, not the clock: a pack can be rebuilt."""
    again = build(tmp_path / "again.pdf", identity)
    assert again.read_bytes() == pack.read_bytes()


def test_sample_can_be_redrawn_from_seed_and_population(pack):
    import random

    files = attachments(pack)
    manifest = json.loads(files["manifest.json"])
    ids = [line.split(",")[0] for line in files["population.csv"].decode().splitlines()[1:]]
    import hashlib

    assert hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest() == manifest["sample"]["population_sha256"]
    redrawn = random.Random(manifest["sample"]["seed"]).sample(sorted(ids), manifest["sample"]["size"])
    drawn = [line.split(",")[1] for line in files["sample.csv"].decode().splitlines()[1:]]
    assert drawn == redrawn and len(drawn) == 59  # 95 % confidence, 5 % tolerable deviation


def test_chained_pack_verifies_against_its_predecessor(pack, tmp_path, identity):
    nxt = build(tmp_path / "next.pdf", identity, "--previous", str(pack))
    assert verify_trusted(nxt, identity, "--previous", str(pack)).exit_code == 0
    res = verify_trusted(nxt, identity, "--previous", str(nxt))
    assert res.exit_code == 1 and "FAIL  chain" in res.stdout


def test_encrypted_key_with_passphrase_from_environment(tmp_path):
    env = {"EVIDENCE_SIGNING_PASSPHRASE": "correct horse"}
    assert run("keygen", str(tmp_path / "id"), "--valid-from", "2026-01-01", env=env).exit_code == 0
    ident = (tmp_path / "id" / "key.pem", tmp_path / "id" / "cert.pem")
    assert b"ENCRYPTED" in ident[0].read_bytes()
    out = build(tmp_path / "p.pdf", ident, env=env)
    assert verify_trusted(out, ident).exit_code == 0
    res = run("pack", *PERIOD, "--out", str(tmp_path / "q.pdf"), "--key", str(ident[0]), "--cert", str(ident[1]),
              env={"EVIDENCE_SIGNING_PASSPHRASE": "wrong"})
    assert res.exit_code == 2 and "wrong passphrase" in res.stderr and "Traceback" not in res.stderr


def test_passphrase_from_a_file(tmp_path):
    secret = tmp_path / "pass.txt"
    secret.write_text("s3cret\n")
    assert run("keygen", str(tmp_path / "id"), "--valid-from", "2026-01-01", "--passphrase-file", str(secret)).exit_code == 0
    ident = (tmp_path / "id" / "key.pem", tmp_path / "id" / "cert.pem")
    build(tmp_path / "p.pdf", ident, "--passphrase-file", str(secret), env={"EVIDENCE_SIGNING_PASSPHRASE": ""})


def test_pkcs12_identity(tmp_path, identity):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        load_pem_private_key,
        pkcs12,
    )

    key = load_pem_private_key(identity[0].read_bytes(), None)
    cert = x509.load_pem_x509_certificate(identity[1].read_bytes())
    p12 = tmp_path / "id.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(b"id", key, cert, None, BestAvailableEncryption(b"pw")))
    res = run("pack", *PERIOD, *AT, "--out", str(tmp_path / "p.pdf"), "--pkcs12", str(p12),
              env={"EVIDENCE_SIGNING_PASSPHRASE": "pw"})
    assert res.exit_code == 0, res.stderr
    assert verify_trusted(tmp_path / "p.pdf", identity).exit_code == 0


def test_signing_options_are_required(tmp_path):
    res = run("pack", *PERIOD, "--out", str(tmp_path / "p.pdf"))
    assert res.exit_code == 2 and "--key" in res.stderr


def test_scope_filters_the_population(tmp_path, identity):
    out = build(tmp_path / "scoped.pdf", identity, "--scope", "tenant=vie-neubau", "--scope", "action=cache_purge")
    files = attachments(out)
    manifest = json.loads(files["manifest.json"])
    assert manifest["scope"] == {"tenant": ["vie-neubau"], "action": ["cache_purge"]}
    rows = files["population.csv"].decode().splitlines()[1:]
    assert rows and all(",vie-neubau," in r and ",cache_purge," in r for r in rows)


def test_pack_is_small(pack):
    assert pack.stat().st_size < 2 * 1024 * 1024


def test_independent_tools_accept_the_pack(pack):
    sig = subprocess.run([tool("pdfsig"), str(pack)], capture_output=True, text=True)
    assert "Signature is Valid" in sig.stdout and "Total document signed" in sig.stdout
    listed = subprocess.run([tool("pdfdetach"), "-list", str(pack)], capture_output=True, text=True).stdout
    assert "10 embedded files" in listed and "manifest.json" in listed
    check = subprocess.run([tool("qpdf"), "--check", str(pack)], capture_output=True, text=True)
    assert check.returncode == 0 and "No syntax or stream encoding errors" in check.stdout


def _pdf_text(path: Path) -> str:
    return subprocess.run([tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True).stdout


def test_pdf_numbers_equal_the_cli(pack):
    text = _pdf_text(pack)
    (cov,) = json.loads(run("coverage", *PERIOD, "--format", "json").stdout)
    status = json.loads(run("replay-status", *PERIOD, "--as-of", "2026-10-30T00:00:00Z", "--format", "json").stdout)
    assert f"Coverage after replay: {cov['coverage_after_replay'] * 100:.2f}%" in text
    assert f"as logged: {cov['coverage_logged'] * 100:.2f}%" in text
    for label, key in (("Operations expected", "expected"), ("Logged live", "logged"), ("Replayed", "replayed"),
                       ("Backfilled", "backfilled"), ("… missing, silent drop", "missing_silent"),
                       ("… missing, pending replay", "missing_pending")):
        assert re.search(rf"{re.escape(label)}\s+{cov[key]:,}\s", text), label
    for state, n in status["states"].items():  # the pack names states for people (display.py)
        assert re.search(rf"^\s*{state_name(state)}\s+{n}\s*", text, re.M), state
    assert "Skipped log lines" in text and re.search(rf"Skipped log lines\s+{status['skipped_log_lines']}", text)


def test_cover_says_plainly_when_self_signed(pack):
    assert "Self-signed trial identity" in _pdf_text(pack)


def test_cover_shows_the_signer_certificate_fingerprint(pack, identity):
    from evidence_app.evidence.trust import certificates_in, colon_hex, sha256_fingerprint

    fingerprint = sha256_fingerprint(certificates_in(identity[1].read_bytes(), "cert")[0])
    assert re.search(rf"Signer certificate SHA-256\s+{colon_hex(fingerprint)}\n", _pdf_text(pack))


def test_every_page_carries_number_pack_id_and_period(pack):
    manifest = json.loads(attachments(pack)["manifest.json"])
    pages = _pdf_text(pack).split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) > 5
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {len(pages)}" in page
        assert manifest["pack_id"] in page and "2026-08-01 – 2026-10-29" in page


def test_timestamp_from_a_tsa_is_embedded_and_verified(tmp_path, identity):
    from tsa_server import local_tsa

    with local_tsa(tmp_path) as url:
        out = build(tmp_path / "stamped.pdf", identity, "--tsa", url)
    res = verify_trusted(out, identity)
    assert res.exit_code == 0, res.stdout
    assert "OK    timestamp" in res.stdout


def test_the_replay_section_lists_the_open_backlog_first_with_route_age_and_error(pack):
    text = re.sub(r"\s+", " ", _pdf_text(pack))
    assert ("Open backlog: 6 open failure events (3 pending, 3 retrying); oldest pending 12 h 41 min (limit 1 day: "
            "within); oldest retrying 1 day 8 h") in text
    section = text.split("Open failures (pending and retrying, oldest first)", 1)[1].split("Abandoned replays", 1)[0]
    assert "f-f9e197a4e709 Retrying /api/menu/publish 2026-10-28 15:32:52 1 day 8 h 23 D1_ERROR: Network" in section
    assert section.count("Pending") == 3 and section.count("Retrying") == 3
