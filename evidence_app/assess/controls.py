"""Control catalogue (data in reports/controls.toml) and the rules that decide each result."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from evidence_app.assess.summary import Summary
from evidence_app.errors import ConfigError
from evidence_app.formatting import duration
from evidence_app.formatting import percent as _pct
from evidence_app.formatting import shown as _shown
from evidence_app.reconcile import Reconciliation, Scope
from evidence_app.reconcile.coverage import Totals, totals
from evidence_app.resources import control_catalogue

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


def check_controls(overrides: Mapping[str, Any]) -> None:
    """Validate ``[controls]`` against the catalogue up front, so every command refuses a bad value."""
    thresholds(overrides, load_catalogue()[1])


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
    """Totals of the operations with one of ``actions`` (only their states are needed, so only those are copied)."""
    ops = recon.operations
    picked = ops.loc[Scope(action=tuple(actions)).mask(ops).to_numpy(), ["state"]] if len(ops) else ops
    return totals(replace(recon, operations=picked))


def _rule_coverage(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    return _coverage_rule(s.totals, t, "operations")


def _accuracy(inaccurate: int, incomplete: int, result: str, figures: str, t: Mapping[str, Any]) -> tuple[str, str]:
    """Inaccurate or incomplete rows beyond their limits are a finding even at full coverage: met becomes met
    with exceptions."""
    figures += f"; {inaccurate:,} inaccurate and {incomplete:,} incomplete audit rows"
    if result == MET and (inaccurate > t["inaccurate_met_max"] or incomplete > t["incomplete_met_max"]):
        result = EXCEPTIONS
    return result, figures


def _row_findings(recon: Reconciliation, actions: list[str]) -> tuple[int, int]:
    """(inaccurate, incomplete) rows among those with one of ``actions``."""
    rows = recon.rows[recon.rows["action"].isin(actions)]
    return int(rows["inaccurate"].notna().sum()), int(rows["incomplete"].notna().sum())


def _rule_logging(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    return _accuracy(s.inaccurate, s.incomplete, *_coverage_rule(s.totals, t, "operations"), t)


def _rule_access_logging(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    actions = t["privileged_actions"]
    return _accuracy(*_row_findings(recon, actions), *_coverage_rule(_subset(recon, actions), t,
                                                                    "privileged operations"), t)


def _rule_authentication(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    return _coverage_rule(_subset(recon, t["credential_actions"]), t, "credential operations")


def _rule_privileged(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    return _coverage_rule(_subset(recon, t["privileged_actions"]), t, "privileged operations")


def _rule_monitoring(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    share = s.silent_share
    age_h = (s.replay.oldest_pending_age_seconds or 0) / 3600
    figures = (f"{s.totals.missing_silent:,} of {s.totals.missing:,} missing operations left no failure "
               f"event ({_pct(share)}); oldest pending failure {duration(s.replay.oldest_pending_age_seconds or 0)}")
    if share is None:
        result = MET
    else:
        result = MET if share <= t["silent_share_met_at"] else EXCEPTIONS if share <= t["silent_share_exceptions_at"] else NOT_MET
    if result == MET and age_h > t["pending_age_met_hours"]:
        result = EXCEPTIONS
    after = s.silent_after_fix
    figures += f"; {after:,} dropped silently after their route's fix"
    if after > t["silent_after_fix_met_max"]:
        result = NOT_MET
    return result, figures


def _rule_remediation(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    table = s.remediation
    if table is None or table.empty:
        return NOT_MET, "no routes in scope: nothing evidences the remediation"
    counts = {status: s.routes_with_status(status) for status in ("swept", "not_swept", "unknown")}
    mismatches = int(table["audit_logged_false_without_failure_event"].sum()
                     + table["audit_logged_true_not_logged"].sum())
    figures = (f"{len(table)} routes: {counts['swept']} swept, {counts['not_swept']} not swept, {counts['unknown']} "
               f"unknown; {s.silent_after_fix:,} dropped silently after the fix; {mismatches:,} audit_logged flags "
               "contradicting the logs")
    if counts["not_swept"]:
        return NOT_MET, figures
    if counts["unknown"] or mismatches > t["flag_mismatch_met_max"]:
        return EXCEPTIONS, figures
    return MET, figures


def _rule_incident_response(s: Summary, recon: Reconciliation, t: Mapping[str, Any]) -> tuple[str, str]:
    failures, within = s.failures_in_period, s.replayed_within_sla
    if failures == 0:
        return MET, "no failure events in the period: nothing to respond to"
    sla = int(s.remediation["replay_sla_seconds"].iloc[0])
    figures = f"{within:,} of {failures:,} failure events replayed within the SLA of {sla:,} s ({_pct(within / failures)})"
    return _grade(within / failures, t["replay_sla_met_at"], t["replay_sla_exceptions_at"]), figures


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
    "logging": _rule_logging,
    "access_logging": _rule_access_logging,
    "remediation": _rule_remediation,
    "incident_response": _rule_incident_response,
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
        f"Logging (and privileged-access logging) adds accuracy to coverage: more than "
        f"{v('inaccurate_met_max', str)} inaccurate or {v('incomplete_met_max', str)} incomplete audit rows turn met into "
        f"met with exceptions. Monitoring is not met when more than {v('silent_after_fix_met_max', str)} operations were "
        "dropped silently after their route's fix time.",
        "Remediation is not met when any route is not swept, met with exceptions when a route's fix is not evidenced "
        f"(unknown) or more than {v('flag_mismatch_met_max', str)} audit_logged flags contradict the logs (false without a "
        f"failure event, true without a live row). Incident response is met when at least "
        f"{v('replay_sla_met_at', _pct)} of the failure events were replayed within the SLA, met with exceptions from "
        f"{v('replay_sla_exceptions_at', _pct)}.",
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
