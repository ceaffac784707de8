"""Control catalogue (data in reports/controls.toml) and the rules that decide each result."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from evidence_app.errors import ConfigError
from evidence_app.reconcile import Reconciliation, Scope, apply_scope
from evidence_app.reconcile.coverage import Totals, totals
from evidence_app.resources import control_catalogue
from evidence_app.summary import Summary

MET, EXCEPTIONS, NOT_MET = "met", "met with exceptions", "not met"


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str
    intent: str
    rule: str
    evidence: str


@dataclass(frozen=True)
class ControlResult:
    control: Control
    result: str
    figures: str
    """The numbers behind the result, in one line."""


def load_catalogue(path: Path | None = None) -> tuple[tuple[Control, ...], dict[str, Any]]:
    """The controls and the rules' default thresholds (the bundled catalogue unless ``path`` is given)."""
    data = tomllib.loads((path or control_catalogue()).read_text(encoding="utf-8"))
    return tuple(Control(**c) for c in data["control"]), dict(data["rules"])


_SHARE, _OPEN_SHARE = (0.0, 1.0, True), (0.0, 1.0, False)
_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "coverage_met_at": _SHARE, "coverage_exceptions_at": _SHARE,
    "silent_share_met_at": _SHARE, "silent_share_exceptions_at": _SHARE,
    "clock_p95_met_seconds": (0.0, 1e9, True), "clock_p95_exceptions_seconds": (0.0, 1e9, True),
    "pending_age_met_hours": (0.0, 1e6, True),
    "sample_confidence": _OPEN_SHARE, "sample_tolerable_deviation": _OPEN_SHARE,
}
"""(low, high, ends included) for each numeric threshold; a sample needs 0 < confidence, deviation < 1."""


def thresholds(overrides: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults from the catalogue, overridden by evidence.toml [controls]; unknown keys, wrong types and
    values out of range are errors naming the key."""
    merged = dict(defaults)
    for key, value in overrides.items():
        if key not in defaults:
            raise ConfigError(f"controls.{key}: unknown control setting (known: {', '.join(sorted(defaults))})")
        if type(value) is not type(defaults[key]) and not (isinstance(defaults[key], float) and isinstance(value, int)
                                                           and not isinstance(value, bool)):
            raise ConfigError(f"controls.{key}: expected {type(defaults[key]).__name__}, got {_shown(value)}")
        _check_value(key, value)
        merged[key] = value
    return merged


def _check_value(key: str, value: Any) -> None:
    if isinstance(value, list) and not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"controls.{key}: expected a list of action names")
    if key in _BOUNDS:
        low, high, closed = _BOUNDS[key]
        inside = low <= value <= high if closed else low < value < high  # NaN is never inside
        if not inside:
            ends = f"from {low:g} to {high:g}" if closed else f"between {low:g} and {high:g} (exclusive)"
            raise ConfigError(f"controls.{key}: must be a number {ends}, got {_shown(value)}")


def _shown(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a {value.bit_length()}-bit number"
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def check_controls(overrides: Mapping[str, Any]) -> None:
    """Validate ``[controls]`` against the catalogue up front, so every command refuses a bad value."""
    thresholds(overrides, load_catalogue()[1])


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.2f}%"


def _grade(value: float, met_at: float, exceptions_at: float) -> str:
    return MET if value >= met_at else EXCEPTIONS if value >= exceptions_at else NOT_MET


def _coverage_rule(totals: Totals, t: Mapping[str, Any], what: str) -> tuple[str, str]:
    if totals.expected == 0:
        return NOT_MET, f"no {what} in scope: nothing evidences the control"
    after = totals.coverage_after_replay
    figures = (f"{what}: {totals.expected:,} expected; after replay {_pct(after)}; "
               f"as logged {_pct(totals.coverage_logged)}; {totals.missing:,} missing")
    return _grade(after, t["coverage_met_at"], t["coverage_exceptions_at"]), figures


def _subset(recon: Reconciliation, actions: list[str]) -> Totals:
    return totals(apply_scope(recon, Scope(action=tuple(actions))))


def _rule_coverage(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    return _coverage_rule(s.totals, t, "operations")


def _rule_authentication(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    return _coverage_rule(_subset(recon, t["credential_actions"]), t, "credential operations")


def _rule_privileged(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    return _coverage_rule(_subset(recon, t["privileged_actions"]), t, "privileged operations")


def _rule_monitoring(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    share = s.silent_share
    age_h = (s.replay.oldest_pending_age_seconds or 0) / 3600
    figures = (f"{s.totals.missing_silent:,} of {s.totals.missing:,} missing operations left no failure "
               f"event ({_pct(share)}); oldest pending failure {age_h:.1f} h")
    if share is None:
        result = MET
    else:
        result = MET if share <= t["silent_share_met_at"] else EXCEPTIONS if share <= t["silent_share_exceptions_at"] else NOT_MET
    if result == MET and age_h > t["pending_age_met_hours"]:
        result = EXCEPTIONS
    return result, figures


def _rule_clock(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    p95 = s.clock_p95_seconds
    if p95 is None:
        return EXCEPTIONS, "no live audit rows matched: clock agreement cannot be measured"
    figures = f"p95 |audit time − operation time| = {p95:.2f} s over live matches"
    result = MET if p95 <= t["clock_p95_met_seconds"] else EXCEPTIONS if p95 <= t["clock_p95_exceptions_seconds"] else NOT_MET
    return result, figures


def _rule_evidence(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    problems = []
    if s.write_capable:
        problems.append("connected with a role that can write")
    if s.replay.skipped_log_lines:
        problems.append(f"{s.replay.skipped_log_lines} skipped log lines")
    if s.orphans or s.duplicates:
        problems.append(f"{s.orphans} orphan and {s.duplicates} duplicate audit rows")
    figures = "read-only connections; extracts hashed (SHA-256) and signed" + (f"; {'; '.join(problems)}" if problems else "")
    return (EXCEPTIONS if problems else MET), figures


def _rule_replay(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    st = s.replay.states
    total = sum(st.values())
    figures = ", ".join(f"{k} {v}" for k, v in st.items()) or "no failure events"
    if total == 0:
        return MET, "no failure events in the period"
    if st["replayed"] == 0:
        return NOT_MET, figures
    if st["abandoned"] or st["unconfirmed"]:
        return EXCEPTIONS, figures
    age_h = (s.replay.oldest_pending_age_seconds or 0) / 3600
    return (MET if age_h <= t["pending_age_met_hours"] else EXCEPTIONS), figures


RULES: dict[str, Callable[[Summary, Reconciliation, Mapping[str, Any]], tuple[str, str]]] = {
    "coverage": _rule_coverage,
    "authentication": _rule_authentication,
    "privileged": _rule_privileged,
    "monitoring": _rule_monitoring,
    "clock": _rule_clock,
    "evidence": _rule_evidence,
    "replay": _rule_replay,
}


def describe_rules(t: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    """The control rules in words with the thresholds in force; a value overridden under ``[controls]``
    says so and names the catalogue's default (signed text must state what was really applied)."""

    def v(key: str, show: Callable[[Any], str]) -> str:
        text = show(t[key])
        return text if t[key] == defaults[key] else f"{text} (set in [controls]; catalogue default {show(defaults[key])})"

    def names(values: Any) -> str:
        return ", ".join(values) or "none"

    return [
        f"Coverage controls are met when coverage after replay is at least {v('coverage_met_at', _pct)}, met with "
        f"exceptions when at least {v('coverage_exceptions_at', _pct)}, otherwise not met (also when nothing is in "
        f"scope). Authentication covers the credential actions {v('credential_actions', names)}; privileged access "
        f"covers {v('privileged_actions', names)}.",
        f"Monitoring is met when at most {v('silent_share_met_at', _pct)} of the missing operations left no failure "
        f"event, met with exceptions up to {v('silent_share_exceptions_at', _pct)}; an oldest pending failure older "
        f"than {v('pending_age_met_hours', lambda x: f'{x:g} h')} turns met into met with exceptions.",
        f"Clock synchronisation is met when the 95th percentile of |audit time − operation time| over live matches "
        f"is at most {v('clock_p95_met_seconds', lambda x: f'{x:g} s')}, met with exceptions up to "
        f"{v('clock_p95_exceptions_seconds', lambda x: f'{x:g} s')}.",
        "Replay is met when every failure event is replayed and none pends longer than the pending-age limit; "
        "abandoned or unconfirmed replays make it met with exceptions; none replayed makes it not met. Evidence "
        "collection requires read-only access without a write-capable role, no skipped log lines and no orphan or "
        "duplicate rows, else it is met with exceptions.",
        f"The re-performance sample is sized for confidence {v('sample_confidence', _pct)} and tolerable deviation "
        f"{v('sample_tolerable_deviation', _pct)}.",
    ]


def evaluate_controls(summary: Summary, recon: Reconciliation, overrides: Mapping[str, Any]) -> list[ControlResult]:
    """Every catalogue control with its result and the figures behind it."""
    catalogue, defaults = load_catalogue()
    t = thresholds(overrides, defaults)
    results = []
    for control in catalogue:
        result, figures = RULES[control.rule](summary, recon, t)
        results.append(ControlResult(control, result, figures))
    return results
