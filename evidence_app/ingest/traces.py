"""Worker trace records, whatever shape the runtime wrote them in → invocations and our audit events.

Three shapes, detected per file (plain or gzip, any mix under one glob):

* Logpush ``workers_trace_events``: NDJSON, one invocation per line, PascalCase (``EventTimestampMs``,
  ``Event.Request.URL``, ``Event.RayID``, ``Outcome``, ``ScriptName``, ``Logs[{Level, Message, TimestampMs}]``).
* Tail Worker trace items, camelCase (``eventTimestamp``, ``event.request.url``, ``truncated``, ``outcome``,
  ``scriptName``, ``logs[{message, level, timestamp}]``), stored one per line, or as JSON arrays (a Tail
  Worker's ``events`` as it receives them), one array per line or pretty-printed.
* ``wrangler tail --format json``: the same items, pretty-printed, one after another.

A file whose first record is one whole line is read line by line (a broken line is skipped and counted,
the next line reads on); otherwise records are gathered line by line until the brackets they open are closed
(then parsed once: whole, or skipped as broken), each starting at a line that opens with ``{`` or ``[`` in its
first column (``JSON.stringify(…, null, 2)`` indents all else).

A ``console.*`` call's arguments are one log entry's message list. An audit event is found however the
Worker wrote it, where a call puts it: its first argument as one JSON text ``{"event": …}`` or one object with
``event``, or the event's name as the first argument followed by an object or by JSON text holding the fields.
Arguments after those are what the Worker logged beside the event (a request body): never read as one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

LOGPUSH_TRUNCATED = "<<<Logpush: messages truncated>>>"
"""What Logpush writes in place of an invocation's logs past 16,384 characters."""


@dataclass(frozen=True)
class Entry:
    """One log entry of an invocation: the ``console.*`` call's arguments and when it was made."""

    logged_ms: Any
    """The entry's own time (epoch milliseconds as the runtime wrote it; None when absent)."""
    arguments: tuple
    """The call's arguments: text, objects, numbers, as the record holds them."""


@dataclass(frozen=True)
class Invocation:
    """One Worker invocation as a trace record describes it (every field may be None when absent)."""

    started_ms: Any
    """When the invocation started (``EventTimestampMs`` / ``eventTimestamp``), epoch milliseconds."""
    script: str | None
    """The Worker's name (``ScriptName`` / ``scriptName``)."""
    event_type: str | None
    """``fetch``, ``scheduled``, ``queue``, ``alarm``, … (Logpush's ``EventType``; inferred for trace items)."""
    method: str | None
    """The request's HTTP method (fetch invocations)."""
    path: str | None
    """The request URL's path, without query (fetch invocations)."""
    ray_id: str | None
    """Cloudflare's Ray ID (``Event.RayID``, or a trace item's ``cf-ray`` request header)."""
    outcome: str | None
    """``ok``, ``exception``, ``exceededCpu``, … as the runtime reported it."""
    truncated: bool
    """Logs past the runtime's limit were dropped: Logpush's marker, or a trace item's ``truncated: true``."""
    key: str | bytes
    """Identity for at-least-once delivery: Ray ID and start time, else 16 bytes of SHA-256 of the whole record
    (as canonical JSON)."""


@dataclass(frozen=True)
class TraceRecord:
    """An invocation and its log entries."""

    invocation: Invocation
    entries: tuple[Entry, ...]


def records_in(lines: Iterable[tuple[int, bytes | None]],
               max_record_bytes: int | None = None) -> Iterator[tuple[int, Any]]:
    """(first line number, parsed JSON value or a reason it was set aside) for every record of a file.

    The reasons: ``"oversized"`` for a line over the cap (it arrives as None), ``"unreadable"`` for text that
    is not JSON. A JSON value that is not an object is returned as it is; the caller decides. A pretty-printed
    record longer than ``max_record_bytes`` (the line cap) is ``"oversized"`` too: it is dropped as it grows, and
    its remaining lines are passed over until the next record opens, never held whole."""
    mode: str | None = None
    block: list[bytes] = []
    start = depth = held = 0
    skipping = False  # inside a record already set aside as oversized
    for number, raw in lines:
        if raw is None:
            if block:
                yield start, "unreadable"
                block = []
            yield number, "oversized"
            continue
        text = raw.strip()
        if not text:
            continue
        if mode is None:
            mode = "lines" if _parses(text) else "blocks"
        if mode == "lines":
            yield number, _value(text)
            continue
        if text[:1] in (b"{", b"[") and raw[:1] in (b"{", b"["):  # a record opens in the first column
            if block:
                yield start, "unreadable"
            block, start, depth, held, skipping = [raw], number, 0, 0, False
        elif block:
            block.append(raw)
        elif skipping:
            continue
        else:
            yield number, _value(text)  # a stray line between records
            continue
        depth += _depth_change(raw)
        held += len(raw) + 1
        if max_record_bytes is not None and held > max_record_bytes and depth > 0:
            yield start, "oversized"
            block, skipping = [], True
            continue
        if depth <= 0:  # every bracket it opened is closed: the record ends here, whole or broken
            yield start, _value(b"\n".join(block))
            block = []
    if block:
        yield start, "unreadable"


_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"')
"""A JSON string on one line (JSON text never holds a raw line break inside a string)."""


def _depth_change(line: bytes) -> int:
    """Brackets opened minus brackets closed on a line, outside strings: a pretty-printed record is parsed once,
    where it closes, never again at every closing line (a record that never closes would cost quadratic time)."""
    bare = _JSON_STRING.sub(b"", line)
    return bare.count(b"{") + bare.count(b"[") - bare.count(b"}") - bare.count(b"]")


def _parses(text: bytes) -> bool:
    return _value(text) != "unreadable"


def _value(text: bytes) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON (or not UTF-8), or nested past the recursion limit
        return "unreadable"


def trace_record(record: dict) -> TraceRecord | None:
    """The invocation a Logpush or trace-item record describes, with its log entries; None for an object
    that is neither (no logs, no event time, no outcome)."""
    if any(k in record for k in ("Logs", "EventTimestampMs", "Outcome", "ScriptName")):
        return _logpush(record)
    if any(k in record for k in ("logs", "eventTimestamp", "outcome", "scriptName")):
        return _trace_item(record)
    return None


def _logpush(record: dict) -> TraceRecord:
    event = _dict(record.get("Event"))
    request = _dict(event.get("Request"))
    entries = tuple(Entry(e.get("TimestampMs"), _arguments(e.get("Message")))
                    for e in _dicts(record.get("Logs")))
    logs = record.get("Logs")
    truncated = (isinstance(logs, str) and LOGPUSH_TRUNCATED in logs) or any(
        isinstance(a, str) and LOGPUSH_TRUNCATED in a for e in entries for a in e.arguments)
    invocation = Invocation(
        started_ms=record.get("EventTimestampMs"), script=_text(record.get("ScriptName")),
        event_type=_text(record.get("EventType")), method=_text(request.get("Method")),
        path=_path(request.get("URL")), ray_id=_text(event.get("RayID")) or _text(record.get("RayID")),
        outcome=_text(record.get("Outcome")), truncated=truncated, key="")
    return TraceRecord(_keyed(invocation, record), entries)


def _trace_item(record: dict) -> TraceRecord:
    event = _dict(record.get("event"))
    request = _dict(event.get("request"))
    headers = {str(k).lower(): v for k, v in _dict(request.get("headers")).items()}
    entries = tuple(Entry(e.get("timestamp"), _arguments(e.get("message"))) for e in _dicts(record.get("logs")))
    invocation = Invocation(
        started_ms=record.get("eventTimestamp"), script=_text(record.get("scriptName")),
        event_type=_event_type(event), method=_text(request.get("method")), path=_path(request.get("url")),
        ray_id=_text(headers.get("cf-ray")), outcome=_text(record.get("outcome")),
        truncated=record.get("truncated") is True, key="")
    return TraceRecord(_keyed(invocation, record), entries)


def _event_type(event: dict) -> str | None:
    """A trace item names no event type: its event's shape tells it."""
    for key, kind in (("request", "fetch"), ("cron", "scheduled"), ("queue", "queue"), ("mailFrom", "email"),
                      ("rpcMethod", "rpc"), ("scheduledTime", "alarm"), ("getWebSocketEvent", "websocket")):
        if key in event:
            return kind
    return None


def _keyed(invocation: Invocation, record: dict) -> Invocation:
    """The invocation with its delivery key: a Ray ID names one invocation (with its start time, as Ray IDs
    are reused across a request's subrequests); without one, the whole record, byte for byte as canonical JSON."""
    if invocation.ray_id is not None:
        key = f"ray:{invocation.ray_id}@{invocation.started_ms}"
    else:
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        key = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).digest()[:16]
    return Invocation(**{**invocation.__dict__, "key": key})


def audit_events(entry: Entry, names: tuple[str, ...]) -> tuple[list[dict], bool]:
    """The audit event (named in ``names``) one log entry holds, and whether an argument names an event but could
    not be read as one (malformed: counted, never used).

    Only where a ``console.*`` call puts its event counts: the first argument (JSON text or an object with
    ``event``), or the event's name as the first argument and its fields as the second. A later argument is what
    the Worker logged beside it — a request body, user input — and text a client sent must never read as a failure
    or a replay the Worker reported: it is counted as malformed, not used."""
    args = entry.arguments
    if not args:
        return [], False
    first = args[0]
    event = _whole_event(first, names)
    rest = 1
    if event is None and isinstance(first, str) and first.strip() in names:  # a name, then its fields
        fields = _object(args[1]) if len(args) > 1 else None
        event = None if fields is None else {**fields, "event": first.strip()}
        rest = 2
        if event is None:
            return [], True
    malformed = any(_names_an_event(arg, names) for arg in args[rest:]) or (
        event is None and _names_an_event(first, names))
    return ([event] if event is not None else []), malformed


def _names_an_event(arg: object, names: tuple[str, ...]) -> bool:
    """An argument that mentions one of the event names (text), or is an object naming one."""
    if isinstance(arg, dict):
        return arg.get("event") in names
    return isinstance(arg, str) and any(name in arg for name in names)


def _whole_event(arg: object, names: tuple[str, ...]) -> dict | None:
    data = _object(arg)
    if data is not None and data.get("event") in names:
        return data
    return None


def _object(arg: object) -> dict | None:
    """An argument as an object: itself, or the object its JSON text holds; None otherwise."""
    if isinstance(arg, dict):
        return dict(arg)
    if isinstance(arg, str) and arg.lstrip().startswith("{"):
        value = _value(arg.encode("utf-8", "surrogatepass"))
        return dict(value) if isinstance(value, dict) else None
    return None


def _arguments(message: object) -> tuple:
    if isinstance(message, list):
        return tuple(message)
    return () if message is None else (message,)


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _path(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return None
