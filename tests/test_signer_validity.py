"""A signature proves something only when its certificate could sign then: valid at the signing time, with a key
usage that allows signing documents. `pack` refuses any other signer (exit 2, before the work); `verify` demands it
on every trust path — a pinned fingerprint or a trusted certificate names whose certificate it is, never that it
was fit to sign."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_app.cli import main
from evidence_app.evidence import build as build_module

import forge

WEEK = ["--start", "2026-10-01", "--end", "2026-10-07"]
SIGNED_AT = datetime(2026, 10, 30, tzinfo=timezone.utc)
AT = ["--generated-at", "2026-10-30T00:00:00Z"]


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _pack(ident: forge.Ident, out: Path):
    return _run("pack", *WEEK, *AT, "--out", str(out), "--key", str(ident.key), "--cert", str(ident.cert))


def _forged_pack(ident: forge.Ident, out: Path, monkeypatch) -> Path:
    """What an attacker's own tooling makes: the same pack, signed without the signer check."""
    with monkeypatch.context() as m:
        m.setattr(build_module, "signer_problem", lambda der, at: None)
        res = _pack(ident, out)
    assert res.exit_code == 0, res.output
    return out


UNFIT = {
    "expired before the signing time": dict(not_before=SIGNED_AT - timedelta(days=60),
                                            not_after=SIGNED_AT - timedelta(days=1)),
    "not yet valid at the signing time": dict(not_before=SIGNED_AT + timedelta(days=1)),
    "allowed only to sign certificates": dict(document_signing=False),
}


@pytest.mark.parametrize("case", UNFIT, ids=list(UNFIT))
def test_pack_refuses_a_signer_that_could_not_sign_then(tmp_path, case):
    ident = forge.make_identity(tmp_path / "id", **UNFIT[case])
    res = _pack(ident, tmp_path / "p.pdf")
    assert res.exit_code == 2, res.output
    assert "signer certificate" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "p.pdf").exists()


@pytest.mark.parametrize("case", UNFIT, ids=list(UNFIT))
@pytest.mark.parametrize("trust", ["pin", "cert"])
def test_verify_fails_an_unfit_signer_even_when_pinned_or_trusted(tmp_path, monkeypatch, case, trust):
    ident = forge.make_identity(tmp_path / "id", **UNFIT[case])
    pack = _forged_pack(ident, tmp_path / "p.pdf", monkeypatch)
    anchor = ["--signer-fingerprint", ident.fingerprint] if trust == "pin" else ["--trust", str(ident.cert)]
    res = _run("verify", str(pack), *anchor)
    assert res.exit_code == 1, res.stdout
    trust_line = next(line for line in res.stdout.splitlines() if " trust:" in line)
    assert trust_line.startswith("FAIL") and "could sign" in trust_line, trust_line


def test_a_ca_signed_leaf_that_expired_before_signing_fails_through_its_ca_too(tmp_path, monkeypatch):
    ca = forge.make_identity(tmp_path / "ca", "Test CA", "Example GmbH", ca=True)
    leaf = forge.make_identity(tmp_path / "leaf", "signer", "Example GmbH", issuer=ca,
                               not_before=SIGNED_AT - timedelta(days=60), not_after=SIGNED_AT - timedelta(days=1))
    pack = _forged_pack(leaf, tmp_path / "p.pdf", monkeypatch)
    res = _run("verify", str(pack), "--trust", str(ca.cert))
    assert res.exit_code == 1 and "had expired at the signing time" in res.stdout


def test_a_fit_signer_still_verifies_when_pinned(tmp_path):
    ident = forge.make_identity(tmp_path / "id")
    assert _pack(ident, tmp_path / "p.pdf").exit_code == 0
    res = _run("verify", str(tmp_path / "p.pdf"), "--signer-fingerprint", ident.fingerprint)
    assert res.exit_code == 0, res.stdout


def test_keygen_valid_from_starts_the_certificate_earlier(tmp_path):
    assert _run("keygen", str(tmp_path / "late")).exit_code == 0
    late = forge.Ident(tmp_path / "late" / "key.pem", tmp_path / "late" / "cert.pem", "")
    assert _pack(late, tmp_path / "late.pdf").exit_code == 2  # made today, cannot have signed on 2026-10-30
    assert _run("keygen", str(tmp_path / "early"), "--valid-from", "2026-09-01").exit_code == 0
    early = forge.Ident(tmp_path / "early" / "key.pem", tmp_path / "early" / "cert.pem", "")
    assert _pack(early, tmp_path / "early.pdf").exit_code == 0
