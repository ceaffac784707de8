"""`evidence-app keygen` never destroys an identity packs are pinned to: it refuses to overwrite (exit 2)
unless told --force, and then keeps the old files beside the new ones; the key is private from its first byte."""

from __future__ import annotations

import stat

from click.testing import CliRunner

from evidence_app.cli import main


def _keygen(*args: str):
    return CliRunner().invoke(main, ["keygen", *args])


def test_keygen_refuses_to_overwrite_an_existing_identity(tmp_path):
    folder = tmp_path / "id"
    assert _keygen(str(folder)).exit_code == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    res = _keygen(str(folder))
    assert res.exit_code == 2, res.output
    assert "already exist" in res.stderr and "--force" in res.stderr and "Traceback" not in res.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_keygen_refuses_when_only_the_certificate_is_there(tmp_path):
    folder = tmp_path / "id"
    folder.mkdir()
    (folder / "cert.pem").write_text("pinned elsewhere")
    assert _keygen(str(folder)).exit_code == 2
    assert sorted(p.name for p in folder.iterdir()) == ["cert.pem"]


def test_force_replaces_the_identity_and_keeps_the_old_files_beside_it(tmp_path):
    folder = tmp_path / "id"
    assert _keygen(str(folder)).exit_code == 0
    old = {p.name: p.read_bytes() for p in folder.iterdir()}
    res = _keygen(str(folder), "--force")
    assert res.exit_code == 0, res.output
    kept = {p.name: p.read_bytes() for p in folder.iterdir() if ".replaced-" in p.name}
    assert sorted(kept.values()) == sorted(old.values())
    assert {n.split(".replaced-")[0] for n in kept} == {"key", "cert"}
    assert (folder / "key.pem").read_bytes() != old["key.pem"] and (folder / "cert.pem").read_bytes() != old["cert.pem"]


def test_forcing_twice_in_the_same_second_loses_nothing(tmp_path):
    folder = tmp_path / "id"
    for args in ((), ("--force",), ("--force",)):
        assert _keygen(str(folder), *args).exit_code == 0
    assert len(list(folder.iterdir())) == 6


def test_the_key_file_is_readable_by_its_owner_only(tmp_path):
    folder = tmp_path / "id"
    assert _keygen(str(folder)).exit_code == 0
    assert stat.S_IMODE((folder / "key.pem").stat().st_mode) == 0o600
