"""Arbitrary input never lets a non-project exception escape: the Worker-log reader, the timestamp parser,
the config parser and the D1 dump reader, fuzzed with Hypothesis."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from contextlib import contextmanager
from datetime import timezone
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from evidence_app.assess.controls import check_controls, load_catalogue
from evidence_app.config.settings import KEYS, MatchingConfig, WorkerLogsConfig, load_config, parse_config
from evidence_app.errors import ConfigError, EvidenceError, SourceError
from evidence_app.ingest import d1dump
from evidence_app.ingest.canonical import UTC_DTYPE, canonical_target, parse_timestamps
from evidence_app.ingest.logpush import scan_logs

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="evidence-fuzz-") as folder:
        yield Path(folder)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
event_fields = st.fixed_dictionaries({}, optional={
    "event": st.sampled_from(["audit_log_insert_failed", "audit_log_replay", "other"]) | json_values,
    "failure_id": json_values, "created_at": json_values | st.sampled_from(["2026-13-45T99:99:99Z", "2026-10-01"]),
    "operation": json_values, "action": json_values, "route": json_values, "restaurant_id": json_values,
    "user_id": json_values, "target": json_values, "request_id": json_values, "attempt": json_values,
    "outcome": st.sampled_from(["inserted", "duplicate", "failed"]) | json_values, "error": json_values,
})
log_lines = st.one_of(
    st.builds(lambda m, ms: json.dumps({"Logs": [{"Message": m, "TimestampMs": ms}]}),
              st.lists(st.one_of(event_fields.map(json.dumps), event_fields, json_values), max_size=3),
              json_values),
    st.builds(lambda logs: json.dumps({"Logs": logs}), json_values),
    st.text(max_size=80),
)


def _only_project_errors(call) -> None:  # noqa: ANN001 - any callable
    try:
        call()
    except EvidenceError:
        pass


# ------------------------------------------------------------------ the log reader


@FUZZ
@given(body=st.binary(max_size=3000), gzipped=st.booleans(), cut=st.integers(0, 40))
def test_log_reader_survives_any_bytes(body, gzipped, cut):
    with scratch() as folder:
        data = gzip.compress(body) if gzipped else body
        (folder / "x.log").write_bytes(data[: max(len(data) - cut, 0)] if gzipped else data)
        options = WorkerLogsConfig(max_line_bytes=1024, max_file_bytes=4096)
        _only_project_errors(lambda: scan_logs([str(folder / "*.log")], MatchingConfig(), options=options))


def _json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


@FUZZ
@example(lines=["0\n0", "0\n0"])  # four physical lines, each JSON but not an object: four skipped lines
@given(lines=st.lists(log_lines, max_size=8))
def test_log_reader_survives_any_json_shape(lines):
    """The reader counts physical lines (a generated text may hold newlines of its own): a line is skipped
    exactly when it is not blank and not a JSON object (not JSON at all, or JSON such as ``0`` or ``[]``)."""
    with scratch() as folder:
        (folder / "x.log").write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        scan = scan_logs([str(folder / "*.log")], MatchingConfig())
        physical = (folder / "x.log").read_bytes().split(b"\n")
        if physical[-1] == b"":  # a final newline ends the last line; it does not start another
            physical.pop()
        assert scan.lines_read == len(physical)
        assert scan.skipped_log_lines == sum(1 for line in physical if line.strip() and not _json_object(line))


@FUZZ
@given(values=st.lists(json_values | st.text(), max_size=10))
def test_target_canonicalisation_survives_anything(values):
    out = canonical_target(pd.Series(values, dtype=object))
    assert len(out) == len(values)


# ------------------------------------------------------------------ the timestamp parser

any_time_value = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.binary(max_size=12), st.text(max_size=40),
    # no driver returns a signalling NaN (pandas itself cannot hold one)
    st.decimals(allow_nan=False) | st.just(Decimal("NaN")),
    st.from_regex(r"\A[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}(\.[0-9]{1,12})?)?)?"
                  r"(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"),
    st.datetimes(), st.datetimes(timezones=st.just(timezone.utc)), st.dates(),
)


@FUZZ
@given(values=st.lists(any_time_value, max_size=12))
def test_timestamp_parser_survives_any_mixture(values):
    out = parse_timestamps(pd.Series(values, dtype=object))
    assert len(out) == len(values) and str(out.dtype) == UTC_DTYPE


@FUZZ
@given(values=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=12) | st.lists(st.floats(), max_size=12)
       | st.lists(st.text(max_size=40), max_size=12))
def test_timestamp_parser_survives_any_typed_column(values):
    out = parse_timestamps(pd.Series(values))
    assert len(out) == len(values)


# ------------------------------------------------------------------ the config parser

toml_values = st.recursive(
    st.booleans() | st.integers() | st.integers(min_value=10**30, max_value=10**4000) | st.floats()
    | st.text(max_size=30) | st.sampled_from(["sqlite:///x.db", "postgresql://u:p@ss@h/db?password=x", "logs/**/*"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)
known_keys = sorted({k for keys in KEYS.values() for k in keys} | set(KEYS) - {""})
config_docs = st.dictionaries(
    st.sampled_from(known_keys) | st.text(max_size=8),
    st.dictionaries(st.sampled_from(known_keys) | st.text(max_size=8), toml_values, max_size=5) | toml_values,
    max_size=6,
)


nasty_text = st.text(max_size=30) | st.sampled_from([
    "", " ", "a\x00b", "../" * 40, "/", "sqlite:///" + "a" * 300, "sqlite:///" + "a/" * 3000, "sqlite:///:memory:",
    "postgresql://h:abc/db", "postgresql://u:p@ss@h/db?password=x", "oracle://x", "mysql://u@h:99999999/db",
    "logs/**/*", "x" * 5000, "nan", "\t", "[x](http://127.0.0.1:9/p.png)"])
any_value = nasty_text | toml_values
store_entry = st.fixed_dictionaries({}, optional={
    "tenant": any_value | st.sampled_from(["acme", "globex", " acme", ""]),
    "tenants": st.lists(st.sampled_from(["acme", "globex", "x\x00"]) | any_value, max_size=3) | any_value,
    "url": any_value, "d1_dump": any_value, "x": any_value})
"""One ``[[audit.stores]]`` entry: any mix of its keys, tenants shared between entries, and values of any shape."""
store_section = st.fixed_dictionaries({}, optional={
    "url": any_value, "d1_dump": any_value, "table": any_value,
    "stores": st.lists(store_entry, max_size=3) | any_value,
    "columns": st.dictionaries(st.sampled_from(["id", "created_at", "occurred_at", "user_id", "x"]), any_value,
                               max_size=3) | any_value})
shaped_docs = st.fixed_dictionaries({"audit": store_section, "operations": store_section}, optional={
    "organisation": st.fixed_dictionaries({}, optional={"name": any_value}) | any_value,
    "worker_logs": st.dictionaries(st.sampled_from(sorted(KEYS["worker_logs"])), any_value, max_size=4) | any_value,
    "matching": st.dictionaries(st.sampled_from(sorted(KEYS["matching"])), any_value, max_size=3) | any_value,
    "compute": st.dictionaries(st.sampled_from(sorted(KEYS["compute"])), any_value | st.sampled_from(
        ["tcp://127.0.0.1:8786", "tcp://u:pw@h:1", "tcp://h:0", "tcp://[::1]:8786", "tls://h:1"]), max_size=2)
    | any_value,
    "controls": st.dictionaries(st.sampled_from(["coverage_met_at", "sample_confidence", "credential_actions", "x"]),
                                any_value, max_size=3) | any_value,
})


@FUZZ
@given(raw=config_docs | shaped_docs)
def test_config_parser_raises_only_config_errors(raw):
    with scratch() as folder:
        try:
            check_controls(parse_config(raw, folder / "evidence.toml").controls)
        except ConfigError:
            pass


@FUZZ
@given(overrides=st.dictionaries(st.sampled_from(sorted(load_catalogue()[1])) | st.text(max_size=8), toml_values,
                                 max_size=4))
def test_control_thresholds_raise_only_config_errors(overrides):
    try:
        check_controls(overrides)
    except ConfigError:
        pass


@FUZZ
@given(text=st.text(max_size=400))
def test_config_file_of_any_text_is_a_config_error_or_a_config(text):
    with scratch() as folder:
        cfg = folder / "evidence.toml"
        cfg.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_config(cfg)
        except ConfigError:
            pass


# ------------------------------------------------------------------ the dump reader

statements = st.sampled_from([
    "PRAGMA defer_foreign_keys=TRUE;", "CREATE TABLE t (a, b TEXT);", "INSERT INTO t VALUES(1,'x');",
    "INSERT INTO \"t\" VALUES(replace('a\\nb','\\n',char(10)),X'00ff');", "DELETE FROM sqlite_sequence;",
    "CREATE INDEX i ON t(a);", "CREATE VIEW v AS SELECT * FROM t;", "BEGIN TRANSACTION;", "COMMIT;",
    "CREATE TRIGGER g AFTER INSERT ON t BEGIN DELETE FROM t; END;", "ATTACH 'planted.db' AS p;",
    "VACUUM INTO 'copy.db';", "SELECT load_extension('x');", "PRAGMA writable_schema=ON;", "DROP TABLE t;",
    "CREATE TEMP TABLE t (a);", "INSERT INTO t SELECT * FROM t;", "ANALYZE;", "'unterminated", "/* open", ";",
    "CREATE TABLE", "INSERT INTO t VALUES(zeroblob(100000000));",
])


def _load(script: str) -> None:
    conn, policy = d1dump.private_connection()
    try:
        d1dump.execute_dump(conn, policy, script)
    except d1dump.DumpRefused:
        pass
    finally:
        conn.close()


@FUZZ
@given(parts=st.lists(statements | st.text(max_size=40), max_size=10), glue=st.sampled_from(["\n", " ", ""]))
def test_dump_reader_refuses_or_loads_and_never_writes_a_file(parts, glue):
    with scratch() as folder:
        before = os.getcwd()
        os.chdir(folder)
        try:
            _load(glue.join(parts))
        finally:
            os.chdir(before)
        assert list(folder.iterdir()) == []


@FUZZ
@given(text=st.text(max_size=500))
def test_dump_file_of_any_text_is_a_source_error_or_a_database(text):
    with scratch() as folder:
        dump = folder / "dump.sql"
        dump.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            d1dump.load_dump(dump, "audit").close()
        except SourceError:
            pass
        assert [p.name for p in folder.iterdir()] == ["dump.sql"]


# ------------------------------------------------------------------ the command line's own parsers


@FUZZ
@given(start=st.none() | st.text(max_size=20), end=st.none() | st.text(max_size=20), at=st.text(max_size=30),
       dims=st.text(max_size=30), scope=st.lists(st.text(max_size=20), max_size=3))
def test_cli_value_parsers_raise_only_usage_errors(start, end, at, dims, scope):
    from evidence_app.cli import parse_instant, parse_period, parse_scope
    from evidence_app.reconcile.coverage import parse_dimensions

    for call in (lambda: parse_period(start, end), lambda: parse_instant(at, "--as-of"),
                 lambda: parse_dimensions(dims), lambda: parse_scope(tuple(scope))):
        _only_project_errors(call)
