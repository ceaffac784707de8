"""Column mapping results → typed canonical frames; timestamps normalised to UTC once, here.

Everything this module cannot interpret is counted as a :class:`DataIssue`, never dropped
without a trace.
"""

from __future__ import annotations

import decimal
import itertools
import json
import re
import numbers
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evidence_app.columns.text import (
    TEXT_DTYPE,
    arrow_text,
    as_text,
    blank_text,
    compact_labels,
    compact_text,
    expanded,
    is_compact,
    repeated,
)
from evidence_app.config.settings import MatchingConfig
from evidence_app.ingest.flags import parse_flags
from evidence_app.issues import DataIssue, issue
from evidence_app.reconcile.rules import NULL_ORIGIN, origin_of, origin_unknown

UTC_DTYPE = "datetime64[us, UTC]"


# ---------------------------------------------------------------- timestamps


_FIRST = pd.Timestamp("0001-01-01", tz="UTC").as_unit("us")
_PAST_LAST = pd.Timestamp("9999-12-31", tz="UTC").as_unit("us") + pd.Timedelta(days=1)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Every supported form → UTC timestamps; NaT where the value is missing or unparseable.

    Supported: ISO-8601 text (no zone means UTC), ``YYYY-MM-DD HH:MM:SS``, epoch seconds or
    milliseconds (numbers or digit strings), and native driver datetimes (naive means UTC). A time
    outside years 1–9999 (``0000-01-01``, an epoch number that large) is no time anyone logged:
    unparseable, like the rest.
    """
    parsed = _parse(values)
    outside = (parsed < _FIRST) | (parsed >= _PAST_LAST)
    return parsed.mask(outside) if outside.any() else parsed


def _parse(values: pd.Series) -> pd.Series:
    if values.empty:
        return pd.Series(pd.NaT, index=values.index, dtype=UTC_DTYPE)
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(values):
        return _to_utc(values)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return _from_epoch(pd.to_numeric(values, errors="coerce"))
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        # Fast path: one vectorised ISO-8601 pass; only what it cannot read goes the slow way.
        fast = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce").astype(UTC_DTYPE)
        rest = fast.isna() & values.notna()
        if not rest.any():
            return fast
        fast[rest] = _parse_mixed(values[rest])
        return fast
    return _parse_mixed(values)


def _parse_mixed(values: pd.Series) -> pd.Series:
    """Slow path for columns mixing text, numbers and driver datetimes."""
    out = pd.Series(pd.NaT, index=values.index, dtype=UTC_DTYPE)
    kinds = values.map(type)
    is_str = kinds.isin([str])
    if is_str.any():
        text = values[is_str].str.strip()
        digits = text.str.fullmatch(r"-?\d+(\.\d+)?")
        if digits.any():
            out[digits[digits].index] = _from_epoch(pd.to_numeric(text[digits], errors="coerce"))
        iso = text[~digits]
        if not iso.empty:  # nanosecond text comes back finer than the canonical microseconds: cast
            out[iso.index] = pd.to_datetime(iso, format="ISO8601", utc=True, errors="coerce").astype(UTC_DTYPE)
    is_num = kinds.isin([k for k in kinds.unique() if _is_number(k)])  # per type, not per value
    if is_num.any():
        out[is_num[is_num].index] = _from_epoch(_numbers(values[is_num]))
    other = ~(is_str | is_num) & values.notna()
    if other.any():
        out[other[other].index] = _driver_times(values[other])
    return out


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers of mixed Python types as one numeric column; NaN where one will not convert (a signalling
    Decimal NaN, say)."""
    try:
        return pd.to_numeric(values, errors="coerce")
    except (TypeError, ValueError):
        return pd.Series([_float_or_nan(v) for v in values], index=values.index, dtype="float64")


def _float_or_nan(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def _is_number(kind: type) -> bool:
    """Epoch numbers of any numeric type (a driver's Decimal too); a bool is not a time."""
    return issubclass(kind, (numbers.Real, decimal.Decimal)) and not issubclass(kind, (bool, np.bool_))


def _driver_times(values: pd.Series) -> pd.Series:
    """Driver datetimes (and anything else: a BLOB, a list) → UTC, NaT where it is not a time."""
    times = [v if isinstance(v, (datetime, date, np.datetime64)) else None for v in values]
    try:
        return pd.to_datetime(pd.Series(times, index=values.index, dtype=object), utc=True,
                              errors="coerce").astype(UTC_DTYPE)
    except (ValueError, TypeError, OverflowError):  # e.g. a year pandas cannot hold
        return pd.Series(pd.NaT, index=values.index, dtype=UTC_DTYPE)


def _to_utc(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype(UTC_DTYPE)
    return values.dt.tz_localize("UTC").astype(UTC_DTYPE)


def _from_epoch(numbers: pd.Series) -> pd.Series:
    """Epoch numbers → UTC; magnitude tells the unit (≥1e14 µs, ≥1e11 ms, else s)."""
    if numbers.dtype == np.float64:  # REAL epoch times: the same arithmetic on the array, no Series alignment
        values = numbers.to_numpy()
        mag = np.abs(values)
        micros = np.round(values * np.where(mag >= 1e14, 1, np.where(mag >= 1e11, 1_000, 1_000_000)))
        ok = ~np.isnan(micros) & (np.abs(micros) < 9.2e18 / 1000)
        whole = np.full(len(values), np.iinfo(np.int64).min, dtype=np.int64)  # NaT where not ok
        whole[ok] = micros[ok].astype(np.int64)
        return pd.Series(whole.view("datetime64[us]"), index=numbers.index).dt.tz_localize("UTC")
    mag = numbers.abs().to_numpy(dtype="float64", na_value=np.nan)  # a nullable integer's NA: no unit, NaT below
    scale = np.where(mag >= 1e14, 1, np.where(mag >= 1e11, 1_000, 1_000_000))
    micros = (numbers * scale).round()
    ok = micros.notna() & (micros.abs() < 9.2e18 / 1000)
    out = pd.Series(pd.NaT, index=numbers.index, dtype=UTC_DTYPE)
    if ok.any():
        out[ok] = pd.to_datetime(micros[ok].astype("int64"), unit="us", utc=True)
    return out


# ---------------------------------------------------------------- text keys


def canonical_target(values: pd.Series) -> pd.Series:
    """Targets compared by meaning: JSON text is re-serialised compactly with sorted keys.

    Most targets are canonical already (``[483920]``, ``{"line":3,"order":81}``): a pattern run in Arrow
    recognises those (:func:`already_canonical`); most of the rest are flat JSON written with spaces or keys in
    another order, rewritten in Arrow too (:func:`rewritten_in_arrow`); only what is left — each distinct value
    once — goes through ``json``, so a store of distinct targets is not re-serialised value by value in Python."""
    text = as_text(values)
    rest = text.notna().to_numpy(dtype=bool) & ~already_canonical(text)
    if not rest.any():
        return text
    at = np.flatnonzero(rest)
    arr = arrow_text(text)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    originals = arr.take(pa.array(at))
    fixed = rewritten_in_arrow(originals)
    left = np.flatnonzero(~fixed.is_valid().to_numpy(zero_copy_only=False))
    if len(left):
        codes, uniques = pd.factorize(pd.Series(pd.arrays.ArrowStringArray(originals.take(pa.array(left)),
                                                                           dtype=TEXT_DTYPE)))
        by_json = pa.array([canonical_json(u) for u in uniques.tolist()], type=pa.large_string()).take(pa.array(codes))
        mask = np.zeros(len(at), dtype=bool)
        mask[left] = True
        fixed = pc.replace_with_mask(fixed, pa.array(mask), by_json)
    if pc.all(pc.equal(fixed, originals)).as_py():  # nothing to rewrite
        return text
    full = np.zeros(len(text), dtype=bool)
    full[at] = True
    out = pc.replace_with_mask(arr, pa.array(full), fixed)
    return pd.Series(pd.arrays.ArrowStringArray(out, dtype=TEXT_DTYPE), index=text.index)


# JSON values json.dumps(json.loads(v), sort_keys=True, separators=(",", ":")) writes back unchanged: integers
# (not -0), strings of printable ASCII without quote or backslash, true, false, null.
_SCALAR = r'(?:0|-?[1-9][0-9]*|"[ !#-\[\]-~]*"|true|false|null)'
_LIST = rf"\[(?:{_SCALAR}(?:,{_SCALAR})*)?\]"
_MAX_KEYS = 6
_OBJECTS = tuple(
    "^\\{" + ",".join(f'"(?P<k{i}>[ !#-\\[\\]-~]*)":{_SCALAR}' for i in range(k)) + "\\}$"
    for k in range(1, _MAX_KEYS + 1)
)


def already_canonical(text: pd.Series) -> np.ndarray:
    """Which values are certainly their own canonical form, found without leaving Arrow: a flat list, or an
    object of up to six keys in strictly increasing order, of canonically written scalars; nothing else
    (floats, nesting, spaces, non-ASCII) — those take the exact ``json`` path. Held to
    :func:`canonical_json` by a property test."""
    arr = arrow_text(text)
    found = pc.match_substring_regex(arr, f"^{_LIST}$").fill_null(False).to_numpy(zero_copy_only=False)
    maybe = pc.starts_with(arr, "{").fill_null(False).to_numpy(zero_copy_only=False) & ~found
    if not maybe.any():
        return found
    at = np.flatnonzero(maybe)
    candidates = arr.take(pa.array(at))
    if isinstance(candidates, pa.ChunkedArray):  # a store read in chunks
        candidates = candidates.combine_chunks()
    # '":' ends every key: its count picks the one pattern worth trying (a string holding '":' just fails it).
    colons = pc.count_substring(candidates, '":').to_numpy(zero_copy_only=False)
    for n, pattern in enumerate(_OBJECTS, start=1):
        rows = np.flatnonzero(colons == n)
        if not len(rows):
            continue
        parts = pc.extract_regex(candidates.take(pa.array(rows)), pattern)
        ordered = parts.is_valid().to_numpy(zero_copy_only=False)
        keys = [pc.struct_field(parts, [i]) for i in range(n)]
        for a, b in itertools.pairwise(keys):  # byte order of UTF-8 = code point order = sort_keys' order
            ordered &= pc.less(a, b).fill_null(False).to_numpy(zero_copy_only=False)
        found[at[rows[ordered]]] = True
    return found


_WS = "[ \\t\\n\\r]*"
"""What JSON allows between tokens (and ``str.strip`` takes from the ends)."""
_BARE = "(?:0|-?[1-9][0-9]*|true|false|null)"
_NUMBERS = rf"^{_WS}\[{_WS}(?:{_BARE}(?:{_WS},{_WS}{_BARE})*)?{_WS}\]{_WS}$"
_SPACED_OBJECTS = tuple(
    f"^{_WS}\\{{" + f"{_WS},".join(f'{_WS}"(?P<k{i}>[ !#-\\[\\]-~]*)"{_WS}:{_WS}(?P<v{i}>{_SCALAR})' for i in range(k))
    + f"{_WS}\\}}{_WS}$"
    for k in range(1, _MAX_KEYS + 1)
)
_LONGEST = 4000
"""Longer texts are left to ``json`` (Python refuses integers of more than 4,300 digits: it keeps the text)."""


def rewritten_in_arrow(text: pa.Array) -> pa.Array:
    """Each value's canonical form where Arrow can write it, else null: a flat list of integers, true, false and
    null, with any JSON whitespace (the whitespace dropped); an object of up to six distinct keys with
    canonically written scalars, in any key order and spacing (re-joined with its keys sorted). Exactly what
    :func:`canonical_json` gives for those (held to it by a property test); anything else is left to it."""
    out = pa.nulls(len(text), pa.large_string())
    short = pc.less_equal(pc.binary_length(text), _LONGEST).to_numpy(zero_copy_only=False)
    lists = pc.match_substring_regex(text, _NUMBERS).to_numpy(zero_copy_only=False) & short
    if lists.any():
        out = pc.replace_with_mask(out, pa.array(lists), pc.replace_substring_regex(
            text.filter(pa.array(lists)), "[ \t\n\r]+", ""))
    maybe = short & ~lists & pc.match_substring(text, "{").to_numpy(zero_copy_only=False)
    for n, pattern in enumerate(_SPACED_OBJECTS, start=1):
        rows = np.flatnonzero(maybe)
        if not len(rows):
            break
        parts = pc.extract_regex(text.take(pa.array(rows)), pattern)
        ok = parts.is_valid().to_numpy(zero_copy_only=False)
        if not ok.any():
            continue
        rows, parts = rows[ok], parts.filter(pa.array(ok))
        maybe[rows] = False
        keys = [pc.struct_field(parts, [2 * i]) for i in range(n)]
        vals = [pc.struct_field(parts, [2 * i + 1]) for i in range(n)]
        rank = np.zeros((len(rows), n), dtype=np.int64)  # each key's place once sorted (code point = byte order)
        distinct = np.ones(len(rows), dtype=bool)
        for i, j in itertools.combinations(range(n), 2):
            less = pc.less(keys[i], keys[j]).to_numpy(zero_copy_only=False)
            distinct &= pc.not_equal(keys[i], keys[j]).to_numpy(zero_copy_only=False)
            rank[:, j] += less
            rank[:, i] += ~less
        order = rank @ (n ** np.arange(n))  # one number per ordering of the keys
        for code in np.unique(order[distinct]):
            same = np.flatnonzero(distinct & (order == code))
            by_place = np.argsort(rank[same[0]])  # the key written at each place
            pieces: list[object] = []
            for place, i in enumerate(by_place):
                pieces += [_large("," if place else "{"), _large('"'), keys[i].take(pa.array(same)), _large('":'),
                           vals[i].take(pa.array(same))]
            joined = pc.binary_join_element_wise(*pieces, _large("}"), _large(""))
            mask = np.zeros(len(text), dtype=bool)
            mask[rows[same]] = True
            out = pc.replace_with_mask(out, pa.array(mask), pc.cast(joined, pa.large_string()))
    return out


def _large(literal: str) -> pa.Scalar:
    return pa.scalar(literal, pa.large_string())


MAX_JSON_DEPTH = 64
"""JSON nested deeper than this is compared as its stripped text: decided from the text alone, so a target has one
canonical form wherever it is read (the parser's own limit depends on how deep the caller's stack already is: a
partition's read thread, a Dask worker and the client would disagree near it)."""
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def canonical_json(value: str) -> str:
    stripped = value.strip()
    if not stripped or stripped[0] not in "[{" or _nesting(stripped) > MAX_JSON_DEPTH:
        return stripped
    try:
        return json.dumps(json.loads(stripped), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):  # not JSON (or, defensively, deeper than Python recurses): as text
        return stripped


def _nesting(text: str) -> int:
    """The deepest bracket nesting of ``text`` outside JSON strings (0 if it has no bracket). Only texts with
    more brackets than the limit are walked."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0
    depth = deepest = 0
    for ch in _JSON_STRING.sub("", text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


# ---------------------------------------------------------------- frames

OPS_FIELDS = ("id", "occurred_at", "operation", "action", "route", "tenant", "operator", "target", "request_id",
              "audit_logged")
AUDIT_FIELDS = (
    "id", "created_at", "action", "route", "tenant", "operator", "target",
    "request_id", "origin", "inserted_at",
)
_RENAME = {"restaurant_id": "tenant", "user_id": "operator"}


@dataclass(frozen=True)
class Canonical:
    """A canonical frame plus the rows that could not be used and why."""

    frame: pd.DataFrame
    rejected: pd.DataFrame
    """Rows left out of matching (e.g. no usable timestamp), with their original values."""
    issues: tuple[DataIssue, ...]


def _optional(raw: pd.DataFrame, name: str) -> pd.Series:
    if name in raw.columns:
        return raw[name]
    return pd.Series(np.full(len(raw), None, dtype=object), index=raw.index, dtype=object)


def canonical_operations(raw: pd.DataFrame, matching: MatchingConfig) -> Canonical:
    """Operations store rows → canonical frame (one row per operation)."""
    frame = pd.DataFrame(
        {
            "id": as_text(raw["id"]),
            "occurred_at": parse_timestamps(raw["occurred_at"]),
            "operation": compact_text(raw["operation"]),
            "route": compact_text(_optional(raw, "route")),
            "tenant": compact_text(raw["restaurant_id"]),
            "operator": compact_text(raw["user_id"]),
            "target": canonical_target(raw["target"]),
            "request_id": as_text(_optional(raw, "request_id")),
        },
        copy=False,  # the columns are new already; copying a million-row frame again buys nothing
    )
    codes, operations = pd.factorize(frame["operation"])
    frame["action"] = compact_labels(codes, tuple(matching.action_for(op) for op in operations)).set_axis(frame.index)
    frame["audit_logged"], not_a_flag = parse_flags(_optional(raw, "audit_logged"))
    frame = frame[list(OPS_FIELDS)]
    extra = [issue("operations", "unrecognised_flag", "audit_logged", frame.loc[not_a_flag, "id"].fillna("<null id>"),
                   "neither true/false nor 1/0: read as not reported")]
    extra += undecodable_text("operations", raw, frame["id"]) + blank_as_null("operations", frame, frame["id"])
    return _finish("operations", frame, raw, "occurred_at", ("operation", "tenant", "operator"), extra)


def canonical_audit(raw: pd.DataFrame) -> Canonical:
    """Audit store rows → canonical frame; origin NULL means live."""
    origin, unknown = _origins(compact_text(_optional(raw, "origin")))
    frame = pd.DataFrame(
        {
            "id": as_text(raw["id"]),
            "created_at": parse_timestamps(raw["created_at"]),
            "action": compact_text(raw["action"]),
            "route": compact_text(_optional(raw, "route")),
            "tenant": compact_text(raw["restaurant_id"]),
            "operator": compact_text(raw["user_id"]),
            "target": canonical_target(raw["target"]),
            "request_id": as_text(_optional(raw, "request_id")),
            "origin": origin,
            "inserted_at": parse_timestamps(_optional(raw, "inserted_at")),
        },
        copy=False,
    )
    extra = undecodable_text("audit", raw, frame["id"]) + blank_as_null("audit", frame, frame["id"])
    extra.append(issue("audit", "unknown_origin", "origin", frame.loc[unknown, "id"],
                       "counted after replay as backfill, never as logged"))
    bad_inserted = frame["inserted_at"].isna() & _optional(raw, "inserted_at").notna()
    extra.append(issue("audit", "unparseable_timestamp", "inserted_at", frame.loc[bad_inserted, "id"],
                       "row kept; replay latency unknown for it"))
    return _finish("audit", frame, raw, "created_at", ("action", "tenant", "operator"), extra)


def _origins(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Each row's origin (trimmed, lower case; NULL or blank is live) and which rows named one we do not know —
    an origin we do not know is not evidence of a live write: counted, and treated as backfill. Worked out once
    per distinct value (a handful), then given to every row by its code."""
    codes, distinct = pd.factorize(raw, use_na_sentinel=True)
    texts = pd.Series(np.asarray(distinct, dtype=object), dtype=TEXT_DTYPE).tolist()
    unknown = np.array([origin_unknown(t) for t in texts], dtype=bool)
    names = tuple(str(origin_of(t)) for t in texts) + (str(NULL_ORIGIN),)  # the last: a NULL origin
    codes = np.where(codes < 0, len(names) - 1, codes)
    return compact_labels(codes, names).set_axis(raw.index), np.append(unknown, False)[codes]


REPETITIVE_COLUMNS = frozenset({"operation", "action", "route", "restaurant_id", "user_id", "origin"})
"""Store columns of few distinct values: read dictionary-encoded, held as compact text."""

BLANK_IS_NULL = ("route", "target", "request_id")
"""Keys where an empty or blank text (common after MySQL or CSV loads) means no value: two blank request
ids are not the same request, and a blank target is no target."""


def blank_as_null(source: str, frame: pd.DataFrame, labels: pd.Series) -> list[DataIssue | None]:
    """Blank ``BLANK_IS_NULL`` values of ``frame`` become missing, in place; counted per column, the rows
    named by ``labels`` (ids, or log positions)."""
    found: list[DataIssue | None] = []
    for name in BLANK_IS_NULL:
        values = frame[name]
        blank = blank_text(values) & values.notna().to_numpy(dtype=bool)  # what strip() == "" says, no copy
        if blank.any():
            frame[name] = values.mask(blank)
            if is_compact(frame[name]):
                frame[name] = frame[name].cat.remove_unused_categories()
            found.append(issue(source, "blank_value", name, labels[blank].fillna("<null id>"),
                               "read as NULL: a blank value is no value (never equal to another blank)"))
    return found


_TEXT_COLUMNS = ("id", "operation", "action", "route", "restaurant_id", "user_id", "target", "request_id", "origin")


def undecodable_text(source: str, raw: pd.DataFrame, labels: pd.Series) -> list[DataIssue | None]:
    """Text the store gave as bytes that are not UTF-8 (e.g. one bad SQLite value): counted per column,
    rows named; :func:`as_text` replaces the bad bytes with U+FFFD and the row is kept."""
    found: list[DataIssue | None] = []
    for name in _TEXT_COLUMNS:
        if name in raw.columns and raw[name].dtype == object:
            bad = raw[name].map(_not_utf8).to_numpy(dtype=bool)
            if bad.any():
                found.append(issue(source, "invalid_utf8", name, labels[bad].fillna("<null id>"),
                                   "bytes that are not UTF-8 replaced by U+FFFD; row kept"))
    return found


def _not_utf8(value: object) -> bool:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        return False
    try:
        bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _finish(
    source: str,
    frame: pd.DataFrame,
    raw: pd.DataFrame,
    time_field: str,
    key_fields: tuple[str, ...],
    extra: list[DataIssue | None] | None = None,
) -> Canonical:
    issues = list(extra or [])
    raw_time = raw[time_field]
    no_time = frame[time_field].isna()
    null_time = no_time & raw_time.isna()
    bad_time = no_time & raw_time.notna()

    def ids(mask: pd.Series) -> list[str]:
        return frame["id"][mask].fillna("<null id>").tolist() if mask.any() else []

    issues.append(issue(source, "null_value", time_field, ids(null_time),
                        "excluded from matching and listed as rejected"))
    issues.append(issue(source, "unparseable_timestamp", time_field, ids(bad_time),
                        "excluded from matching and listed as rejected"))
    for name in ("id",) + key_fields:
        nulls = frame[name].isna() & ~no_time
        issues.append(issue(source, "null_value", name, ids(nulls),
                            "kept; matched only against rows with the same missing key"))
    dup = repeated(frame["id"])
    issues.append(issue(source, "duplicate_id", "id", pd.unique(frame.loc[dup, "id"]) if dup.any() else [],
                        "each row kept and reconciled separately"))
    rejected = pd.DataFrame({c: expanded(raw[c][no_time]) for c in raw.columns}).copy()
    rejected.insert(0, "reason", np.where(null_time[no_time], f"null {time_field}", f"unparseable {time_field}"))
    kept = frame[~no_time].reset_index(drop=True) if no_time.any() else frame
    return Canonical(kept, rejected.reset_index(drop=True), tuple(i for i in issues if i is not None))
