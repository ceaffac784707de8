"""The Logpush reader: finds our events anywhere, counts broken lines, streams."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from datetime import timedelta
from pathlib import Path

from evidence_app.config.settings import MatchingConfig
from evidence_app.ingest.logpush import scan_logs

from scenario import T0


def _line(*messages, ms=1790856000000) -> str:
    return json.dumps({"EventTimestampMs": ms, "Logs": [{"Level": "warn", "Message": list(messages), "TimestampMs": ms}]})


FAIL = json.dumps({"event": "audit_log_insert_failed", "failure_id": "f1", "operation": "cache_purge",
                   "restaurant_id": "r1", "user_id": "u1", "created_at": "2026-10-01T12:00:00Z",
                   "target": "[]", "error": "D1_ERROR: overloaded"})
REPLAY = json.dumps({"event": "audit_log_replay", "failure_id": "f1", "attempt": 1, "outcome": "failed"})


def _scan(folder: Path):
    return scan_logs([str(folder / "**" / "*")], MatchingConfig())


def test_events_found_in_gzip_and_plain_files_with_any_name(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "whatever.bin").write_bytes(gzip.compress((_line(FAIL) + "\n").encode()))
    (tmp_path / "a" / "plain.txt").write_text(_line(REPLAY) + "\n")
    scan = _scan(tmp_path)
    assert list(scan.failures["failure_id"]) == ["f1"]
    assert list(scan.replays["outcome"]) == ["failed"]
    assert scan.skipped_log_lines == 0


def test_ordinary_messages_are_ignored(tmp_path):
    (tmp_path / "x.log").write_text(_line('{"event":"other"}', "GET /api/menu 200") + "\n" + _line(FAIL, "cache hit")
                                    + "\n")
    scan = _scan(tmp_path)
    assert len(scan.failures) == 1 and scan.skipped_log_lines == 0


def test_an_event_beside_the_first_argument_is_never_read_as_one(tmp_path):
    """console.log("body", body): a client's request body that spells a failure event must not forge one."""
    (tmp_path / "x.log").write_text(_line("POST /api/menu body", FAIL) + "\n"
                                    + _line("audit_log_insert_failed", json.loads(REPLAY) | {"x": 1}, FAIL,
                                            ms=1790856000001) + "\n")
    scan = _scan(tmp_path)
    assert len(scan.failures) == 1 and scan.failures["failure_id"].tolist() == ["f1"]  # the second line's own one
    assert [i.count for i in scan.issues if i.kind == "malformed_event"] == [2]


def test_invalid_json_line_is_skipped_and_reading_goes_on(tmp_path):
    (tmp_path / "x.log").write_text(_line(FAIL) + "\n{not json\n" + _line(REPLAY) + "\n")
    scan = _scan(tmp_path)
    assert scan.skipped_log_lines == 1
    assert len(scan.failures) == 1 and len(scan.replays) == 1


def test_truncated_gzip_counts_one_skipped_line_and_keeps_what_came_before(tmp_path):
    body = (_line(FAIL) + "\n") + "".join(_line(f"filler {i}") + "\n" for i in range(200))
    blob = gzip.compress(body.encode())
    (tmp_path / "cut.log.gz").write_bytes(blob[: len(blob) - 30])
    (tmp_path / "ok.log").write_text(_line(REPLAY) + "\n")
    scan = _scan(tmp_path)
    assert scan.skipped_log_lines == 1
    assert len(scan.failures) == 1 and len(scan.replays) == 1


def test_same_failure_logged_twice_counts_once_and_is_reported(tmp_path):
    (tmp_path / "x.log").write_text(_line(FAIL) + "\n" + _line(FAIL, ms=1790856000001) + "\n")
    scan = _scan(tmp_path)
    assert len(scan.failures) == 1
    assert any(i.kind == "duplicate_event" for i in scan.issues)


def test_a_line_delivered_twice_counts_once_with_its_events_and_is_reported(tmp_path):
    (tmp_path / "x.log").write_text(_line(FAIL) + "\n" + _line(REPLAY) + "\n" + _line(REPLAY) + "\n")
    (tmp_path / "again.log").write_text(_line(FAIL) + "\n")
    scan = _scan(tmp_path)
    assert len(scan.failures) == 1 and len(scan.replays) == 1 and len(scan.invocations) == 2
    assert scan.duplicates_dropped == 2
    assert [i.count for i in scan.issues if i.kind == "duplicate_delivery"] == [2]


def _peak(tmp_path: Path, lines: int, width: int) -> int:
    path = tmp_path / f"big{lines}x{width}.log.gz"
    with gzip.open(path, "wt") as fh:
        for i in range(lines):
            fh.write(_line(f"GET /api/menu/{i} 200 " + "x" * width, ms=1790856000000 + i) + "\n")
    tracemalloc.start()
    scan_logs([str(path)], MatchingConfig())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_reader_memory_does_not_grow_with_file_size(tmp_path):
    """The same invocations logging ten times as much: the reader streams, so memory stays where it was."""
    small, large = _peak(tmp_path, 5_000, 200), _peak(tmp_path, 5_000, 4_000)
    assert large < small * 2, (small, large)


def test_what_each_invocation_costs_is_a_small_record(tmp_path):
    """Every invocation is kept (log completeness needs them), as a row of a few fields, not its log text."""
    small, large = _peak(tmp_path, 5_000, 200), _peak(tmp_path, 50_000, 200)
    assert (large - small) / 45_000 < 1_500, (small, large)


# ------------------------------------------------------------------ linear time, caps, nothing silent


def _options(**kw):
    from evidence_app.config.settings import WorkerLogsConfig

    return WorkerLogsConfig(**kw)


def test_an_overlong_line_is_skipped_counted_and_named_and_reading_goes_on(tmp_path):
    (tmp_path / "x.log").write_bytes(b'{"Logs": "' + b"x" * 5000 + b'"}\n' + (_line(FAIL) + "\n").encode())
    scan = scan_logs([str(tmp_path / "x.log")], MatchingConfig(), options=_options(max_line_bytes=1024))
    assert scan.skipped_log_lines == 1 and len(scan.failures) == 1
    [over] = [i for i in scan.issues if i.kind == "oversized_log_line"]
    assert over.examples == (f"{tmp_path / 'x.log'}:1",)


def test_a_line_at_exactly_the_cap_is_read(tmp_path):
    line = _line(FAIL).encode()
    (tmp_path / "x.log").write_bytes(line + b"\n")
    scan = scan_logs([str(tmp_path / "x.log")], MatchingConfig(), options=_options(max_line_bytes=len(line)))
    assert len(scan.failures) == 1 and scan.skipped_log_lines == 0


def test_the_line_reader_never_copies_a_long_line_per_chunk():
    """By construction: a line spread over many chunks is joined once, and past the cap not held at all."""
    from evidence_app.ingest import logpush

    joins = []

    class Piece(bytes):
        def split(self, sep):  # noqa: ANN001, ANN202 - count how often the reader touches each chunk
            joins.append(1)
            return bytes.split(self, sep)

    chunks = [Piece(b"a" * 1000) for _ in range(10_000)] + [Piece(b"\nshort\n")]
    lines = list(logpush.split_lines(iter(chunks), max_line=50_000, max_total=1 << 40))
    assert lines == [(1, None), (2, b"short")] and len(joins) == len(chunks)


def test_a_gzip_bomb_stops_at_the_size_cap_and_names_the_file(tmp_path):
    import zlib

    bomb = tmp_path / "bomb.log.gz"
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    with bomb.open("wb") as fh:
        fh.write(packer.compress((_line(FAIL) + "\n").encode()))
        for _ in range(64):
            fh.write(packer.compress(b"\0" * (1 << 20)))
        fh.write(packer.flush())
    scan = scan_logs([str(bomb)], MatchingConfig(), options=_options(max_file_bytes=8 << 20))
    assert scan.skipped_files == (str(bomb),)
    assert len(scan.failures) == 1  # what came before the cap is kept
    assert any(i.kind == "log_file_over_size_cap" and i.examples == (str(bomb),) for i in scan.issues)


def test_a_deeply_nested_log_line_is_a_skipped_line_not_a_recursion_error(tmp_path):
    deep = "[" * 200_000 + "]" * 200_000
    nested_message = json.dumps({"Logs": [{"Message": ['{"event": "audit_log_insert_failed", "x": ' + deep + "}"]}]})
    (tmp_path / "x.log").write_text(deep + "\n" + nested_message + "\n" + _line(FAIL) + "\n")
    scan = _scan(tmp_path)
    assert scan.skipped_log_lines == 1 and len(scan.failures) == 1
    assert any(i.kind == "malformed_event" for i in scan.issues)


def test_logs_and_messages_of_the_wrong_type_are_ignored_not_fatal(tmp_path):
    lines = ['{"Logs": 5}', '{"Logs": [{"Message": 7}]}', '{"Logs": [{"Message": [{"event": "audit_log_replay", '
             '"failure_id": ["f"], "attempt": {"a": 1}, "outcome": 3}]}]}', _line(FAIL)]
    (tmp_path / "x.log").write_text("\n".join(lines) + "\n")
    scan = _scan(tmp_path)
    assert len(scan.failures) == 1 and len(scan.replays) == 0


def _cli(cfg, *args):
    from click.testing import CliRunner

    from evidence_app.cli import main

    return CliRunner().invoke(main, ["coverage", "--config", str(cfg), *args])


def _logs_config(scenario, paths: str, extra: str = "") -> Path:
    later = T0 + timedelta(minutes=5)
    scenario.op("o1").row("a1").op("o2", later).failure("f2", later)  # o2: missing, its failure logged
    cfg = scenario.write()
    cfg.write_text(cfg.read_text().replace('paths = ["logpush/**/*.log.gz"]', f"paths = {paths}{extra}"))
    return cfg


def _assert_exit_2_naming(res, *named: str) -> None:
    assert res.exit_code == 2, (res.exit_code, res.stderr)
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: worker_logs.paths:") and "Traceback" not in err, err
    for text in named:
        assert text in err, (text, err)


def test_a_glob_that_matches_nothing_is_an_error_naming_it(scenario):
    _assert_exit_2_naming(_cli(_logs_config(scenario, '["logpush/**/*.json"]')), "no log file matches", "*.json")


def test_a_pattern_whose_folder_does_not_exist_is_an_error_naming_it(scenario):
    cfg = _logs_config(scenario, '["logpush/**/*.log.gz", "logpsuh/**/*.log.gz"]')
    _assert_exit_2_naming(_cli(cfg), "folder not found", "logpsuh")


def test_a_log_that_cannot_be_read_is_an_error_naming_it(scenario):
    cfg = _logs_config(scenario, '["logpush/**/*.log.gz"]')
    (cfg.parent / "logpush" / "20261001" / "gone.log.gz").symlink_to(cfg.parent / "nowhere")
    _assert_exit_2_naming(_cli(cfg), "gone.log.gz")


def test_a_log_folder_that_cannot_be_read_is_an_error_naming_it(scenario):
    cfg = _logs_config(scenario, '["logpush/**/*.log.gz"]')
    loop = cfg.parent / "logpush" / "loop"
    loop.symlink_to(loop)
    _assert_exit_2_naming(_cli(cfg), str(loop))


def test_a_log_file_that_cannot_be_opened_is_an_error_naming_it(scenario, monkeypatch):
    from evidence_app.ingest import logpush

    cfg = _logs_config(scenario, '["logpush/**/*.log.gz"]')

    def denied(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - what open() does without permission
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(logpush, "open", denied, raising=False)
    _assert_exit_2_naming(_cli(cfg), "events.log.gz", "Permission denied")


def test_optional_logs_turn_every_reading_problem_into_a_counted_warning(scenario):
    cfg = _logs_config(scenario, '["logpush/**/*.log.gz", "nothing-here/*.log"]', "\noptional = true")
    (cfg.parent / "logpush" / "20261001" / "gone.log.gz").symlink_to(cfg.parent / "nowhere")
    res = _cli(cfg, "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert "missing_log_folder" in res.stderr and "gone.log.gz" in res.stderr and "optional" in res.stderr
    assert json.loads(res.stdout)[0]["missing_pending"] == 1  # the readable log still counts


def test_optional_logs_that_match_nothing_warn_that_misses_read_as_silent(scenario):
    res = _cli(_logs_config(scenario, '["logpush/**/*.json"]', "\noptional = true"), "--format", "json")
    assert res.exit_code == 0 and "no_log_files" in res.stderr and "silent" in res.stderr
    assert json.loads(res.stdout)[0]["missing_silent"] == 1


def test_the_globs_find_what_glob_finds(tmp_path):
    import glob

    from evidence_app.ingest.logpush import find_log_files

    for rel in ("a/x.log", "a/b/y.log.gz", "a/.hidden/z.log", "a/.h.log", "c.log", "a/b/c/d/e.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}\n")
    for pattern in ("**/*.log", "a/**/*", "a/*/*.gz", "*.log", "a/**", "a/.h*", "**/.hidden/*", "a/b/y.log.gz"):
        full = str(tmp_path / pattern)
        expected = sorted(p for p in glob.glob(full, recursive=True) if Path(p).is_file())
        assert find_log_files([full]) == expected, pattern


def test_a_matching_device_or_fifo_is_named_not_read_or_passed_over(scenario):
    cfg = _logs_config(scenario, '["logpush/**/*.log.gz"]')
    (cfg.parent / "logpush" / "20261001" / "zero.log.gz").symlink_to("/dev/zero")
    _assert_exit_2_naming(_cli(cfg), "zero.log.gz", "not a regular file")
