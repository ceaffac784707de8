"""Security round 2, attacker's view: attacks the first round's tests did not try, one test each.

Each test states the attack; a hole still open is marked ``xfail(strict=True)`` with the reason."""

from __future__ import annotations

import pytest

from evidence_app.ingest import d1dump
from evidence_app.ingest.d1dump import DumpRefused, execute_dump, private_connection

# ---------------------------------------------------------------------------------------------- class 3: D1 dumps


def _load(script: str):
    conn, policy = private_connection()
    try:
        execute_dump(conn, policy, script)
    except DumpRefused as exc:
        conn.close()
        return str(exc)
    conn.close()
    return None


@pytest.mark.parametrize("column", [
    "b DEFAULT (zeroblob(10000000))",                       # a DEFAULT expression, run at every INSERT
    "b AS (zeroblob(10000000)) STORED",                     # a stored generated column
])
def test_schema_expressions_cannot_amplify_a_tiny_dump_into_hundreds_of_megabytes(column):
    # Values are literals, but the schema's own expressions run at INSERT time outside the VALUES check:
    # ~700 bytes of dump would become 200 MB of rows (400 rows: the whole 4 GB cap).
    script = f"CREATE TABLE t(a, {column});\n" + "INSERT INTO t(a) VALUES(1);\n" * 20
    why = _load(script)
    assert why is not None and "memory cap" in why, why


def test_many_indexes_on_one_long_value_cannot_multiply_it_past_the_dump_s_own_size():
    # One 2 MB text value (a D1 row's maximum) indexed 60 times: a 2 MB dump would hold 120+ MB.
    script = ("CREATE TABLE t(a TEXT);\n" + "".join(f"CREATE INDEX i{k} ON t(a);\n" for k in range(60))
              + "INSERT INTO t VALUES('" + "x" * 2_000_000 + "');\n")
    why = _load(script)
    assert why is not None and "memory cap" in why, why


def test_a_real_sized_dump_still_loads_under_the_relative_cap():
    rows = "".join(f"INSERT INTO t VALUES({i},'{'v' * 200}');\n" for i in range(2000))
    script = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\nCREATE INDEX iv ON t(v);\nCREATE INDEX iv2 ON t(v, id);\n"
    assert _load(script + rows) is None


# ---------------------------------------------------------------------------------------------- class 6: CSV injection

import csv  # noqa: E402
import io  # noqa: E402

import pandas as pd  # noqa: E402

from evidence_app.render import csv_text, to_csv  # noqa: E402

_HIDDEN_FORMULAS = [
    " =HYPERLINK(\"http://evil/\")",        # leading space: Google Sheets and LibreOffice with "trim spaces" run it
    "  +1+cmd|' /C calc'!A0",               # DDE behind spaces
    "\u00a0=1+1",                            # no-break space
    "\u3000=1+1",                            # ideographic space
    "\ufeff=1+1",                            # a BOM inside a cell
    "\n=1+1",                                # a leading LF
    "\uff1dHYPERLINK(\"http://evil/\")",    # full-width equals sign: CJK Excel reads it as '='
    "\uff0b1+1", "\uff0d1+1", "\uff20SUM(A1)",
]


@pytest.mark.parametrize("cell", _HIDDEN_FORMULAS)
@pytest.mark.parametrize("dtype", ["string", object, "category"])
def test_a_formula_behind_whitespace_or_in_full_width_is_neutralised(cell, dtype):
    frame = pd.DataFrame({"operator": pd.Series([cell, "plain"], dtype=dtype), "n": [1, 2]})
    rows = list(csv.reader(io.StringIO(to_csv(frame), newline="")))
    assert rows[1][0] == "'" + cell, rows


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://evil/\")", "@SUM(A1)", "+1", "-1+1"])
def test_a_column_name_from_data_is_neutralised_in_the_header(name):
    # column names that come from data (a pivot by operator, a day × operator grid) head the CSV
    frame = pd.DataFrame({name: ["x"], "n": [1]})
    header = next(csv.reader(io.StringIO(to_csv(frame))))
    assert header[0] == "'" + name, header
    assert next(csv.reader(io.StringIO(csv_text([name, "n"], [["x", "1"]]))))[0] == "'" + name


# ---------------------------------------------------------------------------------------------- class 8: webhook

from evidence_app.assess.webhook import post_json  # noqa: E402
from evidence_app.errors import DeliveryError, UsageError  # noqa: E402


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hooks/SECRET123 x",                 # a space in the path (a pasted URL)
    "http://127.0.0.1:9/hooks/SECRET123\x7f",               # DEL
    "http://u:p@127.0.0.1:9/hooks/SECRET123?t=SECRET123\r\nX-Injected: y",  # CRLF into the request line
])
def test_a_malformed_webhook_url_never_shows_its_secret_path_in_the_error(url):
    # http.client's InvalidURL repeats the raw path and query, which carry the webhook's secret
    with pytest.raises((DeliveryError, UsageError)) as err:
        post_json(url, {"ok": True}, 3)
    assert "SECRET123" not in str(err.value), str(err.value)


# ---------------------------------------------------------------------------------------------- class 10: keygen

from evidence_app.evidence import sign  # noqa: E402


def test_force_never_overwrites_a_kept_identity_that_appears_during_the_rename(tmp_path, monkeypatch):
    # Two `keygen --force` in the same second: both pick key.replaced-<stamp>.pem; the second's rename()
    # would silently replace the first's kept key — an identity that packs are pinned to, lost.
    sign.keygen(tmp_path)
    old_key = (tmp_path / "key.pem").read_bytes()
    original = sign._kept_name
    planted: list = []

    def racing(path, now):  # noqa: ANN001, ANN202
        candidate = original(path, now)
        candidate.write_bytes(b"kept by the other keygen run\n")  # the other run got there first
        planted.append(candidate)
        return candidate

    monkeypatch.setattr(sign, "_kept_name", racing)
    try:
        sign.keygen(tmp_path, force=True)
    except (OSError, UsageError):
        pass  # refusing is fine; losing a file is not
    assert all(p.read_bytes() == b"kept by the other keygen run\n" for p in planted)
    everything = [p.read_bytes() for p in tmp_path.iterdir() if p.is_file()]
    assert old_key in everything  # the replaced key is still somewhere in the folder


# ---------------------------------------------------------------------------------------------- class 5: signer validity

import forge  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from evidence_app.cli import main  # noqa: E402

_WEEK = ["--start", "2026-10-01", "--end", "2026-10-07"]
_SIGNED_AT = datetime(2026, 10, 30, tzinfo=timezone.utc)


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_stated_signing_time_without_a_timestamp_cannot_revive_an_expired_certificate(tmp_path):
    # The CMS signingTime is the signer's own word: whoever holds an expired key can state any time inside the
    # validity. Without an RFC 3161 timestamp the certificate must still be valid when the pack is verified.
    now = datetime.now(timezone.utc)
    ident = forge.make_identity(tmp_path / "id", not_before=_SIGNED_AT - timedelta(days=60),
                                not_after=now - timedelta(hours=1))
    res = _cli("pack", *_WEEK, "--generated-at", "2026-10-30T00:00:00Z", "--out", str(tmp_path / "p.pdf"),
               "--key", str(ident.key), "--cert", str(ident.cert))
    assert res.exit_code == 0, res.output
    res = _cli("verify", str(tmp_path / "p.pdf"), "--signer-fingerprint", ident.fingerprint)
    assert res.exit_code == 1, res.stdout
    trust_line = next(line for line in res.stdout.splitlines() if " trust:" in line)
    assert trust_line.startswith("FAIL") and "timestamp" in trust_line, trust_line


def _eku_identity(folder, usages):
    """A self-signed identity fit in every way but an ExtendedKeyUsage naming only ``usages``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    import hashlib

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tls only")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_SIGNED_AT - timedelta(days=60)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True)
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return forge.Ident(folder / "key.pem", folder / "cert.pem",
                       hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest())


def test_an_extended_key_usage_for_tls_only_signs_no_document(tmp_path):
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from evidence_app.evidence.trust import signer_problem

    ident = _eku_identity(tmp_path / "tls", [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
    from cryptography import x509
    der = x509.load_pem_x509_certificate(ident.cert.read_bytes()).public_bytes(
        __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
    assert signer_problem(der, _SIGNED_AT) is not None
    res = _cli("pack", *_WEEK, "--generated-at", "2026-10-30T00:00:00Z", "--out", str(tmp_path / "p.pdf"),
               "--key", str(ident.key), "--cert", str(ident.cert))
    assert res.exit_code == 2 and "signer certificate" in res.stderr, res.output


def test_an_extended_key_usage_for_document_signing_still_signs(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from evidence_app.evidence.trust import signer_problem

    for oid in ("1.3.6.1.5.5.7.3.36", "1.3.6.1.5.5.7.3.4", "2.5.29.37.0", "1.3.6.1.4.1.311.10.3.12"):
        ident = _eku_identity(tmp_path / oid, [x509.ObjectIdentifier(oid)])
        der = x509.load_pem_x509_certificate(ident.cert.read_bytes()).public_bytes(Encoding.DER)
        assert signer_problem(der, _SIGNED_AT) is None, oid


# ---------------------------------------------------------------------------------------------- class 7: access log

import os  # noqa: E402

from evidence_app.access.log import AccessLog  # noqa: E402
from evidence_app.errors import ConfigError  # noqa: E402


def test_a_log_below_a_folder_others_may_write_is_refused(tmp_path):
    # shared/ (0777, no sticky bit) / app/ (0700, ours) / access.db: anyone may rename shared/app away and put
    # their own app/ (with their own log) in its place after the server checked it.
    shared = tmp_path / "shared"
    (shared / "app").mkdir(parents=True)
    os.chmod(shared, 0o777)
    os.chmod(shared / "app", 0o700)
    with pytest.raises(ConfigError, match=str(shared)):
        AccessLog(shared / "app" / "access.db").create()


def test_a_log_below_a_sticky_world_writable_folder_is_fine(tmp_path):
    shared = tmp_path / "tmpdir"
    (shared / "app").mkdir(parents=True)
    os.chmod(shared, 0o1777)
    os.chmod(shared / "app", 0o700)
    AccessLog(shared / "app" / "access.db").create()


def test_a_log_with_a_second_hard_link_is_refused(tmp_path):
    # another name for the same file (left in a shared folder) outlives every check on the log's own name
    folder = tmp_path / "app"
    folder.mkdir(mode=0o700)
    log = AccessLog(folder / "access.db")
    log.create()
    os.link(folder / "access.db", tmp_path / "copy.db")
    with pytest.raises(ConfigError, match="link"):
        AccessLog(folder / "access.db").create()


# ---------------------------------------------------------------------------------------------- Worker logs

import time  # noqa: E402

from evidence_app.ingest.traces import records_in  # noqa: E402


@pytest.mark.parametrize("closer", [b"]", b"}"])
def test_a_pretty_printed_record_that_never_closes_is_read_in_linear_time(closer):
    # `{"a":` then 60,000 lines holding only a closing bracket (120 kB): each closing line made the reader join the
    # whole block again and parse it — quadratic (20,000 lines: 6 s; a 4 MB file: hours).
    lines = [(1, b'{"a": [')] + [(i + 2, closer) for i in range(60_000)]
    started = time.monotonic()
    found = list(records_in(lines))
    assert time.monotonic() - started < 5
    assert found and all(v == "unreadable" for _, v in found)


def test_pretty_printed_records_with_brackets_in_strings_still_read():
    import json
    records = [{"logs": [{"message": ["}", "]]", "{\"x\": \"\\\"}\""]}], "eventTimestamp": 1},
               [{"eventTimestamp": 2, "outcome": "ok", "logs": []}]]
    text = "\n".join(json.dumps(r, indent=2) for r in records)
    found = [v for _, v in records_in((i + 1, line.encode()) for i, line in enumerate(text.splitlines()))]
    assert found == records


# ---------------------------------------------------------------------------------------------- class 1: email grants
# (tried; all held — kept as regression tests)

from pathlib import Path  # noqa: E402

from evidence_app.access import Identity, find_grant, identity_from_claims  # noqa: E402
from evidence_app.config.settings import AccessConfig, Grant  # noqa: E402

_WERNER = Grant(role="admin", email="werner@consultant.example", index=0)


def _grants(*grants: Grant) -> AccessConfig:
    return AccessConfig("https://idp/x", "c", "A", "B", Path("/tmp/log.db"), grants=grants)


@pytest.mark.parametrize("email", [
    "werner@consultant.example\x00", "werner@consultant.example\x00@evil.example", " werner@consultant.example",
    "werner@consultant.example ", "werner@consultant.example\n", "werner@consultant.example.", "wern\u0435r@consultant.example",
    "w\u200berner@consultant.example", "werner@consultant\u3002example", "werner\uff20consultant.example",
    "WERNER@CONSULTANT.EXAMPL\u0395", "we\u0307rner@consultant.example", "werner@consultant.example\u00ad",
])
def test_look_alike_mailboxes_take_no_grant(email):
    who = identity_from_claims({"sub": "attacker", "email": email, "email_verified": True})
    assert find_grant(_grants(_WERNER), who) is None


@pytest.mark.parametrize("claims", [
    {"sub": "a", "email": ["werner@consultant.example"], "email_verified": True},
    {"sub": "a", "email": {"value": "werner@consultant.example"}, "email_verified": True},
    {"sub": "a", "email": "werner@consultant.example", "email_verified": [True]},
    {"sub": "a", "email": "werner@consultant.example", "email_verified": {"value": True}},
    {"sub": "a", "email": "werner@consultant.example", "email_verified": "True"},
    {"sub": ["s"], "email": "werner@consultant.example", "email_verified": True},
])
def test_claims_of_the_wrong_json_type_take_no_grant(claims):
    who = identity_from_claims(claims)
    assert who is None or find_grant(_grants(_WERNER), who) is None


def test_a_sub_that_spells_a_granted_email_takes_no_email_grant():
    assert find_grant(_grants(_WERNER), Identity(sub="werner@consultant.example")) is None


@pytest.mark.xfail(strict=True, reason="bounded, not closed: the schema's CHECK/DEFAULT/generated/index expressions run "
                   "at every INSERT with any function (replace over hex(zeroblob(4e6))): ~0.17 s of CPU per 25-byte "
                   "row. A dump's load limit now grows with its size (d1dump.load_limit: 60 s + 1 s per MiB, at most "
                   "900 s), so a small dump holds the loader about a minute, not 900 s; closing it needs a decision on "
                   "which functions a D1 schema may use (randomblob/hex for UUID defaults are common)")
def test_a_check_constraint_cannot_buy_seconds_of_cpu_per_row():
    script = ("CREATE TABLE t(a CHECK(length(replace(replace(hex(zeroblob(4000000)),'0','1'),'1','2'))>0));\n"
              + "INSERT INTO t VALUES(1);\n" * 40)
    started = time.monotonic()
    _load(script)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("dtype", ["string", object])
def test_a_semicolon_cannot_start_a_formula_cell_where_excel_splits_on_semicolons(dtype):
    # German, French, … Excel opens a .csv with ';' as the separator: an unquoted 'x;=HYPERLINK(…)' becomes two
    # cells, the second a live formula. A cell holding ';' is quoted, so it stays one cell in either reading.
    cell = 'x;=HYPERLINK("http://evil/")'
    frame = pd.DataFrame({"operator": pd.Series([cell, "ok"], dtype=dtype), "n": [1, 2]})
    text = to_csv(frame)
    assert list(csv.reader(io.StringIO(text)))[1] == [cell, "1"]
    for row in csv.reader(io.StringIO(text), delimiter=";"):
        assert not any(c.lstrip().startswith(("=", "+", "-", "@")) for c in row), row
    header = csv_text(["a;=1+1", "n"], [["x", "1"]])
    for row in csv.reader(io.StringIO(header), delimiter=";"):
        assert not any(c.lstrip().startswith(("=", "+", "-", "@")) for c in row), row


def _issued(folder, name, issuer_key, issuer_name, *, ca, key_cert_sign, basic_constraints=True, days=30):
    """An RSA identity issued by ``issuer_key``/``issuer_name`` (None: self-signed) with the given CA extensions."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name or subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(_SIGNED_AT - timedelta(days=60)).not_valid_after(now + timedelta(days=days)))
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    builder = builder.add_extension(
        x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
                      key_agreement=False, key_cert_sign=key_cert_sign, crl_sign=key_cert_sign, encipher_only=False,
                      decipher_only=False), critical=True)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    folder.mkdir(parents=True)
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, subject, folder


@pytest.mark.parametrize("intermediate", [
    dict(ca=True, key_cert_sign=False),                 # an intermediate whose key may not sign certificates
    dict(ca=False, key_cert_sign=True),                 # an intermediate that is no CA
    dict(ca=False, key_cert_sign=True, basic_constraints=False),  # no basicConstraints at all
])
def test_a_chain_through_an_intermediate_that_is_no_ca_is_not_trusted(tmp_path, intermediate):
    root_key, root_name, root = _issued(tmp_path / "root", "Root", None, None, ca=True, key_cert_sign=True)
    mid_key, mid_name, mid = _issued(tmp_path / "mid", "Mid", root_key, root_name, **intermediate)
    _, _, leaf = _issued(tmp_path / "leaf", "Leaf", mid_key, mid_name, ca=False, key_cert_sign=False)
    res = _cli("pack", *_WEEK, "--generated-at", "2026-10-30T00:00:00Z", "--out", str(tmp_path / "p.pdf"),
               "--key", str(leaf / "key.pem"), "--cert", str(leaf / "cert.pem"), "--chain", str(mid / "cert.pem"))
    assert res.exit_code == 0, res.output
    res = _cli("verify", str(tmp_path / "p.pdf"), "--trust", str(root / "cert.pem"))
    assert res.exit_code == 1, res.stdout
    trust_line = next(line for line in res.stdout.splitlines() if " trust:" in line)
    assert trust_line.startswith("FAIL"), trust_line


def test_pinning_the_ca_does_not_trust_the_leaf_it_issued(tmp_path):
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    root_key, root_name, root = _issued(tmp_path / "root", "Root", None, None, ca=True, key_cert_sign=True)
    _, _, leaf = _issued(tmp_path / "leaf", "Leaf", root_key, root_name, ca=False, key_cert_sign=False)
    res = _cli("pack", *_WEEK, "--generated-at", "2026-10-30T00:00:00Z", "--out", str(tmp_path / "p.pdf"),
               "--key", str(leaf / "key.pem"), "--cert", str(leaf / "cert.pem"), "--chain", str(root / "cert.pem"))
    assert res.exit_code == 0, res.output
    root_fp = hashlib.sha256(x509.load_pem_x509_certificate((root / "cert.pem").read_bytes())
                             .public_bytes(Encoding.DER)).hexdigest()
    res = _cli("verify", str(tmp_path / "p.pdf"), "--signer-fingerprint", root_fp)
    assert res.exit_code == 1, res.stdout


def test_a_chain_through_a_proper_intermediate_is_trusted(tmp_path):
    """The control for the two tests above: the same chain with a real CA in the middle verifies."""
    root_key, root_name, root = _issued(tmp_path / "root", "Root", None, None, ca=True, key_cert_sign=True)
    mid_key, mid_name, mid = _issued(tmp_path / "mid", "Mid", root_key, root_name, ca=True, key_cert_sign=True)
    _, _, leaf = _issued(tmp_path / "leaf", "Leaf", mid_key, mid_name, ca=False, key_cert_sign=False)
    res = _cli("pack", *_WEEK, "--generated-at", "2026-10-30T00:00:00Z", "--out", str(tmp_path / "p.pdf"),
               "--key", str(leaf / "key.pem"), "--cert", str(leaf / "cert.pem"), "--chain", str(mid / "cert.pem"))
    assert res.exit_code == 0, res.output
    res = _cli("verify", str(tmp_path / "p.pdf"), "--trust", str(root / "cert.pem"))
    assert res.exit_code == 0, res.stdout


def test_keygen_refuses_a_dangling_symlink_and_force_keeps_it_without_writing_through(tmp_path):
    target = tmp_path / "elsewhere" / "stolen.pem"
    target.parent.mkdir()
    (tmp_path / "id").mkdir()
    (tmp_path / "id" / "key.pem").symlink_to(target)
    with pytest.raises(UsageError):
        sign.keygen(tmp_path / "id")
    sign.keygen(tmp_path / "id", force=True)
    assert not target.exists()  # the new key was not written through the link
    assert not (tmp_path / "id" / "key.pem").is_symlink()
    assert any(p.is_symlink() for p in (tmp_path / "id").iterdir())  # the old link kept, renamed


def test_keygen_force_keeps_a_directory_named_cert_pem(tmp_path):
    (tmp_path / "cert.pem").mkdir()
    (tmp_path / "cert.pem" / "inside").write_text("x")
    sign.keygen(tmp_path, force=True)
    assert (tmp_path / "cert.pem").is_file()
    kept = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(kept) == 1 and (kept[0] / "inside").read_text() == "x"


def test_a_pretty_printed_record_is_held_to_the_line_cap_not_the_file_cap():
    # One `[` then lines that never close it: the whole file (1 GiB decompressed by default, from a ~1 MB gzip) was
    # held as a list of lines — tens of bytes of Python object per 2-byte line. A record is held to the line cap.
    def lines():
        yield 1, b"["
        for i in range(2, 400_002):
            yield i, b"  1,"
        yield 400_002, b"{\"after\": true}"
    found = list(records_in(lines(), max_record_bytes=64 * 1024))
    assert found[0] == (1, "oversized") and found[-1] == (400_002, {"after": True}) and len(found) == 2


@pytest.mark.parametrize("sql", [
    "INSERT INTO entries SELECT * FROM entries WHERE seq = 1 ON CONFLICT(seq) DO UPDATE SET email = 'x'",
    "INSERT INTO head VALUES (1, 0, '0') ON CONFLICT(id) DO UPDATE SET seq = 0",
    "INSERT OR REPLACE INTO head VALUES (1, 1, (SELECT hash FROM entries WHERE seq = 1))",
    "REPLACE INTO entries SELECT * FROM entries WHERE seq = 2",
    "INSERT OR IGNORE INTO head VALUES (2, 0, '0')",
])
def test_upserts_and_replaces_cannot_rewrite_the_access_log(tmp_path, sql):
    import sqlite3

    folder = tmp_path / "app"
    folder.mkdir(mode=0o700)
    log = AccessLog(folder / "access.db")
    log.create()
    for _ in range(2):
        log.append("page_view", sub="s", page="overview")
    db = sqlite3.connect(folder / "access.db")
    db.execute("PRAGMA recursive_triggers = ON")
    try:
        db.execute(sql)
        db.commit()
    except sqlite3.Error:
        pass
    db.close()
    verdict = log.verify()
    assert verdict.ok and verdict.entries == 2 if hasattr(verdict, "entries") else verdict.ok
    assert [e.seq for e in log.entries()] == [1, 2] and all(e.email is None for e in log.entries())


@pytest.mark.parametrize("statement", [
    "INSERT INTO t VALUES(replace(zeroblob(1000),'a',char(10)));",              # a call inside wrangler's replace
    "INSERT INTO t VALUES(replace('a','a',char(10) || zeroblob(9)));",
    "INSERT INTO t VALUES(char(10, 11));",
    "INSERT INTO t VALUES(1) /* ; */ , (zeroblob(100));",
    "INSERT INTO t VALUES(1) -- \n, (zeroblob(100));",
    "INSERT INTO [t VALUES(zeroblob(9))] VALUES(1);",
    "INSERT INTO t VALUES((1));",
    "INSERT INTO t VALUES(1); ATTACH ':memory:' AS x;",
    "INSERT INTO t SELECT zeroblob(100);",
    "INSERT INTO t DEFAULT VALUES;",
    "CREATE TRIGGER g AFTER INSERT ON t BEGIN INSERT INTO t VALUES(zeroblob(9)); END;\nINSERT INTO t VALUES(1);",
    "CREATE TABLE u AS SELECT zeroblob(100000) AS b;",
    "CREATE TEMP TABLE u(a);",
    "CREATE VIRTUAL TABLE u USING fts5(a);",
    "PRAGMA max_page_count = 100000000;",
    "PRAGMA writable_schema = ON;",
    "ANALYZE; INSERT INTO sqlite_master VALUES('table','x','x',0,'CREATE TABLE x(a)');",
])
def test_what_sneaks_past_the_values_check_is_refused(statement):
    assert _load("CREATE TABLE t(a);\n" + statement + "\n") is not None


def test_the_relative_memory_cap_names_itself():
    why = _load("CREATE TABLE t(a, b DEFAULT (zeroblob(10000000)));\n" + "INSERT INTO t(a) VALUES(1);\n" * 10)
    assert why is not None and f"{d1dump.STORE_BASE_BYTES:,}" in why and "memory cap" in why


# ---------------------------------------------------------------------------------------------- class 4: snapshots

import logging  # noqa: E402

from evidence_app.config.settings import load_config  # noqa: E402
from evidence_app.persistence import snapshot  # noqa: E402


def test_a_snapshot_folder_below_a_folder_others_may_write_is_refused(tmp_path, monkeypatch, caplog):
    # shared/ (0777, no sticky bit) / cache/ (0700, ours): anyone may swap cache/ for a folder of their own holding
    # a forged snapshot whose index matches the sources' fingerprint (sizes, times and inodes are public) —
    # the web app would then serve their figures as "sources unchanged".
    shared = tmp_path / "shared"
    (shared / "cache").mkdir(parents=True)
    os.chmod(shared, 0o777)
    os.chmod(shared / "cache", 0o700)
    import dataclasses
    cfg = load_config(Path(__file__).resolve().parents[1] / "sample_data" / "evidence.toml")
    cfg = dataclasses.replace(cfg, cache=dataclasses.replace(cfg.cache, enabled=True, folder=shared / "cache"))
    with caplog.at_level(logging.WARNING, logger="evidence_app.persistence.snapshot"):
        assert snapshot._usable_folder(cfg) is None
    assert str(shared) in caplog.text


def test_a_token_given_as_the_url_s_user_name_is_masked_too():
    # `https://TOKEN@host/` (Basic auth with an empty password: how many APIs take a key) showed the token in full
    from evidence_app.assess.webhook import masked

    assert "SECRETTOKEN" not in masked("https://xoxb-SECRETTOKEN@hooks.example.com/")
    assert "SECRETTOKEN" not in masked("https://us%3ASECRETTOKEN@hooks.example.com/")
    with pytest.raises((DeliveryError, UsageError)) as err:
        post_json("http://xoxb-SECRETTOKEN@127.0.0.1:9/", {"ok": True}, 3)
    assert "SECRETTOKEN" not in str(err.value)
