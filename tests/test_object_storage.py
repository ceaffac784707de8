"""Worker logs straight from object storage: ``s3://`` paths against a real S3 API server (moto's server mode,
started from the installed package on 127.0.0.1) — listed and streamed through the same reader as files on disk,
with the same numbers, globs, caps and error rules. Never skipped: a server that does not start fails the test."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import socket
import subprocess
import sys
import tracemalloc
import uuid
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from evidence_app.cli import main
from evidence_app.config.settings import MatchingConfig, S3Config, WorkerLogsConfig
from evidence_app.errors import ConfigError, SourceError
from evidence_app.ingest.logpush import find_log_files, scan_logs

from browser import free_port, stop, until
from pdftools import tool

pytestmark = pytest.mark.s3

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
WORKERD = ROOT / "tests" / "fixtures" / "workerd" / "trace-items.ndjson"
KEY_ENV, SECRET_ENV = "EVIDENCE_TEST_S3_KEY_ID", "EVIDENCE_TEST_S3_SECRET"
PERIOD = ("--start", "2026-10-01", "--end", "2026-10-31")


def _moto(**env: str):
    """moto in server mode on a free loopback port (``env``: its settings); yields the endpoint, then stops it. Its
    request log goes nowhere: a pipe nobody drains fills up and stalls the server."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
    until(lambda: _listening(port), proc, f"the S3 API server (moto) did not start on 127.0.0.1:{port}")
    yield f"http://127.0.0.1:{port}"
    stop(proc)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def endpoint():
    """An S3 API server for this module (any credentials accepted)."""
    yield from _moto()


@pytest.fixture(scope="module")
def checking_endpoint():
    """An S3 API server that checks credentials (moto's IAM authentication on from the first request)."""
    yield from _moto(INITIAL_NO_AUTH_ACTION_COUNT="0")


@pytest.fixture
def creds(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "testing")
    monkeypatch.setenv(SECRET_ENV, "testing")


@pytest.fixture
def bucket(endpoint, creds):
    """A fresh bucket; returns (name, put) where put(key, bytes) uploads one object."""
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    name = f"logs-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name, lambda key, data: client.put_object(Bucket=name, Key=key, Body=data)


def _s3(endpoint: str) -> S3Config:
    return S3Config(endpoint_url=endpoint, region="us-east-1", access_key_id_env=KEY_ENV,
                    secret_access_key_env=SECRET_ENV)


def _upload_tree(put, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            put(f"{prefix}/{path.relative_to(folder).as_posix()}", path.read_bytes())


def _sample_config(tmp_path: Path, paths: list[str], s3_section: str = "") -> Path:
    """The bundled sample's config with absolute store URLs and the given log paths."""
    text = (SAMPLE / "evidence.toml").read_text(encoding="utf-8")
    for db in ("audit.db", "operations.db"):
        text = text.replace(f"sqlite:///{db}", f"sqlite:///{SAMPLE / db}")
    old = 'paths = ["logpush/**/*.log.gz", "logpush/**/*.log"]'
    assert old in text
    text = text.replace(old, "paths = " + json.dumps(paths)) + "\n" + s3_section
    cfg = tmp_path / f"evidence-{uuid.uuid4().hex[:6]}.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _s3_section(endpoint: str) -> str:
    return (f'[worker_logs.s3]\nendpoint_url = "{endpoint}"\nregion = "us-east-1"\n'
            f'access_key_id_env = "{KEY_ENV}"\nsecret_access_key_env = "{SECRET_ENV}"\n')


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _outputs(cfg: Path) -> list:
    """Coverage, exceptions and replay status as JSON, and the warnings, for one config."""
    out = []
    for args in (["coverage", "--by", "day,route", "--format", "json"], ["exceptions", "--format", "json"],
                 ["replay-status", "--as-of", "2026-11-01T00:00:00Z", "--format", "json"]):
        res = _run(args[0], "--config", str(cfg), *PERIOD, *args[1:])
        assert res.exit_code == 0, res.stderr
        out.append((json.loads(res.stdout), res.stderr))
    return out


# ------------------------------------------------------------------------------------------- same numbers


def test_the_sample_logs_from_s3_give_the_same_numbers_as_on_disk(bucket, endpoint, tmp_path):
    name, put = bucket
    _upload_tree(put, SAMPLE / "logpush", "logpush")
    folder = SAMPLE / "logpush"
    local = _sample_config(tmp_path, [str(folder / "**" / "*.log.gz"), str(folder / "**" / "*.log")])
    remote = _sample_config(tmp_path, [f"s3://{name}/logpush/**/*.log.gz", f"s3://{name}/logpush/**/*.log"],
                            _s3_section(endpoint))
    on_disk, from_s3 = _outputs(local), _outputs(remote)
    assert [o for o, _ in from_s3] == [o for o, _ in on_disk]
    assert [e.replace(f"s3://{name}/logpush", str(SAMPLE / "logpush")) for _, e in from_s3] == [e for _, e in on_disk]
    assert on_disk[2][0]["states"]["replayed"] > 0  # the comparison is not between two empty results


def test_workerd_trace_items_from_s3_read_as_on_disk(bucket, endpoint):
    name, put = bucket
    put("workerd/trace-items.ndjson", WORKERD.read_bytes())
    put("workerd/trace-items.ndjson.gz", gzip.compress(WORKERD.read_bytes()))
    local = scan_logs([str(WORKERD)], MatchingConfig())
    for key in ("trace-items.ndjson", "trace-items.ndjson.gz"):
        remote = scan_logs([f"s3://{name}/workerd/{key}"], MatchingConfig(), options=WorkerLogsConfig(s3=_s3(endpoint)))
        assert remote.files == (f"s3://{name}/workerd/{key}",)
        assert remote.lines_read == local.lines_read and remote.skipped_log_lines == local.skipped_log_lines
        assert remote.failures.equals(local.failures) and remote.replays.equals(local.replays)
        assert remote.invocations.equals(local.invocations) and len(local.invocations) > 0
        assert [(i.kind, i.count) for i in remote.issues] == [(i.kind, i.count) for i in local.issues]


# ------------------------------------------------------------------------------------------------- globs

TREE = ("a/x.log", "a/b/y.log", "a/b/c/z.log", "a/b/y.log.gz", "a/.hidden/h.log", "a/b/.dot.log", "a/bx/w.log",
        "other/x.log", "a/b/notes.txt")
PATTERNS = ("a/**/*.log", "a/*.log", "a/b/*.log", "a/**", "a/*/y.log*", "a/.hidden/*.log", "a/**/.dot.log",
            "a/b?/*.log", "a/[bc]/*.log", "*/x.log", "a/b/c/z.log", "**/z.log", "a/b/**/*.log")


def test_globs_select_the_same_objects_as_the_same_files_on_disk(bucket, endpoint, tmp_path):
    name, put = bucket
    for key in TREE:
        put(key, b"{}\n")
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(b"{}\n")
    for pattern in PATTERNS:
        on_disk = [Path(p).relative_to(tmp_path).as_posix() for p in find_log_files([str(tmp_path / pattern)])]
        in_s3 = [k.removeprefix(f"s3://{name}/") for k in find_log_files([f"s3://{name}/{pattern}"], _s3(endpoint))]
        assert in_s3 == on_disk, pattern
        assert on_disk or pattern == "a/**/.dot.log", pattern  # each pattern selects something


# -------------------------------------------------------------------------------------------------- caps


def test_a_line_over_the_cap_is_skipped_and_counted_in_an_object(bucket, endpoint):
    name, put = bucket
    record = WORKERD.read_bytes().splitlines()[0]
    put("big/x.log", record + b"\n" + b'{"x":"' + b"a" * 5000 + b'"}\n' + record + b"\n")
    scan = scan_logs([f"s3://{name}/big/*.log"], MatchingConfig(),
                     options=WorkerLogsConfig(max_line_bytes=1024 * 4, s3=_s3(endpoint)))
    assert scan.skipped_log_lines == 1 and scan.lines_read == 3
    (oversized,) = [i for i in scan.issues if i.kind == "oversized_log_line"]
    assert oversized.examples == (f"s3://{name}/big/x.log:2",)


def test_a_gzip_bomb_object_stops_at_the_file_cap_and_is_named(bucket, endpoint):
    name, put = bucket
    bomb = gzip.compress(b"\n" * (64 << 20), compresslevel=9)  # 64 MiB of newlines in well under 1 MiB
    put("bomb/x.log.gz", bomb)
    scan = scan_logs([f"s3://{name}/bomb/*.gz"], MatchingConfig(),
                     options=WorkerLogsConfig(max_file_bytes=1 << 20, s3=_s3(endpoint)))
    assert scan.skipped_files == (f"s3://{name}/bomb/x.log.gz",)
    assert scan.lines_read <= (1 << 20) + 1
    (record,) = scan.objects
    assert record.size == len(bomb) and record.sha256 == hashlib.sha256(bomb).hexdigest()


def _peak(read) -> tuple[object, int]:
    tracemalloc.start()
    try:
        return read(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_object_is_streamed_not_held_whole(bucket, endpoint, tmp_path):
    """Reading a 12 MiB object peaks less than 2 MiB above reading a one-line one (measured: +0.2 MB; the
    baseline, ~13 MB, is the SDK's client and its service model, not the object)."""
    name, put = bucket
    line = WORKERD.read_bytes().splitlines()[0] + b"\n"
    (tmp_path / "x.log").write_bytes(line * ((12 << 20) // len(line)))
    put("large/x.log", (tmp_path / "x.log").read_bytes())
    put("small/x.log", line)
    options = WorkerLogsConfig(s3=_s3(endpoint))
    _, small = _peak(lambda: scan_logs([f"s3://{name}/small/x.log"], MatchingConfig(), options=options))
    scan, large = _peak(lambda: scan_logs([f"s3://{name}/large/x.log"], MatchingConfig(), options=options))
    assert scan.objects[0].size == (tmp_path / "x.log").stat().st_size > 12_000_000
    assert scan.lines_read == scan_logs([str(tmp_path / "x.log")], MatchingConfig()).lines_read
    assert large - small < 2 << 20, (small, large)


# ------------------------------------------------------------------------------------------------- errors


def test_an_unset_credential_variable_is_exit_2_naming_the_key(bucket, endpoint, tmp_path, monkeypatch):
    name, put = bucket
    put("logpush/x.log", b"{}\n")
    monkeypatch.delenv(SECRET_ENV)
    cfg = _sample_config(tmp_path, [f"s3://{name}/logpush/*.log"], _s3_section(endpoint))
    res = _run("coverage", "--config", str(cfg), *PERIOD, "--format", "json")
    assert res.exit_code == 2
    assert f"worker_logs.s3.secret_access_key_env: environment variable {SECRET_ENV} is not set" in res.stderr
    with pytest.raises(ConfigError, match="worker_logs.s3.access_key_id_env"):
        monkeypatch.delenv(KEY_ENV)
        scan_logs([f"s3://{name}/logpush/*.log"], MatchingConfig(), options=WorkerLogsConfig(s3=_s3(endpoint)))


def test_an_unreachable_endpoint_is_exit_2_naming_the_pattern(creds, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    pattern = "s3://logs/logpush/**/*.log.gz"
    cfg = _sample_config(tmp_path, [pattern], _s3_section(dead))
    res = _run("coverage", "--config", str(cfg), *PERIOD, "--format", "json")
    assert res.exit_code == 2
    assert f"worker_logs.paths: cannot read {pattern}: Could not connect to the endpoint URL" in res.stderr
    assert "testing" not in res.stderr  # the credential values


def test_refused_credentials_are_exit_2_naming_the_pattern_and_never_shown(checking_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "AKIANOTAKEY00000")
    monkeypatch.setenv(SECRET_ENV, "s3cr3t-never-shown")
    pattern = "s3://logs/logpush/*.log"
    res = _run("coverage", "--config", str(_sample_config(tmp_path, [pattern], _s3_section(checking_endpoint))),
               *PERIOD)
    assert res.exit_code == 2
    assert (f"worker_logs.paths: cannot read {pattern}: access key not recognised: check "
            "worker_logs.s3.access_key_id_env (InvalidAccessKeyId)") in res.stderr
    assert "s3cr3t-never-shown" not in res.stderr + res.stdout


def test_a_missing_bucket_is_exit_2_naming_the_pattern_or_with_optional_a_counted_warning(endpoint, creds, tmp_path):
    pattern = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/logpush/*.log"
    res = _run("coverage", "--config", str(_sample_config(tmp_path, [pattern], _s3_section(endpoint))), *PERIOD)
    assert res.exit_code == 2
    assert f"worker_logs.paths: cannot read {pattern}: bucket not found (NoSuchBucket)" in res.stderr
    with pytest.raises(SourceError):
        scan_logs([pattern], MatchingConfig(), options=WorkerLogsConfig(s3=_s3(endpoint)))
    scan = scan_logs([pattern], MatchingConfig(), options=WorkerLogsConfig(optional=True, s3=_s3(endpoint)))
    assert [(i.kind, i.count) for i in scan.issues] == [("unreadable_log_path", 1), ("no_log_files", 1)]


def test_a_pattern_matching_no_object_is_exit_2_naming_it(bucket, endpoint, tmp_path):
    name, put = bucket
    put("logpush/x.txt", b"{}\n")
    pattern = f"s3://{name}/logpush/*.log"
    res = _run("coverage", "--config", str(_sample_config(tmp_path, [pattern], _s3_section(endpoint))), *PERIOD)
    assert res.exit_code == 2 and f"no log file matches {pattern}" in res.stderr


def test_an_s3_path_is_not_resolved_against_the_config_folder(endpoint, tmp_path):
    from evidence_app.config.settings import load_config

    cfg = load_config(_sample_config(tmp_path, ["s3://logs/a/*.log"], _s3_section(endpoint)))
    assert cfg.log_paths == ("s3://logs/a/*.log",)
    assert cfg.worker_logs.s3 == _s3(endpoint)


# ----------------------------------------------------------------------------------------------- manifest


def test_the_pack_manifest_records_each_object_by_key_size_and_etag(bucket, endpoint, tmp_path):
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    from evidence_app.evidence.attachments import read_attachments

    name, put = bucket
    _upload_tree(put, SAMPLE / "logpush", "logpush")
    cfg = _sample_config(tmp_path, [f"s3://{name}/logpush/**/*.log.gz"], _s3_section(endpoint))
    assert _run("keygen", str(tmp_path / "id"), "--valid-from", "2026-01-01").exit_code == 0
    out = tmp_path / "p.pdf"
    res = _run("pack", "--config", str(cfg), *PERIOD, "--out", str(out), "--key", str(tmp_path / "id" / "key.pem"),
               "--cert", str(tmp_path / "id" / "cert.pem"), "--generated-at", "2026-11-01T00:00:00Z")
    assert res.exit_code == 0, res.stderr
    root = PdfFileReader(io.BytesIO(out.read_bytes()), strict=False).root
    files = json.loads(read_attachments(root).files["manifest.json"])["extraction"]["files"]
    local = sorted(SAMPLE.glob("logpush/**/*.log.gz"))
    assert len(files) == len(local) == 91  # the sample's daily Logpush files, 2026-08-01 – 2026-10-29, and a partial
    for record, path in zip(files, local, strict=True):
        data, key = path.read_bytes(), f"logpush/{path.relative_to(SAMPLE / 'logpush').as_posix()}"
        assert record == {"role": "worker_logs", "name": f"s3://{name}/{key}", "key": key, "size": len(data),
                          "etag": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest()}
    text = subprocess.run([tool("pdftotext"), "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "91 Logpush files (91 objects in S3/R2)" in text and "If-Match" in text
    assert f"ETag {hashlib.md5(local[0].read_bytes()).hexdigest()}" in text


def test_an_object_replaced_after_listing_is_an_error_not_a_silent_mix(bucket, endpoint):
    from evidence_app.ingest.logpush import locate_log_files
    from evidence_app.ingest.objectstore import ObjectStoreError

    name, put = bucket
    put("logpush/x.log", b"{}\n")
    found = locate_log_files([f"s3://{name}/logpush/*.log"], _s3(endpoint))
    put("logpush/x.log", b"{}\n{}\n")
    with pytest.raises(ObjectStoreError, match=r"object changed since it was listed \(ETag differs\)"):
        found.open(f"s3://{name}/logpush/x.log")


def test_the_web_app_fingerprint_sees_an_object_replaced_by_key_size_etag_and_time(bucket, endpoint):
    from evidence_app.persistence.snapshot import _logs_print

    name, put = bucket
    put("logpush/x.log", b"{}\n")
    patterns = (f"s3://{name}/logpush/*.log",)
    before = _logs_print(patterns, _s3(endpoint))
    assert before == _logs_print(patterns, _s3(endpoint))
    ((key, size, etag, _),) = before["files"]
    assert (key, size, etag) == (f"s3://{name}/logpush/x.log", 3, hashlib.md5(b"{}\n").hexdigest())
    put("logpush/x.log", b"[]\n")  # same size, other bytes
    assert _logs_print(patterns, _s3(endpoint))["files"][0][2] != etag


# ------------------------------------------------------------------------------------------------- config


@pytest.mark.parametrize("section, fault", [
    ('endpoint_url = "https://key:secret@r2.example"', "worker_logs.s3.endpoint_url: must be an http(s) URL"),
    ('endpoint_url = "ftp://r2.example"', "worker_logs.s3.endpoint_url: must be an http(s) URL"),
    ('access_key_id_env = "my key"', "worker_logs.s3.access_key_id_env: must name an environment variable"),
    ('secret_access_key = "plain"', "worker_logs.s3.secret_access_key: "),  # the rest masked: over-masking is harmless
    ('session_token_env = ""', "worker_logs.s3.session_token_env: must be a non-empty string"),
])
def test_a_bad_s3_setting_is_refused_naming_its_key(tmp_path, section, fault):
    cfg = _sample_config(tmp_path, ["s3://logs/a/*.log"], f"[worker_logs.s3]\n{section}\n")
    res = _run("coverage", "--config", str(cfg), *PERIOD)
    assert res.exit_code == 2 and fault in res.stderr
    assert "secret@" not in res.stderr


@pytest.mark.parametrize("path", ["s3://", "s3:///a/*.log", "s3://Logs*/a.log"])
def test_an_s3_path_must_name_a_bucket(tmp_path, path):
    res = _run("coverage", "--config", str(_sample_config(tmp_path, [path])), *PERIOD)
    assert res.exit_code == 2 and "worker_logs.paths:" in res.stderr and "must name a bucket" in res.stderr


def test_a_body_that_breaks_mid_read_is_a_read_error_like_a_files():
    from botocore.exceptions import ResponseStreamingError

    from evidence_app.ingest.objectstore import ObjectReader, ObjectStoreError, StoredObject

    class Broken:
        def read(self, size: int) -> bytes:
            raise ResponseStreamingError(error="connection reset by peer")

        def close(self) -> None:
            pass

    reader = ObjectReader(StoredObject("logs", "a/x.log", 10, "e", "t", client=None), Broken())
    with pytest.raises(ObjectStoreError, match="connection reset by peer") as caught:
        reader.read(10)
    assert isinstance(caught.value, OSError)  # so scan_logs treats it as an unreadable file
