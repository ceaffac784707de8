"""How the product writes numbers and times for people and files: ISO-8601 UTC text, percentages, durations, and
short config values in messages. One function per form, so the CLI, the web app and the pack agree."""

from __future__ import annotations

import math
from datetime import timezone
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evidence_app.columns.text import TEXT_DTYPE

__all__ = ["count", "day_runs", "duration", "iso_utc", "iso_utc_column", "iso_utc_text", "percent", "shown",
           "timestamp"]

MISSING = "—"
"""What a figure reads when there was nothing to measure (never a made-up 0)."""


def percent(ratio: float | None, places: int = 2) -> str:
    """A ratio 0..1 as a percentage with ``places`` decimals (``0.9731`` → ``97.31%``); "—" for None or NaN."""
    if ratio is None or pd.isna(ratio):
        return MISSING
    return f"{ratio * 100:.{places}f}%"


_MINUTE, _HOUR, _DAY = 60, 3600, 86_400
_SCALES = ((_MINUTE, 1), (_HOUR, 1), (_DAY, _MINUTE), (math.inf, _HOUR))
"""(below this many seconds, count whole steps of this size): seconds below an hour, minutes below a day, then
days and hours ("38 days 15 h", never "927.3 h")."""


def duration(seconds: float | None) -> str:
    """A length of time as people say it: ``45 s``, ``4 min 5 s``, ``3 h 12 min``, ``2 days 5 h``, ``38 days 15 h``.

    At most two units; whole units elapsed, as a clock or an age counts them (truncated: 59.9 s reads ``59 s``,
    274.53 days ``274 days 12 h``); a non-zero time under a second reads ``< 1 s``; None or NaN "—"; a negative time gets
    a minus sign."""
    if seconds is None or pd.isna(seconds):
        return MISSING
    if seconds < 0:
        return "−" + duration(-seconds)
    if 0 < seconds < 1:
        return "< 1 s"
    below, step = next(scale for scale in _SCALES if seconds < scale[0])
    return _spelled(int(seconds // step) * step)


def _spelled(whole: int) -> str:
    """Whole seconds (already truncated to the unit shown) as at most two units, the smaller one left out when 0."""
    for unit, name, small, small_name in ((_DAY, "day", _HOUR, "h"), (_HOUR, "h", _MINUTE, "min"),
                                          (_MINUTE, "min", 1, "s")):
        if whole >= unit:
            big, rest = divmod(whole, unit)
            head = f"{big:,} {name}{'s' if name == 'day' and big != 1 else ''}"
            return head + (f" {rest // small} {small_name}" if rest else "")
    return f"{whole} s"


def count(n: int | None) -> str:
    """A count with thousands separators (``12,345``); "—" when nothing was counted."""
    if n is None or pd.isna(n):
        return MISSING
    return f"{int(n):,}"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun agreeing: ``1 gap``, ``2 gaps``, ``12,345 operators`` (``plural`` when not noun + s)."""
    return f"{count(n)} {noun if n == 1 else (plural or noun + 's')}"


def timestamp(ts: Any) -> str:
    """A moment for people: UTC, to the second, labelled (``2026-09-17 10:15:34 UTC``); "—" when missing. A time
    without a zone is taken as UTC; sub-second digits are dropped (truncated, as a clock shows them)."""
    if ts is None:
        return MISSING
    try:
        value = pd.Timestamp(ts)
    except (ValueError, TypeError, OverflowError):
        return str(ts)
    if pd.isna(value):
        return MISSING
    value = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
    return value.strftime("%Y-%m-%d %H:%M:%S") + " UTC"


def day_runs(days: Any) -> list[tuple[Any, Any]]:
    """Consecutive calendar days as (first, last) runs, in order (``[07-01, 07-02, 07-05]`` → two runs)."""
    runs: list[list] = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(a, b) for a, b in runs]


def shown(value: Any) -> str:
    """A config value for a message, short (a huge number is not spelled out)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit number"
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def iso_utc(ts: pd.Timestamp) -> str | None:
    """``2026-10-01T12:00:00Z`` (microseconds only when present)."""
    if ts is None or pd.isna(ts):
        return None
    if ts.tzinfo is not None:
        ts = ts.astimezone(timezone.utc)  # the "Z" promises UTC, whatever zone the value was held in
    text = ts.strftime("%Y-%m-%dT%H:%M:%S")
    if ts.microsecond:
        text += f".{ts.microsecond:06d}"
    return text + "Z"


def iso_utc_column(values: pd.Series) -> pd.Series:
    """:func:`iso_utc` of every value (object column, None for missing), computed at once (see
    :func:`iso_utc_text`)."""
    return iso_utc_text(values).astype(object).where(lambda v: v.notna(), None)


def iso_utc_text(values: pd.Series) -> pd.Series:
    """:func:`iso_utc` of every value as Arrow text (missing: NaN), made in NumPy and Arrow for UTC datetime
    columns (a million timestamps without a Python string); years before 1000, rare, and other columns value by
    value."""
    if not isinstance(values.dtype, pd.DatetimeTZDtype) or values.empty:
        return _iso_utc_each(values)
    values = values.dt.tz_convert("UTC")
    us = values.astype("datetime64[us, UTC]").dt.tz_localize(None).to_numpy()
    missing = np.isnat(us)
    present = us[~missing]
    if len(present) and present.min() < np.datetime64("1000-01-01T00:00:00", "us"):
        return _iso_utc_each(values)
    if len(present) and present.max() >= np.datetime64("10000-01-01T00:00:00", "us"):
        text = _iso_joined(us, missing)  # five-digit years: NumPy's own text
    else:
        text = _iso_bytes(us.astype(np.int64), missing)
    return pd.Series(pd.arrays.ArrowStringArray(text, dtype=TEXT_DTYPE), index=values.index)


def _iso_joined(us: np.ndarray, missing: np.ndarray) -> pa.Array:
    """ISO text from NumPy's datetime strings and Arrow joins (any year NumPy holds)."""
    seconds = pa.array(np.datetime_as_string(us, unit="s"), type=pa.large_string(), mask=missing)
    fraction = us.astype(np.int64) % 1_000_000  # floor: the microsecond field, before 1970 too
    micro = pc.utf8_lpad(pc.cast(pa.array(fraction), pa.large_string()), 6, "0")
    dot, z, nothing = (pa.scalar(t, pa.large_string()) for t in (".", "Z", ""))
    text = pc.if_else(pa.array(fraction != 0), pc.binary_join_element_wise(seconds, micro, dot), seconds)
    return pc.binary_join_element_wise(text, z, nothing)


_ISO_WIDE = 27
"""``YYYY-MM-DDTHH:MM:SS.ffffffZ``; without microseconds the first 19 characters and ``Z`` (20)."""


def _iso_bytes(us: np.ndarray, missing: np.ndarray) -> pa.Array:
    """The ISO text of microseconds since the epoch (years 1000–9999), written digit by digit into one byte
    buffer: a few whole-column integer operations instead of a string per value."""
    seconds = us // 1_000_000  # floor: the microsecond field counts up from the second, before 1970 too
    fraction = us - seconds * 1_000_000
    days = seconds // 86_400
    clock = seconds - days * 86_400
    year, month, day = _civil(days)
    buf = np.empty((len(us), _ISO_WIDE), dtype=np.uint8)
    for start, width, field in ((0, 4, year), (5, 2, month), (8, 2, day), (11, 2, clock // 3600),
                                (14, 2, clock // 60 % 60), (17, 2, clock % 60), (20, 6, fraction)):
        for k in range(width):
            buf[:, start + width - 1 - k] = 48 + field // 10**k % 10
    for at, char in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (26, "Z")):
        buf[:, at] = ord(char)
    buf[:, 19] = np.where(fraction != 0, ord("."), ord("Z"))
    lengths = np.where(missing, 0, np.where(fraction != 0, _ISO_WIDE, 20))
    offsets = np.zeros(len(us) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = buf[np.arange(_ISO_WIDE) < lengths[:, None]]  # each row's first `length` bytes, rows in order
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    return pa.Array.from_buffers(pa.large_string(), len(us), [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                 null_count=int(missing.sum()))


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proleptic Gregorian (year, month, day) of days since 1970-01-01 (H. Hinnant's days_from_civil, inverted)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def _iso_utc_each(values: pd.Series) -> pd.Series:
    return pd.Series(values.map(iso_utc).astype(object).to_numpy(), index=values.index, dtype=TEXT_DTYPE)
