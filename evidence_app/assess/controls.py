"""Control catalogue (data in reports/controls.toml) and the control checks that decide each verdict.

A control check is one definition: a ``measure`` function giving the figures, and clauses (data) comparing them
with the thresholds in force. The verdict is the first clause that holds; the methodology sentence is written
from the same clauses, so the signed text cannot say more, or other, than the code does.
"""

from __future__ import annotations

import operator
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from evidence_app.assess.summary import Summary
from evidence_app.config.thresholds import ControlThresholds, limit_of, parse_controls
from evidence_app.display import check_name
from evidence_app.formatting import duration, percent
from evidence_app.reconcile import Reconciliation, Scope
from evidence_app.reconcile.coverage import Totals, totals
from evidence_app.reconcile.rules import (
    COVERED_STATES,
    OPEN_REPLAY_STATES,
    OpState,
    ReplayState,
    RouteStatus,
    Verdict,
)
from evidence_app.resources import control_catalogue

MET, EXCEPTIONS, NOT_MET, NOT_APPLICABLE = Verdict.MET, Verdict.EXCEPTIONS, Verdict.NOT_MET, Verdict.NOT_APPLICABLE
"""The verdicts by their short names (defined once, in :class:`evidence_app.reconcile.rules.Verdict`)."""


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str
    intent: str
    check: str
    """The name of its :data:`CHECKS` entry."""
    evidence: str


@dataclass(frozen=True)
class ControlResult:
    control: Control
    result: str
    figures: str
    """The numbers behind the result, in one line (for ``not applicable``: why nothing was tested)."""
    values: Mapping[str, float | int | None] = field(default_factory=dict)
    """The same numbers by the check's figure names, as its clauses compared them (OSCAL observations read them)."""
    population: str = ""
    """What the check tested, counted ("2,704 operations", "0 failure events", "23 routes")."""

    @property
    def applicable(self) -> bool:
        """Whether the check had anything to test (``not applicable`` claims nothing, in either direction)."""
        return self.result != Verdict.NOT_APPLICABLE


def load_catalogue(path: Path | None = None) -> tuple[tuple[Control, ...], dict[str, Any]]:
    """The controls (the bundled catalogue unless ``path`` is given) and the checks' default thresholds by key."""
    data = tomllib.loads((path or control_catalogue()).read_text(encoding="utf-8"))
    defaults = ControlThresholds()
    return tuple(Control(**c) for c in data["control"]), {f.name: getattr(defaults, f.name) for f in fields(defaults)}


def check_controls(overrides: Mapping[str, Any]) -> None:
    """Validate ``[controls]`` up front, so every command refuses a bad value."""
    parse_controls(overrides)


# ------------------------------------------------------------------ the structure of a check

_OPS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    ">=": (operator.ge, "at least"), "<=": (operator.le, "at most"), ">": (operator.gt, "more than"),
    "==": (operator.eq, "exactly"),
}
"""Comparison → (its test, its words)."""


@dataclass(frozen=True)
class Test:
    """One figure compared with a threshold of :class:`ControlThresholds` (by field name) or a fixed number;
    ``op`` "unmeasured" holds when the figure could not be measured."""

    figure: str
    op: str
    limit: str | int = 0

    def holds(self, value: float | int | None, t: ControlThresholds) -> bool:
        if self.op == "unmeasured":
            return value is None
        return value is not None and _OPS[self.op][0](value, self._limit(t))

    def words(self, t: ControlThresholds) -> str:
        """The comparison in words with the limit in force ("at least 95.00%")."""
        if self.op == "unmeasured":
            return "not measurable"
        if isinstance(self.limit, int) and self.limit == 0 and self.op in ("==", ">"):
            return "no" if self.op == "==" else "one or more"
        return f"{_OPS[self.op][1]} {_shown(self.limit, t)}"

    def _limit(self, t: ControlThresholds) -> float | int:
        return getattr(t, self.limit) if isinstance(self.limit, str) else self.limit


@dataclass(frozen=True)
class Clause:
    """``verdict`` when every test holds."""

    verdict: str
    tests: tuple[Test, ...]


@dataclass(frozen=True)
class Measured:
    """What a check measured: the figures its tests compare, and the line the pack prints."""

    values: Mapping[str, float | int | None]
    line: str
    population: str = ""
    """The test population, counted ("2,704 operations"): stated beside every verdict."""


Measure = Callable[[Summary, Reconciliation, ControlThresholds], Measured]


@dataclass(frozen=True)
class ControlCheck:
    """One control check: its measure, its clauses in order (the first that holds decides) and its verdict when
    none holds; ``figures`` says each figure in words, ``{cmp}`` standing for the comparison."""

    subject: str
    measure: Measure
    figures: Mapping[str, str]
    clauses: tuple[Clause, ...]
    otherwise: str
    scope: str | None = None
    """A threshold naming the actions the check counts (stated in its sentence)."""

    def verdict(self, measured: Measured, t: ControlThresholds) -> str:
        for clause in self.clauses:
            if all(test.holds(measured.values[test.figure], t) for test in clause.tests):
                return clause.verdict
        return self.otherwise

    def sentence(self, t: ControlThresholds) -> str:
        """The check in words with the thresholds in force (an overridden one names the default)."""
        subject = self.subject if self.scope is None else f"{self.subject} (actions {_shown(self.scope, t)})"
        parts, last = [], None
        for clause in self.clauses:
            said = []
            for test in clause.tests:
                template = self.figures[test.figure]
                said.append(test.words(t) if (test.figure, test.op) == last else template.format(cmp=test.words(t)))
                last = (test.figure, test.op)
            parts.append(f"{clause.verdict} when {' and '.join(said)}")
        return f"{subject} is {', '.join(parts)}, otherwise {self.otherwise} (the first that holds decides)."


def _shown(key: str | int, t: ControlThresholds) -> str:
    """A threshold as the signed text states it; overridden under [controls], it names the catalogue's default."""
    if not isinstance(key, str):
        return str(key)
    limit, value, default = limit_of(ControlThresholds, key), getattr(t, key), getattr(ControlThresholds(), key)
    text = limit.show(value)
    return text if value == default else f"{text} (set in [controls]; catalogue default {limit.show(default)})"


# ------------------------------------------------------------------ measures


def _coverage(totals_: Totals, what: str) -> Measured:
    population = f"{totals_.expected:,} {what}"
    if totals_.expected == 0:
        return Measured({"expected": 0, "after": None}, f"no {what} in the period and scope: nothing to test",
                        population)
    after = totals_.coverage_after_replay
    line = (f"{what}: {totals_.expected:,} expected; after replay {percent(after)}; "
            f"as logged {percent(totals_.coverage_logged)}; {totals_.missing:,} missing")
    return Measured({"expected": totals_.expected, "after": after}, line, population)


def _subset(recon: Reconciliation, actions: tuple[str, ...]) -> Totals:
    """Totals of the operations with one of ``actions`` (only their states are needed, so only those are copied)."""
    ops = recon.operations
    picked = ops.loc[Scope(action=tuple(actions)).mask(ops).to_numpy(), ["state"]] if len(ops) else ops
    return totals(replace(recon, operations=picked))


def _with_rows(m: Measured, inaccurate: int, incomplete: int) -> Measured:
    if not m.values["expected"]:
        return Measured({**m.values, "inaccurate": inaccurate, "incomplete": incomplete}, m.line, m.population)
    return Measured({**m.values, "inaccurate": inaccurate, "incomplete": incomplete},
                    m.line + f"; {inaccurate:,} inaccurate and {incomplete:,} incomplete audit rows", m.population)


def _row_findings(recon: Reconciliation, actions: tuple[str, ...]) -> tuple[int, int]:
    """(inaccurate, incomplete) rows among those with one of ``actions``."""
    rows = recon.rows[recon.rows["action"].isin(actions)]
    return int(rows["inaccurate"].notna().sum()), int(rows["incomplete"].notna().sum())


def _measure_coverage(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    return _coverage(s.totals, "operations")


def _measure_logging(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    return _with_unprovable(_with_rows(_coverage(s.totals, "operations"), s.inaccurate, s.incomplete), s)


def _with_unprovable(m: Measured, s: Summary) -> Measured:
    unprovable = s.totals.missing_unprovable
    if not s.totals.expected:
        return Measured({**m.values, "unprovable": unprovable}, m.line, m.population)
    return Measured({**m.values, "unprovable": unprovable},
                    m.line + f"; {unprovable:,} missing operations unprovable from the logs", m.population)


def _measure_access_logging(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    actions = t.privileged_actions
    return _with_rows(_coverage(_subset(recon, actions), "privileged operations"), *_row_findings(recon, actions))


def _measure_authentication(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    return _coverage(_subset(recon, t.credential_actions), "credential operations")


def _measure_privileged(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    return _coverage(_subset(recon, t.privileged_actions), "privileged operations")


def _measure_monitoring(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    missing, failures = s.totals.missing, sum(s.replay.states.values())
    population = f"{missing:,} missing operations, {failures:,} failure events"
    oldest = s.replay.oldest_pending_age_seconds
    if missing == 0 and failures == 0:
        return Measured({"missing": 0, "failures": 0, "share": None, "age_h": None, "after_fix": 0, "unprovable": 0},
                        "no missing operations and no failure events in the period: nothing to detect", population)
    share, after = s.silent_share, s.silent_after_fix
    line = (f"{s.totals.missing_silent:,} of {missing:,} missing operations left no failure "
            f"event ({percent(share)}); oldest pending failure {'none' if oldest is None else duration(oldest)}; "
            f"{after:,} dropped silently after their route's fix")
    # no missing operation (but failure events, all replayed): no silent drop among them (a share of 0)
    values = {"missing": missing, "failures": failures, "share": 0.0 if share is None else share,
              "age_h": None if oldest is None else oldest / 3600, "after_fix": after}
    return _with_unprovable(Measured(values, line, population), s)


def _measure_remediation(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    r = s.remediation
    population = f"{r.route_count:,} routes, {r.after_fix_operations:,} operations after their route's fix"
    if r.route_count == 0:
        return Measured({"routes": 0, **dict.fromkeys(RouteStatus, 0), "after_fix_ops": 0, "mismatches": 0},
                        "no routes known in the period and scope: nothing to test", population)
    counts = {RouteStatus.SWEPT: r.swept, RouteStatus.NOT_SWEPT: r.not_swept, RouteStatus.UNKNOWN: r.unknown}
    mismatches = r.flag_mismatches
    line = (f"{r.route_count} routes: {r.swept} swept, {r.not_swept} not swept, {r.unknown} unknown; "
            f"{s.silent_after_fix:,} dropped silently after the fix; {mismatches:,} audit_logged flags contradicting "
            "the logs")
    if r.after_fix_operations == 0 and r.not_swept == 0 and r.unknown == 0:
        line = (f"no fix in force in the period: no operation lies at or after its route's fix time "
                f"({r.silent_before_fix:,} dropped silently before it); " + line)
    return Measured({"routes": r.route_count, **counts, "after_fix_ops": r.after_fix_operations,
                     "mismatches": mismatches}, line, population)


def _measure_incident_response(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    failures, within = s.failures_in_period, s.replayed_within_sla
    population = f"{failures:,} failure events"
    if failures == 0:
        return Measured({"failures": 0, "within": None}, _no_failure_events(s, "nothing to respond to"), population)
    sla = duration(s.remediation.replay_sla_seconds)
    line = f"{within:,} of {failures:,} failure events replayed within the SLA of {sla} ({percent(within / failures)})"
    return Measured({"failures": failures, "within": within / failures}, line, population)


def _no_failure_events(s: Summary, what: str) -> str:
    """Why a check of failure events tested nothing; silent drops are named, so n/a never reads as all clear."""
    silent = s.totals.missing_silent
    dropped = f" ({silent:,} operations dropped silently left none)" if silent else ""
    return f"no failure events in the period{dropped}: {what}"


def _measure_clock(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    p95, population = s.clock_p95_seconds, f"{s.totals.logged:,} live matches"
    if p95 is None:
        return Measured({"p95": None}, "no live audit rows matched: nothing to compare", population)
    return Measured({"p95": p95}, f"p95 |audit time − operation time| = {p95:.2f} s over live matches", population)


def _measure_evidence(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    problems = []
    if s.write_capable:
        problems.append("connected with a role that can write")
    if s.replay.skipped_log_lines:
        problems.append(f"{s.replay.skipped_log_lines} skipped log lines")
    if s.orphans or s.duplicates:
        problems.append(f"{s.orphans} orphan and {s.duplicates} duplicate audit rows")
    line = "read-only connections; extracts hashed (SHA-256) and signed"
    line += f"; {'; '.join(problems)}" if problems else ""
    return Measured({"write_capable": int(s.write_capable), "skipped": s.replay.skipped_log_lines,
                     "odd_rows": s.orphans + s.duplicates}, line,
                    f"{s.source_count:,} stores, {s.log_file_count:,} log files")


def _measure_replay(s: Summary, recon: Reconciliation, t: ControlThresholds) -> Measured:
    st = s.replay.states
    total = sum(st.values())
    population = f"{total:,} failure events"
    if total == 0:
        return Measured({"failures": 0, "done": 0, "open": 0}, _no_failure_events(s, "nothing to replay"), population)
    line = ", ".join(f"{k} {v:,}" for k, v in st.items())
    return Measured({"failures": total, "done": st[ReplayState.REPLAYED],
                     "open": sum(st[k] for k in OPEN_REPLAY_STATES)}, line, population)


# ------------------------------------------------------------------ the checks

_COVERAGE_FIGURES = {"expected": "there are {cmp} operations in scope",
                     "after": f"coverage after replay (operations {', '.join(COVERED_STATES)} ÷ expected) is {{cmp}}",
                     "inaccurate": "there are {cmp} inaccurate audit rows",
                     "incomplete": "there are {cmp} incomplete audit rows"}
_NOTHING = Clause(NOT_APPLICABLE, (Test("expected", "=="),))
_COVERAGE_CLAUSES = (_NOTHING, Clause(MET, (Test("after", ">=", "coverage_met_at"),)),
                     Clause(EXCEPTIONS, (Test("after", ">=", "coverage_exceptions_at"),)))
_ACCURACY_CLAUSES = (  # inaccurate or incomplete rows beyond their limits are a finding even at full coverage
    _NOTHING,
    Clause(EXCEPTIONS, (Test("after", ">=", "coverage_met_at"), Test("inaccurate", ">", "inaccurate_met_max"))),
    Clause(EXCEPTIONS, (Test("after", ">=", "coverage_met_at"), Test("incomplete", ">", "incomplete_met_max"))),
    *_COVERAGE_CLAUSES[1:])

_UNPROVABLE_FIGURE = {"unprovable": f"{{cmp}} missing operations are unprovable from the logs "
                                    f"({OpState.MISSING_UNPROVABLE}: a lost batch or a truncated invocation)"}
_LOGGING_CLAUSES = (  # an operation the logs cannot show silent or not is a finding even at full coverage
    _NOTHING,
    Clause(EXCEPTIONS, (Test("after", ">=", "coverage_met_at"), Test("unprovable", ">", "unprovable_met_max"))),
    *_ACCURACY_CLAUSES[1:])

CHECKS: dict[str, ControlCheck] = {
    "coverage": ControlCheck(check_name("coverage"), _measure_coverage, _COVERAGE_FIGURES, _COVERAGE_CLAUSES,
                             NOT_MET),
    "logging": ControlCheck(check_name("logging"), _measure_logging, {**_COVERAGE_FIGURES, **_UNPROVABLE_FIGURE},
                            _LOGGING_CLAUSES, NOT_MET),
    "access_logging": ControlCheck(check_name("access_logging"), _measure_access_logging, _COVERAGE_FIGURES,
                                   _ACCURACY_CLAUSES, NOT_MET, scope="privileged_actions"),
    "authentication": ControlCheck(check_name("authentication"), _measure_authentication, _COVERAGE_FIGURES,
                                   _COVERAGE_CLAUSES, NOT_MET, scope="credential_actions"),
    "privileged": ControlCheck(check_name("privileged"), _measure_privileged, _COVERAGE_FIGURES, _COVERAGE_CLAUSES,
                               NOT_MET, scope="privileged_actions"),
    "monitoring": ControlCheck(
        check_name("monitoring"), _measure_monitoring,
        {"after_fix": "{cmp} operations were dropped silently after their route's fix time",
         "share": f"the share of missing operations that left no failure event ({OpState.MISSING_SILENT}) is {{cmp}}",
         "age_h": "the oldest pending failure event is {cmp} old", **_UNPROVABLE_FIGURE,
         "missing": "there are {cmp} missing operations", "failures": "{cmp} failure events"},
        (Clause(NOT_APPLICABLE, (Test("missing", "=="), Test("failures", "=="))),
         Clause(NOT_MET, (Test("after_fix", ">", "silent_after_fix_met_max"),)),
         Clause(EXCEPTIONS, (Test("share", "<=", "silent_share_met_at"), Test("unprovable", ">", "unprovable_met_max"))),
         Clause(EXCEPTIONS, (Test("share", "<=", "silent_share_met_at"), Test("age_h", ">", "pending_age_met_hours"))),
         Clause(MET, (Test("share", "<=", "silent_share_met_at"),)),
         Clause(EXCEPTIONS, (Test("share", "<=", "silent_share_exceptions_at"),))),
        NOT_MET),
    "remediation": ControlCheck(
        check_name("remediation"), _measure_remediation,
        {"routes": "there are {cmp} routes in scope", RouteStatus.NOT_SWEPT: "{cmp} routes are not swept",
         "after_fix_ops": "{cmp} operations lie at or after their route's fix time (no fix in force in the period)",
         RouteStatus.UNKNOWN: "{cmp} routes have an unknown status (fix not evidenced)",
         "mismatches": "{cmp} audit_logged flags contradict the logs (false without a failure event, true without a "
                       "live row)"},
        (Clause(NOT_APPLICABLE, (Test("routes", "=="),)), Clause(NOT_MET, (Test(RouteStatus.NOT_SWEPT, ">"),)),
         Clause(EXCEPTIONS, (Test(RouteStatus.UNKNOWN, ">"),)),
         Clause(NOT_APPLICABLE, (Test("after_fix_ops", "=="),)),
         Clause(EXCEPTIONS, (Test("mismatches", ">", "flag_mismatch_met_max"),))),
        MET),
    "incident_response": ControlCheck(
        check_name("incident_response"), _measure_incident_response,
        {"failures": "there are {cmp} failure events in the period",
         "within": "{cmp} of the failure events were replayed within the SLA"},
        (Clause(NOT_APPLICABLE, (Test("failures", "=="),)), Clause(MET, (Test("within", ">=", "replay_sla_met_at"),)),
         Clause(EXCEPTIONS, (Test("within", ">=", "replay_sla_exceptions_at"),))),
        NOT_MET),
    "clock": ControlCheck(
        check_name("clock"), _measure_clock,
        {"p95": "the 95th percentile of |audit time − operation time| over live matches is {cmp}"},
        (Clause(NOT_APPLICABLE, (Test("p95", "unmeasured"),)),
         Clause(MET, (Test("p95", "<=", "clock_p95_met_seconds"),)),
         Clause(EXCEPTIONS, (Test("p95", "<=", "clock_p95_exceptions_seconds"),))),
        NOT_MET),
    "evidence": ControlCheck(
        check_name("evidence"), _measure_evidence,
        {"write_capable": "{cmp} sources were reached with a role that can write",
         "skipped": "{cmp} log lines were skipped", "odd_rows": "there are {cmp} orphan or duplicate audit rows"},
        (Clause(EXCEPTIONS, (Test("write_capable", ">"),)), Clause(EXCEPTIONS, (Test("skipped", ">"),)),
         Clause(EXCEPTIONS, (Test("odd_rows", ">"),))),
        MET),
    "replay": ControlCheck(
        check_name("replay"), _measure_replay,
        {"failures": "there are {cmp} failure events in the period",
         "done": f"{{cmp}} failure events are {ReplayState.REPLAYED}",
         "open": f"{{cmp}} failure events are not replayed yet ({', '.join(OPEN_REPLAY_STATES)}, whatever their age)"},
        (Clause(NOT_APPLICABLE, (Test("failures", "=="),)), Clause(NOT_MET, (Test("done", "=="),)),
         Clause(EXCEPTIONS, (Test("open", ">"),))),
        MET),
}
"""Every control check by the name the catalogue gives it."""


def describe_checks(t: ControlThresholds) -> list[str]:
    """Every control check in words with the thresholds in force, then the sample's parameters (for the pack's
    methodology; an overridden threshold names its default)."""
    return [*(check.sentence(t) for check in CHECKS.values()),
            f"The re-performance sample is sized for confidence {_shown('sample_confidence', t)} and tolerable "
            f"deviation {_shown('sample_tolerable_deviation', t)}."]


def evaluate_controls(summary: Summary, recon: Reconciliation, overrides: Mapping[str, Any]) -> list[ControlResult]:
    """Every catalogue control with its result and the figures behind it."""
    catalogue, _ = load_catalogue()
    t = parse_controls(overrides)
    results = []
    for control in catalogue:
        check = CHECKS[control.check]
        measured = check.measure(summary, recon, t)
        results.append(ControlResult(control, check.verdict(measured, t), measured.line, dict(measured.values),
                                     measured.population))
    return results
