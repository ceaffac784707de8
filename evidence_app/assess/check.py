"""The monitoring check: the summary's figures against thresholds → ok, or the breaches (for cron and CI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from evidence_app.assess.summary import Summary
from evidence_app.config.monitoring import CheckConfig
from evidence_app.formatting import iso_utc
from evidence_app.reconcile import Period
from evidence_app.reconcile.rules import OpState, ReplayState

LIMITS = ("min_coverage_after_replay", "min_coverage_logged", "max_pending_age", "max_silent_after_fix",
         "max_unprovable", "max_inaccurate", "fail_on_unconfirmed")
"""Every limit of the check, in the order breaches are listed (named like their ``[check]`` keys; the reconciliation
rules are ``reconcile/rules.py``, the control checks ``assess/controls.py``)."""


@dataclass(frozen=True)
class Breach:
    """One threshold the figures broke."""

    rule: str
    """One of :data:`LIMITS` (the JSON contract calls it ``rule``)."""
    value: float | int
    """The figure measured."""
    limit: float | int
    """The threshold it broke (``fail_on_unconfirmed``: 0 unconfirmed replays allowed)."""


@dataclass(frozen=True)
class NotApplicable:
    """A limit that is set but had nothing to test (its figure's population is empty): not a breach, but stated."""

    rule: str
    """One of :data:`LIMITS`."""
    reason: str
    """Why nothing was tested ("no operations in the period and scope")."""


@dataclass(frozen=True)
class CheckResult:
    """What ``evidence-app check`` reports (its JSON contract) and posts to a webhook."""

    period: Period
    as_of: datetime
    """The moment ages were measured and fix times judged at."""
    breaches: tuple[Breach, ...]
    figures: dict[str, float | int | None]
    """The figures the limits look at, whether or not a threshold is set for them."""
    not_applicable: tuple[NotApplicable, ...] = ()
    """Limits set but untested (an empty population): they break nothing and are listed, never silently passed."""

    @property
    def ok(self) -> bool:
        return not self.breaches

    def as_json(self) -> dict:
        """``{"ok", "period": [start, end], "as_of", "breaches": [{"rule", "value", "limit"}], "figures"}``."""
        return {
            "ok": self.ok,
            "period": [_day(self.period.start), _day(self.period.end)],
            "as_of": iso_utc(pd.Timestamp(self.as_of)),
            "breaches": [{"rule": b.rule, "value": b.value, "limit": b.limit} for b in self.breaches],
            "figures": dict(self.figures),
            "not_applicable": [{"rule": n.rule, "reason": n.reason} for n in self.not_applicable],
        }

    def text(self, organisation: str = "") -> str:
        """One line for a chat message: who, which period, ok or each breach."""
        who = f"{organisation}: " if organisation else ""
        period = f"{_day(self.period.start) or '…'} – {_day(self.period.end) or '…'}"
        untested = "".join(f"; not applicable: {n.rule} ({n.reason})" for n in self.not_applicable)
        if self.ok:
            return f"{who}evidence-app check OK for {period} (as of {iso_utc(pd.Timestamp(self.as_of))}){untested}"
        broken = "; ".join(f"{b.rule}: {_show(b.value)} (limit {_show(b.limit)})" for b in self.breaches)
        return f"{who}evidence-app check FAILED for {period}: {len(self.breaches)} breach(es) — {broken}{untested}"


def figures(summary: Summary) -> dict[str, float | int | None]:
    """The figures the limits look at, from the summary (computed once, by the core)."""
    t = summary.totals
    return {
        "coverage_after_replay": t.coverage_after_replay,
        "coverage_logged": t.coverage_logged,
        "oldest_pending_age_seconds": summary.replay.oldest_pending_age_seconds,
        "missing_silent_after_fix": summary.silent_after_fix,
        OpState.MISSING_UNPROVABLE: t.missing_unprovable,
        "inaccurate": summary.inaccurate,
        ReplayState.UNCONFIRMED: summary.replay.states[ReplayState.UNCONFIRMED],
    }


def evaluate_check(summary: Summary, limits: CheckConfig, period: Period, as_of: datetime) -> CheckResult:
    """Every limit with a threshold, in :data:`LIMITS` order. Coverage breaks a minimum only when something was
    expected (an empty period is not an outage of the audit trail); a missing pending age breaks nothing. A limit
    left untested so is not a failure, but it is stated (:attr:`CheckResult.not_applicable`), never a silent pass."""
    f = figures(summary)
    found = [
        _below("min_coverage_after_replay", f["coverage_after_replay"], limits.min_coverage_after_replay),
        _below("min_coverage_logged", f["coverage_logged"], limits.min_coverage_logged),
        _above("max_pending_age", f["oldest_pending_age_seconds"], limits.max_pending_age),
        _above("max_silent_after_fix", f["missing_silent_after_fix"], limits.max_silent_after_fix),
        _above("max_unprovable", f[OpState.MISSING_UNPROVABLE], limits.max_unprovable),
        _above("max_inaccurate", f["inaccurate"], limits.max_inaccurate),
        _above("fail_on_unconfirmed", f[ReplayState.UNCONFIRMED], 0 if limits.fail_on_unconfirmed else None),
    ]
    return CheckResult(period, as_of, tuple(b for b in found if b is not None), f, _untested(summary, limits))


def untested_reasons(summary: Summary) -> dict[str, str]:
    """Each limit of :data:`LIMITS` whose test population is empty in ``summary``, with the reason (the population:
    operations; pending failure events; operations after their route's fix; missing operations the logs could
    trace; failure events)."""
    no_ops = "no operations in the period and scope"
    empty = {
        "min_coverage_after_replay": no_ops if summary.totals.expected == 0 else None,
        "min_coverage_logged": no_ops if summary.totals.expected == 0 else None,
        "max_pending_age": "no pending failure event" if summary.replay.oldest_pending_age_seconds is None else None,
        "max_silent_after_fix": ("no fix in force in the period: no operation at or after its route's fix time"
                                 if summary.remediation.after_fix_operations == 0 else None),
        "max_unprovable": ("the Worker logs hold failure events only ([worker_logs] traces = \"failures\"): no "
                           "operation can be told unprovable" if not summary.traces_every_invocation else None),
        "max_inaccurate": no_ops if summary.totals.expected == 0 else None,
        "fail_on_unconfirmed": ("no failure events in the period"
                                if sum(summary.replay.states.values()) == 0 else None),
    }
    return {rule: reason for rule, reason in empty.items() if reason is not None}


def _untested(summary: Summary, limits: CheckConfig) -> tuple[NotApplicable, ...]:
    """Every limit set (in :data:`LIMITS` order) whose population is empty: not applicable, with the reason."""
    reasons = untested_reasons(summary)
    set_ = {"fail_on_unconfirmed": limits.fail_on_unconfirmed or None}
    return tuple(NotApplicable(rule, reasons[rule]) for rule in LIMITS
                 if rule in reasons and set_.get(rule, getattr(limits, rule)) is not None)


def _below(limit: str, value: float | None, minimum: float | None) -> Breach | None:
    return Breach(limit, value, minimum) if value is not None and minimum is not None and value < minimum else None


def _above(limit: str, value: float | int | None, maximum: float | int | None) -> Breach | None:
    return Breach(limit, value, maximum) if value is not None and maximum is not None and value > maximum else None


def _day(day: object) -> str | None:
    return None if day is None else str(day)


def _show(value: float | int) -> str:
    return f"{value:.4f}" if isinstance(value, float) and value < 1 else f"{value:g}"
