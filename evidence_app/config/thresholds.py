"""Thresholds as frozen typed settings, each field read and bounded by one :class:`Limit` (validation only).

Both threshold sections of evidence.toml are read here the same way: ``[check]`` (:class:`CheckConfig` in
``monitoring.py``) and ``[controls]`` (:class:`ControlThresholds`). A field's limit sits in its metadata, next to
its default and its docstring, so a key's type, range and meaning are written once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping, TypeVar

from evidence_app.errors import ConfigError
from evidence_app.formatting import percent, shown

T = TypeVar("T")


@dataclass(frozen=True)
class Limit:
    """What one threshold key accepts: its kind and the range it must lie in (NaN and ±inf are never inside)."""

    kind: type
    """float (an int is accepted), int (a whole number, never a bool), bool, str (non-blank) or tuple (of action
    names)."""
    words: str
    """What it must be, for the error message ("a ratio between 0 and 1")."""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    """The low end is excluded (``low < value``)."""
    high_open: bool = False
    optional: bool = False
    """None (the key left out of a section whose default is None) means "not checked"."""
    unit: str = ""
    """How the value is shown in signed text: "share" (a percentage), "s", "h", or "" (as is)."""

    def read(self, key: str, value: Any) -> Any:
        """``value`` checked and converted to the field's type; a ConfigError naming ``key`` otherwise."""
        if value is None and self.optional:
            return None
        if not self._kind_fits(value) or not self._inside(value):
            raise ConfigError(f"{key}: must be {self.words}, got {shown(value)}")
        if self.kind is float:
            return float(value)
        return tuple(value) if self.kind is tuple else value

    def show(self, value: Any) -> str:
        """The value as signed text states it."""
        if self.unit == "share":
            return percent(value)
        if self.unit in ("s", "h"):
            return f"{value:g} {self.unit}"
        if self.kind is tuple:
            return ", ".join(value) or "none"
        return str(value)

    def _kind_fits(self, value: Any) -> bool:
        if self.kind is bool:
            return isinstance(value, bool)
        if self.kind is tuple:
            return isinstance(value, (list, tuple)) and all(isinstance(v, str) and v.strip() for v in value)
        if self.kind is str:
            return isinstance(value, str) and bool(value.strip())
        number = isinstance(value, int) or (self.kind is float and isinstance(value, float))
        return number and not isinstance(value, bool)

    def _inside(self, value: Any) -> bool:
        if self.kind not in (int, float):
            return True
        if isinstance(value, float) and not math.isfinite(value):  # NaN or ±inf: never a threshold
            return False
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below


def limit_of(cls: type, name: str) -> Limit:
    """The :class:`Limit` of field ``name`` of a threshold dataclass."""
    return next(f.metadata["limit"] for f in fields(cls) if f.name == name)


def read_section(cls: type[T], section: Mapping[str, Any], where: str) -> T:
    """A ``[where]`` section → ``cls`` (a frozen dataclass whose fields carry a Limit): keys left out keep their
    defaults; an unknown key or a value outside its limit is a ConfigError naming ``where.key``."""
    known = {f.name: f.metadata["limit"] for f in fields(cls)}
    for key in section:
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(known))})")
    return replace(cls(), **{k: known[k].read(f"{where}.{k}", v) for k, v in section.items()})


def threshold(default: Any, limit: Limit) -> Any:
    """A dataclass field with its default and its limit."""
    return field(default=default, metadata={"limit": limit})


SHARE = Limit(float, "a ratio from 0 to 1", low=0.0, high=1.0, unit="share")
OPEN_SHARE = Limit(float, "a ratio between 0 and 1 (exclusive)", low=0.0, high=1.0, low_open=True, high_open=True,
                   unit="share")
MAX_COUNT = 10**12
"""The largest count a threshold may name: a larger one would switch its check off in effect."""
COUNT = Limit(int, f"a whole number from 0 to {MAX_COUNT:,}", low=0, high=MAX_COUNT)
ACTIONS = Limit(tuple, "a list of action names")


@dataclass(frozen=True)
class ControlThresholds:
    """The thresholds of the control checks (``[controls]`` overrides each; the defaults are these)."""

    coverage_met_at: float = threshold(1.0, SHARE)
    """Coverage after replay from which a coverage control is met."""
    coverage_exceptions_at: float = threshold(0.95, SHARE)
    """…from which it is met with exceptions."""
    silent_share_met_at: float = threshold(0.0, SHARE)
    """Share of the missing operations that were silent drops up to which monitoring is met."""
    silent_share_exceptions_at: float = threshold(0.5, SHARE)
    """…up to which it is met with exceptions."""
    clock_p95_met_seconds: float = threshold(5.0, Limit(float, "a number from 0 to 1e+09", 0.0, 1e9, unit="s"))
    """95th percentile of |audit time − operation time| up to which clock synchronisation is met."""
    clock_p95_exceptions_seconds: float = threshold(60.0, Limit(float, "a number from 0 to 1e+09", 0.0, 1e9, unit="s"))
    """…up to which it is met with exceptions."""
    pending_age_met_hours: float = threshold(24.0, Limit(float, "a number from 0 to 1e+06", 0.0, 1e6, unit="h"))
    """Age of the oldest pending failure event beyond which monitoring is only met with exceptions."""
    credential_actions: tuple[str, ...] = threshold(("staff_pin_change", "api_key_rotate"), ACTIONS)
    """The actions that change credentials (secure authentication)."""
    privileged_actions: tuple[str, ...] = threshold(
        ("staff_create", "staff_role_change", "staff_pin_change", "user_delete", "user_invite", "refund_create",
         "refund_cancel", "payment_settings_update", "tax_rate_update", "api_key_rotate", "holiday_mode_toggle"),
        ACTIONS)
    """The actions that use privileged rights (privileged access, access logging)."""
    inaccurate_met_max: int = threshold(0, COUNT)
    """Inaccurate audit rows a logging control allows and still be met."""
    incomplete_met_max: int = threshold(0, COUNT)
    """Incomplete audit rows a logging control allows and still be met."""
    silent_after_fix_met_max: int = threshold(0, COUNT)
    """Operations dropped silently after their route's fix beyond which monitoring is not met."""
    unprovable_met_max: int = threshold(0, COUNT)
    """Missing operations the logs cannot show silent or not (missing_unprovable: a lost batch, a truncated
    invocation; only with ``[worker_logs] traces = "all"``) beyond which monitoring and logging are only met with
    exceptions."""
    flag_mismatch_met_max: int = threshold(0, COUNT)
    """audit_logged flags contradicting the logs beyond which remediation is only met with exceptions."""
    replay_sla_met_at: float = threshold(1.0, SHARE)
    """Share of the failure events replayed within the SLA from which incident response is met."""
    replay_sla_exceptions_at: float = threshold(0.95, SHARE)
    """…from which it is met with exceptions."""
    sample_confidence: float = threshold(0.95, OPEN_SHARE)
    """Re-performance sample: the confidence level."""
    sample_tolerable_deviation: float = threshold(0.05, OPEN_SHARE)
    """…and the tolerable deviation rate (zero deviations expected)."""


def parse_controls(section: Mapping[str, Any]) -> ControlThresholds:
    """``[controls]`` (optional) → ControlThresholds; keys left out keep their defaults."""
    return read_section(ControlThresholds, section, "controls")
