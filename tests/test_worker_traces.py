"""Worker logs in every shape the runtime writes: trace items workerd itself wrote (tests/fixtures/workerd),
the same invocations as Logpush NDJSON, as Tail Worker NDJSON and JSON arrays and as `wrangler tail --format
json` output give the same events, invocations and numbers; a batch delivered twice counts once."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.config.settings import MatchingConfig, WorkerLogsConfig
from evidence_app.ingest.logpush import scan_logs
from evidence_app.ingest.traces import LOGPUSH_TRUNCATED, records_in

WORKERD = Path(__file__).resolve().parent / "fixtures" / "workerd" / "trace-items.ndjson"
STYLES = ("json", "pair", "pairtext", "object")


def _items() -> list[dict]:
    """Every trace item workerd handed the Tail Worker, in order (each line of the fixture is one batch)."""
    return [item for line in WORKERD.read_text(encoding="utf-8").splitlines() for item in json.loads(line)]


def _scan(folder: Path, **options):
    return scan_logs([str(folder / "*")], MatchingConfig(), options=WorkerLogsConfig(**options))


def _logpush(item: dict) -> dict:
    """The same invocation as a Logpush workers_trace_events record (PascalCase; the truncation marker)."""
    logs = [{"Level": e["level"], "Message": e["message"], "TimestampMs": e["timestamp"]} for e in item["logs"]]
    if item["truncated"]:
        logs.append({"Level": "log", "Message": [LOGPUSH_TRUNCATED], "TimestampMs": item["eventTimestamp"]})
    event = item["event"]
    kind = "fetch" if "request" in event else "scheduled"
    request = {"URL": event["request"]["url"], "Method": event["request"]["method"]} if kind == "fetch" else None
    return {"EventTimestampMs": item["eventTimestamp"], "EventType": kind, "Outcome": item["outcome"],
            "ScriptName": "audit-app", "Event": {"Request": request} if request else {"Cron": event.get("cron")},
            "Logs": logs}


def _write(folder: Path, shape: str, items: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if shape == "logpush":
        text = "".join(json.dumps(_logpush(i)) + "\n" for i in items)
        (folder / "batch.log.gz").write_bytes(gzip.compress(text.encode()))
    elif shape == "tail-ndjson":
        (folder / "items.ndjson").write_text("".join(json.dumps(i) + "\n" for i in items))
    elif shape == "tail-arrays":
        (folder / "batches.json").write_text(WORKERD.read_text(encoding="utf-8"))
    elif shape == "tail-array-pretty":
        (folder / "events.json").write_text(json.dumps(items, indent=2) + "\n")
    elif shape == "wrangler-tail":
        (folder / "tail.out").write_text("".join(json.dumps(i, indent=2) + "\n" for i in items))
    else:
        raise AssertionError(shape)


def _figures(scan) -> tuple:
    failures = scan.failures.drop(columns=[]).sort_values("failure_id").reset_index(drop=True)
    replays = scan.replays.sort_values(["failure_id", "attempt"]).reset_index(drop=True)
    inv = scan.invocations.drop(columns=["script", "event_type"]).sort_values("started_at").reset_index(drop=True)
    return failures, replays, inv


def test_what_workerd_wrote_is_read_as_it_happened(tmp_path):
    _write(tmp_path / "logs", "tail-arrays", _items())
    scan = _scan(tmp_path / "logs")
    assert sorted(scan.failures["failure_id"]) == sorted(f"f-{s}" for s in STYLES)  # f-truncated was cut off
    assert set(scan.failures["target"]) == {'{"menu_ids":[3,1]}'}
    assert set(scan.failures["tenant"]) == {"vie-neubau"} and set(scan.failures["route"]) == {"/api/menu/:id"}
    assert list(scan.replays.sort_values("attempt")["outcome"]) == ["failed", "inserted"]
    inv = scan.invocations
    assert len(inv) == 7 and int(inv["truncated"].sum()) == 1
    assert inv.loc[inv["truncated"], "path"].tolist() == ["/api/menu/44"]
    assert sorted(inv["path"].dropna()) == ["/api/menu/40", "/api/menu/41", "/api/menu/42", "/api/menu/43",
                                            "/api/menu/44", "/health"]
    assert scan.skipped_log_lines == 0 and scan.duplicates_dropped == 0


@pytest.mark.parametrize("shape", ["logpush", "tail-ndjson", "tail-array-pretty", "wrangler-tail"])
def test_every_shape_gives_the_same_events_and_invocations(tmp_path, shape):
    items = _items()
    _write(tmp_path / "real", "tail-arrays", items)
    _write(tmp_path / shape, shape, items)
    real, other = _figures(_scan(tmp_path / "real")), _figures(_scan(tmp_path / shape))
    pd.testing.assert_frame_equal(real[0].drop(columns=["logged_at"]), other[0].drop(columns=["logged_at"]))
    pd.testing.assert_frame_equal(real[1].drop(columns=["logged_at"]), other[1].drop(columns=["logged_at"]))
    pd.testing.assert_frame_equal(real[2].drop(columns=["outcome"]), other[2].drop(columns=["outcome"]))


def test_shapes_mixed_under_one_glob_each_read_by_their_own_rule(tmp_path):
    items = _items()
    for shape in ("logpush", "wrangler-tail"):
        _write(tmp_path / "mixed", shape, items[:3] if shape == "logpush" else items[3:])
    scan = _scan(tmp_path / "mixed")
    assert len(scan.invocations) == 7 and sorted(scan.failures["failure_id"]) == sorted(f"f-{s}" for s in STYLES)


@pytest.mark.parametrize("shape", ["logpush", "tail-ndjson", "wrangler-tail"])
def test_a_batch_delivered_twice_counts_once_with_its_events(tmp_path, shape):
    items = _items()
    _write(tmp_path / "once", shape, items)
    _write(tmp_path / "twice" / "a", shape, items)
    _write(tmp_path / "twice" / "b", shape, items)
    once = _scan(tmp_path / "once")
    twice = scan_logs([str(tmp_path / "twice" / "**" / "*")], MatchingConfig())
    assert len(twice.replays) == len(once.replays) == 2
    assert len(twice.invocations) == len(once.invocations) == 7
    assert twice.duplicates_dropped == 7
    assert [i.count for i in twice.issues if i.kind == "duplicate_delivery"] == [7]


def test_logpush_records_with_a_ray_id_are_told_apart_by_it(tmp_path):
    base = {"EventTimestampMs": 1790856000000, "Outcome": "ok", "Logs": []}
    lines = [dict(base, Event={"RayID": "8f1"}), dict(base, Event={"RayID": "8f1"}, Outcome="exception"),
             dict(base, Event={"RayID": "8f2"})]
    (tmp_path / "a.log").write_text("".join(json.dumps(r) + "\n" for r in lines))
    scan = _scan(tmp_path)
    assert len(scan.invocations) == 2 and scan.duplicates_dropped == 1


def test_renamed_events_are_found_by_their_configured_names(tmp_path):
    text = json.dumps(_items()[1]).replace("audit_log_insert_failed", "auditWriteFailed")
    (tmp_path / "x.ndjson").write_text(text + "\n")
    assert len(_scan(tmp_path).failures) == 0
    assert len(_scan(tmp_path, failure_event="auditWriteFailed").failures) == 1


def test_a_name_without_its_fields_is_malformed_and_counted(tmp_path):
    item = {"eventTimestamp": 1790856000000, "outcome": "ok",
            "logs": [{"message": ["audit_log_insert_failed"], "level": "error", "timestamp": 1790856000000},
                     {"message": ["audit_log_insert_failed", "not json"], "level": "error", "timestamp": 1}]}
    (tmp_path / "x.ndjson").write_text(json.dumps(item) + "\n")
    scan = _scan(tmp_path)
    assert len(scan.failures) == 0 and [i.count for i in scan.issues if i.kind == "malformed_event"] == [2]


def test_an_object_that_is_no_trace_record_is_counted_not_dropped_silently(tmp_path):
    (tmp_path / "x.ndjson").write_text('{"hello": "world"}\n' + json.dumps(_items()[1]) + "\n")
    scan = _scan(tmp_path)
    assert len(scan.failures) == 1 and [i.count for i in scan.issues if i.kind == "not_a_trace_record"] == [1]


def test_a_broken_record_between_pretty_ones_is_skipped_and_reading_goes_on(tmp_path):
    items = _items()[1:3]
    text = json.dumps(items[0], indent=2) + "\n{\n  \"broken\": \n" + json.dumps(items[1], indent=2) + "\n"
    (tmp_path / "tail.out").write_text(text)
    scan = _scan(tmp_path)
    assert len(scan.invocations) == 2 and scan.skipped_log_lines == 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["{", "}", "[", "]", "  {", "  }", '"a": 1,', '{"logs": []}', "0", "", "[{}]",
                                 '{"eventTimestamp": 1}', "x"]), max_size=20))
def test_any_arrangement_of_lines_is_read_without_an_exception(lines):
    found = list(records_in((i + 1, line.encode()) for i, line in enumerate(lines)))
    assert all(isinstance(n, int) and 1 <= n <= len(lines) for n, _ in found)
