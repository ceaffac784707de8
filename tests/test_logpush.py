"""The Logpush reader: finds our events anywhere, counts broken lines, streams."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

from evidence_app.config import MatchingConfig
from evidence_app.ingest.logpush import scan_logs


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
    (tmp_path / "x.log").write_text(_line("GET /api/menu 200", '{"event":"other"}', FAIL) + "\n")
    scan = _scan(tmp_path)
    assert len(scan.failures) == 1 and scan.skipped_log_lines == 0


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
    (tmp_path / "x.log").write_text(_line(FAIL) + "\n" + _line(FAIL) + "\n")
    scan = _scan(tmp_path)
    assert len(scan.failures) == 1
    assert any(i.kind == "duplicate_event" for i in scan.issues)


def test_reader_memory_does_not_grow_with_file_size(tmp_path):
    def peak_for(lines: int) -> int:
        path = tmp_path / f"big{lines}.log.gz"
        with gzip.open(path, "wt") as fh:
            for i in range(lines):
                fh.write(_line(f"GET /api/menu/{i} 200 " + "x" * 200) + "\n")
        tracemalloc.start()
        scan_logs([str(path)], MatchingConfig())
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    small, large = peak_for(5_000), peak_for(50_000)
    assert large < small * 2, (small, large)
