"""OSCAL Assessment Results and Plan of Action and Milestones for one period and scope: the control checks' verdicts
(findings) and the figures behind them (observations) in NIST's machine-readable format, for GRC tools.

Nothing is computed here: every number is a control check's figure or a summary figure, as the pack and the CLI
state them. The bytes are deterministic: UUIDv5 from the pack id (or, without a pack, from the configuration's
SHA-256, the period, the scope and the judging time), sorted keys, fixed indentation.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Iterator, Mapping

import pandas as pd

from evidence_app import __version__
from evidence_app.assess.controls import (
    CHECKS,
    EXCEPTIONS,
    MET,
    NOT_APPLICABLE,
    NOT_MET,
    ControlResult,
    describe_checks,
)
from evidence_app.assess.summary import Summary
from evidence_app.config.thresholds import ControlThresholds
from evidence_app.evidence.contents import PackContents
from evidence_app.evidence.extracts import iter_extracts
from evidence_app.formatting import iso_utc
from evidence_app.reconcile import Period, Scope
from evidence_app.reconcile.coverage import Totals
from evidence_app.reconcile.rules import RouteStatus

OSCAL_VERSION = "1.2.1"
"""The OSCAL version the documents conform to (compliance-trestle's models, NIST's schema of that line)."""
NS = "urn:evidence-app:oscal"
"""The namespace of this tool's own property names (OSCAL's rule for props it does not define)."""
ROOT = uuid.uuid5(uuid.NAMESPACE_URL, NS)
"""Every UUID is UUIDv5 under this namespace, of the document's seed and the item's key."""
SATISFIED, NOT_SATISFIED = "satisfied", "not-satisfied"
STATE_OF = {MET: (SATISFIED, "pass"), EXCEPTIONS: (SATISFIED, "pass"), NOT_MET: (NOT_SATISFIED, "fail"),
            NOT_APPLICABLE: (NOT_SATISFIED, "other")}
"""A control's verdict → (objective status state, reason). "Met with exceptions" is satisfied, the exceptions
stated in the finding's remarks; "not applicable" is not satisfied (nothing evidences the control), said in its
remarks, its ``verdict`` prop and its implementation status ``not-applicable``."""


@dataclass(frozen=True)
class PackRef:
    """The signed pack the documents vouch for, after it was verified."""

    pack_id: str
    """The id in its signed manifest."""
    sha256: str
    """SHA-256 of the PDF's bytes, hex."""
    file_name: str
    """Its file name (the relative href the documents give it)."""
    signer: str = ""
    """How its signer was vouched for: the verify check's detail, or that no trust anchor was given."""


@dataclass(frozen=True)
class Assessment:
    """What both documents are made of, taken from the core once (a pack's contents or the CLI's run)."""

    organisation: str
    """``[organisation] name``: the documents' party."""
    period: Period
    """The UTC days assessed: the result's start and end."""
    scope: Scope
    """The tenants, operators, routes or actions assessed (none: everything)."""
    as_of: datetime
    """When ages were measured and fix times judged (the pack's generation time): the documents' last-modified."""
    summary: Summary
    """The headline figures, as the CLI, the web app and the pack state them."""
    controls: list[ControlResult]
    """Each catalogue control's verdict and the figures its check compared."""
    thresholds: ControlThresholds
    """The control checks' thresholds in force (the method the findings state)."""
    config_sha256: str
    """SHA-256 of the configuration file the sources were read with."""
    pack: PackRef | None = None
    """The verified pack the figures are the pack's of (None: no pack given)."""


@dataclass(frozen=True)
class Figure:
    """One observation: a figure behind one or more controls."""

    key: str
    """Stable key, e.g. ``check.logging.after`` or ``totals.coverage_logged`` (its ``figure`` prop)."""
    title: str
    value: float | int | None
    """None: not measurable."""


# ------------------------------------------------------------------ figures (read, never computed)


def check_figures(controls: list[ControlResult]) -> list[Figure]:
    """Each figure each control check compared, once per check, in catalogue order."""
    seen: dict[str, Figure] = {}
    for result in controls:
        check = CHECKS[result.control.check]
        for name, value in result.values.items():
            key = f"check.{result.control.check}.{name}"
            if key not in seen:
                seen[key] = Figure(key, f"{check.subject} check: {_words(name)}", value)
    return list(seen.values())


FIGURE_WORDS: dict[str, str] = {
    "expected": "operations in scope (expected)", "after": "coverage after replay (ratio 0..1)",
    "inaccurate": "inaccurate audit rows", "incomplete": "incomplete audit rows",
    "unprovable": "missing operations unprovable from the logs",
    "share": "share of missing operations that left no failure event (ratio 0..1)",
    "age_h": "age of the oldest pending failure event (hours)",
    "after_fix": "operations dropped silently after their route's fix", "routes": "routes in scope",
    RouteStatus.SWEPT: "routes swept", RouteStatus.NOT_SWEPT: "routes not swept",
    RouteStatus.UNKNOWN: "routes with an unknown status (fix not evidenced)",
    "mismatches": "audit_logged flags contradicting the logs",
    "p95": "p95 |audit time − operation time| over live matches (seconds)",
    "write_capable": "sources reached with a role that can write", "skipped": "log lines skipped",
    "odd_rows": "orphan or duplicate audit rows", "failures": "failure events in the period",
    "done": "failure events replayed", "open": "failure events not replayed yet",
    "within": "share of failure events replayed within the SLA (ratio 0..1)",
    "missing": "missing operations (monitoring's population, with the failure events)",
    "after_fix_ops": "operations at or after their route's fix time (none: no fix in force in the period)",
}
"""Each control check figure's name in words (a test fails when a check measures a figure not named here)."""


def _words(name: str) -> str:
    return FIGURE_WORDS.get(name, name.replace("_", " "))


def summary_figures(s: Summary) -> list[Figure]:
    """The headline figures: the coverage JSON's totals, row findings, replay states and ages, remediation."""
    t, r, m = s.totals, s.replay, s.remediation
    out = [Figure(f"totals.{f.name}", f"Operations: {f.name.replace('_', ' ')}", getattr(t, f.name))
           for f in fields(Totals)]
    out += [Figure("rows.orphans", "Audit rows matching no operation (orphan)", s.orphans),
            Figure("rows.duplicates", "Audit rows duplicating a covered operation", s.duplicates),
            Figure("rows.inaccurate", "Inaccurate audit rows", s.inaccurate),
            Figure("rows.incomplete", "Incomplete audit rows", s.incomplete)]
    out += [Figure(f"replay.{state}", f"Failure events in replay state {state}", n) for state, n in r.states.items()]
    out += [Figure("replay.oldest_pending_age_seconds", "Oldest pending failure event, age in seconds",
                   r.oldest_pending_age_seconds),
            Figure("replay.latency_p50_seconds", "Replay latency p50, seconds", r.latency_p50),
            Figure("replay.latency_p95_seconds", "Replay latency p95, seconds", r.latency_p95),
            Figure("replay.latency_max_seconds", "Replay latency max, seconds", r.latency_max),
            Figure("replay.skipped_log_lines", "Log lines skipped as unreadable", r.skipped_log_lines)]
    remediation = {RouteStatus.SWEPT: m.swept, RouteStatus.NOT_SWEPT: m.not_swept, RouteStatus.UNKNOWN: m.unknown,
                   "silent_before_fix": m.silent_before_fix, "silent_after_fix": m.silent_after_fix,
                   "failures": m.failures, "replayed_within_sla": m.replayed_within_sla,
                   "replay_sla_seconds": m.replay_sla_seconds, "flag_mismatches": m.flag_mismatches,
                   "after_fix_operations": m.after_fix_operations}
    out += [Figure(f"remediation.{k}", f"Remediation: {k.replace('_', ' ')}", v) for k, v in remediation.items()]
    return out + [Figure("clock.p95_seconds", "p95 |audit time − operation time| over live matches, seconds",
                         s.clock_p95_seconds)]


CONTEXT: dict[str, tuple[str, ...]] = {
    "coverage": ("totals.",),
    "logging": ("totals.", "rows.inaccurate", "rows.incomplete"),
    "monitoring": ("totals.missing", "replay.oldest_pending_age_seconds", "remediation.silent_after_fix"),
    "remediation": ("remediation.",),
    "incident_response": ("remediation.failures", "remediation.replayed_within_sla", "remediation.replay_sla",
                          "replay.latency_"),
    "replay": ("replay.",),
    "clock": ("clock.",),
    "evidence": ("rows.orphans", "rows.duplicates", "replay.skipped_log_lines"),
}
"""Per check, the summary figures (key prefixes) a finding also relates to, besides its check's own figures; the
checks over a subset of actions (privileged, credential) relate to their own figures only."""


def related(check: str, figures: list[Figure]) -> list[Figure]:
    """The observations a finding of ``check`` relates to: its own figures, then its context."""
    own = [f for f in figures if f.key.startswith(f"check.{check}.")]
    context = CONTEXT.get(check)
    return own + ([f for f in figures if f.key.startswith(context)] if context else [])


# ------------------------------------------------------------------ identity and formatting


def seed(a: Assessment) -> str:
    """What every UUID derives from: the pack id, else the configuration, period, scope and judging time."""
    if a.pack is not None:
        return a.pack.pack_id
    return f"{a.config_sha256}|{a.period.start}|{a.period.end}|{a.scope.label()}|{_when(a.as_of)}"


def uid(a: Assessment, kind: str, key: str = "") -> str:
    return str(uuid.uuid5(ROOT, f"{seed(a)}/{kind}/{key}"))


def _when(moment: datetime) -> str:
    """An instant as OSCAL's date-time with zone: ISO-8601 UTC with "Z" (a naive time is UTC)."""
    return iso_utc(pd.Timestamp(moment))


def period_bounds(period: Period) -> tuple[str, str]:
    """The result's start and end: the first and the last instant of the period's UTC days."""
    start = datetime.combine(period.start, time(), timezone.utc)
    end = datetime.combine(period.end, time(23, 59, 59, 999999), timezone.utc)
    return _when(start), _when(end)


def shown(value: float | int | None) -> str:
    """A figure as a prop value: exact (repr of a float), "not-measured" for None."""
    if value is None:
        return "not-measured"
    if isinstance(value, bool):
        return str(int(value))
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def prop(name: str, value: str, cls: str | None = None) -> dict:
    out = {"name": name, "ns": NS, "value": value}
    return {**out, "class": cls} if cls else out


def dumps(document: dict) -> bytes:
    """The document's bytes: sorted keys, two-space indentation, UTF-8, one final newline."""
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


# ------------------------------------------------------------------ the documents


def assessment_results(a: Assessment) -> dict:
    """The OSCAL Assessment Results document: one result for the period, an observation per figure, a finding per
    catalogue control."""
    figures = check_figures(a.controls) + summary_figures(a.summary)
    start, end = period_bounds(a.period)
    result = {
        "uuid": uid(a, "result"),
        "title": f"Audit-trail completeness, {a.period.start} – {a.period.end}",
        "description": _description(a),
        "start": start, "end": end,
        "props": _result_props(a),
        "reviewed-controls": {"control-selections": [{"include-controls": [
            {"control-id": c.control.id} for c in a.controls]}]},
        "observations": [_observation(a, f) for f in figures],
        "findings": [_finding(a, c, figures) for c in a.controls],
        "remarks": a.summary.log_completeness or "Log completeness as stated in the pack.",
    }
    return {"assessment-results": {
        "uuid": uid(a, "assessment-results"),
        "metadata": _metadata(a, f"Assessment results: audit-trail completeness, {a.period.start} – {a.period.end}"),
        "import-ap": {"href": f"#{uid(a, 'resource', 'method')}",
                      "remarks": "No separate OSCAL assessment plan exists: the plan is the method stated in the "
                                 "back-matter resource referenced here (the control checks with the thresholds in "
                                 "force, as the evidence pack's methodology states them)."},
        "results": [result],
        "back-matter": _back_matter(a),
    }}


def plan_of_action(a: Assessment) -> dict | None:
    """The OSCAL POA&M: one item per route not swept and per control not met (None: nothing to remediate)."""
    figures = check_figures(a.controls) + summary_figures(a.summary)
    items = list(_route_items(a)) + [_control_item(a, c, figures) for c in a.controls if c.result == NOT_MET]
    if not items:
        return None
    used = {o["observation-uuid"] for item in items for o in item.get("related-observations", [])}
    return {"plan-of-action-and-milestones": {
        "uuid": uid(a, "poam"),
        "metadata": _metadata(a, f"Plan of action and milestones: audit-trail completeness, {a.period.start} – "
                                 f"{a.period.end}"),
        "system-id": {"identifier-type": "https://ietf.org/rfc/rfc4122",
                      "id": str(uuid.uuid5(ROOT, f"system/{a.organisation}"))},
        "observations": [_observation(a, f) for f in figures if uid(a, "observation", f.key) in used],
        "poam-items": items,
        "back-matter": _back_matter(a),
    }}


def _metadata(a: Assessment, title: str) -> dict:
    party = str(uuid.uuid5(ROOT, f"party/{a.organisation}"))
    meta = {"title": title, "last-modified": _when(a.as_of), "version": a.pack.pack_id if a.pack else
            f"{a.period.start}..{a.period.end}", "oscal-version": OSCAL_VERSION,
            "props": [prop("generator", f"evidence-app {__version__}")]}
    if a.organisation.strip():
        meta["parties"] = [{"uuid": party, "type": "organization", "name": a.organisation.strip()}]
    return meta


def _description(a: Assessment) -> str:
    who = f"{a.organisation.strip()}: " if a.organisation.strip() else ""
    return (f"{who}read-only reconciliation of the audit store against the operations store for the UTC days "
            f"{a.period.start} to {a.period.end} (inclusive), scope {a.scope.label()}, judged at {_when(a.as_of)}; "
            "each finding is one catalogue control's verdict, each observation one figure behind it.")


def _result_props(a: Assessment) -> list[dict]:
    out = [prop("config-sha256", a.config_sha256), prop("judged-at", _when(a.as_of))]
    out += [prop(f"scope-{k}", v) for k, values in a.scope.items() for v in values]
    if a.pack:
        out += [prop("pack-id", a.pack.pack_id), prop("pack-sha256", a.pack.sha256)]
    return out


def _observation(a: Assessment, f: Figure) -> dict:
    value = shown(f.value)
    said = "not measurable" if f.value is None else value
    return {"uuid": uid(a, "observation", f.key), "title": f.title,
            "description": f"{f.title}: {said} (period {a.period.start} – {a.period.end}, scope {a.scope.label()}).",
            "methods": ["TEST"], "collected": _when(a.as_of),
            "props": [prop("figure", f.key), prop("value", value)],
            "relevant-evidence": [_evidence(a)]}


def _evidence(a: Assessment) -> dict:
    if a.pack is None:
        return {"description": f"No signed evidence pack was given: this figure comes from evidence-app "
                               f"{__version__}'s reconciliation of the sources the configuration with SHA-256 "
                               f"{a.config_sha256} names.",
                "props": [prop("config-sha256", a.config_sha256)]}
    return {"href": f"#{uid(a, 'resource', 'pack')}",
            "description": f"Signed evidence pack {a.pack.pack_id} ({a.pack.file_name}, SHA-256 {a.pack.sha256}): "
                           "the figure is in its pages and its signed extracts.",
            "props": [prop("pack-id", a.pack.pack_id), prop("pack-sha256", a.pack.sha256)]}


def _finding(a: Assessment, c: ControlResult, figures: list[Figure]) -> dict:
    if c.result not in STATE_OF:
        raise ValueError(f"control {c.control.id}: verdict {c.result!r} has no OSCAL objective status")
    state, reason = STATE_OF[c.result]
    check = CHECKS[c.control.check]
    target = {"type": "objective-id", "target-id": c.control.id, "title": f"{c.control.framework} {c.control.id}",
              "description": check.sentence(a.thresholds),
              "status": {"state": state, "reason": reason, "remarks": _verdict_remarks(c)}}
    if c.result == NOT_APPLICABLE:
        target["implementation-status"] = {"state": "not-applicable"}
    return {"uuid": uid(a, "finding", c.control.id),
            "title": f"{c.control.framework} {c.control.id} {c.control.title}: {c.result}",
            "description": f"{c.control.intent} Evidence: {c.control.evidence}",
            "props": [prop("framework", c.control.framework), prop("control-id", c.control.id),
                      prop("check", c.control.check), prop("verdict", c.result)],
            "target": target,
            "related-observations": [{"observation-uuid": uid(a, "observation", f.key)}
                                     for f in related(c.control.check, figures)],
            "remarks": _verdict_remarks(c)}


def _verdict_remarks(c: ControlResult) -> str:
    """The verdict in the pack's words: met with exceptions and not applicable are said here, with the figures."""
    lead = {MET: "Met", EXCEPTIONS: "Met with exceptions (objective satisfied, with the exceptions these figures "
                                    "state)", NOT_MET: "Not met",
            NOT_APPLICABLE: "Not applicable: nothing in scope evidences this control, so it is not reported "
                            "satisfied"}[c.result]
    return f"{lead}. {c.figures}."


def _route_items(a: Assessment) -> Iterator[dict]:
    routes = a.summary.remediation.routes
    for row in routes[routes["status"] == RouteStatus.NOT_SWEPT].sort_values("route").to_dict("records"):
        fixed = row["effective_fixed_at"]
        yield {"uuid": uid(a, "poam-item", f"route/{row['route']}"),
               "title": f"Route {row['route']} not swept",
               "description": (f"Route {row['route']}: {row['missing_silent_after_fix']} operations dropped silently "
                               f"at or after its fix time ({_fixed(fixed)}), {row['missing_silent_before_fix']} "
                               "before it. Apply the fix (a failed audit INSERT emits audit_log_insert_failed and "
                               "is replayed) on this route, and backfill the operations it lost."),
               "props": [prop("route", str(row["route"])), prop("status", str(row["status"])),
                         prop("missing-silent-after-fix", str(int(row["missing_silent_after_fix"])))],
               "related-observations": [{"observation-uuid": uid(a, "observation", "remediation.not_swept")}]}


def _fixed(value: object) -> str:
    return "none evidenced" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _control_item(a: Assessment, c: ControlResult, figures: list[Figure]) -> dict:
    return {"uuid": uid(a, "poam-item", f"control/{c.control.id}"),
            "title": f"{c.control.framework} {c.control.id} {c.control.title}: not met",
            "description": f"{c.control.intent} Found: {c.figures}. Remediate until the control check holds: "
                           f"{CHECKS[c.control.check].sentence(a.thresholds)}",
            "props": [prop("framework", c.control.framework), prop("control-id", c.control.id),
                      prop("verdict", c.result)],
            "related-observations": [{"observation-uuid": uid(a, "observation", f.key)}
                                     for f in related(c.control.check, figures)]}


def _back_matter(a: Assessment) -> dict:
    method = {"uuid": uid(a, "resource", "method"), "title": "Assessment method: evidence-app control checks",
              "description": " ".join(describe_checks(a.thresholds)),
              "props": [prop("generator", f"evidence-app {__version__}")]}
    if a.pack is None:
        return {"resources": [method]}
    pack = {"uuid": uid(a, "resource", "pack"), "title": f"Signed evidence pack {a.pack.pack_id}",
            "description": "The PAdES-signed PDF evidence pack with the full population attached as signed CSV "
                           "extracts; verify it with `evidence-app verify`."
                           + (f" Signer: {a.pack.signer}." if a.pack.signer else ""),
            "props": [prop("pack-id", a.pack.pack_id)],
            "rlinks": [{"href": a.pack.file_name, "media-type": "application/pdf",
                        "hashes": [{"algorithm": "SHA-256", "value": a.pack.sha256}]}]}
    return {"resources": [method, pack]}


def pack_ref(data: bytes, manifest: Mapping, path: Path | str, signer: str = "") -> PackRef:
    """The reference to a verified pack: its manifest's id, the SHA-256 of its bytes, its file name, and how its
    signer was vouched for."""
    return PackRef(str(manifest["pack_id"]), hashlib.sha256(data).hexdigest(), Path(path).name, signer)


def assessment_of(contents: PackContents, pack: PackRef | None = None) -> Assessment:
    """The assessment a pack's contents hold (the web app's pack, or the CLI's run): nothing recomputed."""
    return Assessment(organisation=contents.config.organisation, period=contents.period, scope=contents.scope,
                      as_of=contents.generated_at, summary=contents.summary, controls=contents.controls,
                      thresholds=contents.thresholds, config_sha256=contents.config_sha256, pack=pack)


def pack_mismatch(manifest: Mapping, contents: PackContents) -> str | None:
    """Why ``contents`` (this run) is not what the signed pack holds, or None: same period, scope and configuration,
    and every extract the manifest lists rebuilt to the same SHA-256 (the sources have not changed since)."""
    c = contents
    period = {"start": str(c.period.start), "end": str(c.period.end)}
    if manifest.get("period") != period:
        return f"it covers {_span(manifest.get('period'))}, not {c.period.start} – {c.period.end}"
    if _values(manifest.get("scope") or {}) != _values(dict(c.scope.items())):
        return f"its scope is {manifest.get('scope') or 'everything'}, not {c.scope.label()}"
    if manifest.get("config_sha256") != c.config_sha256:
        return "it was built with another configuration (config_sha256 differs)"
    signed = {e["name"]: e["sha256"] for e in manifest.get("extracts", [])}
    for extract in iter_extracts(c):
        if extract.name in signed and signed[extract.name] != extract.sha256:
            return (f"the sources changed since it was built: {extract.name} rebuilt now differs from the signed "
                    "one, so these figures would not be the pack's")
    return None


def _values(scope: Mapping) -> dict[str, list[str]]:
    """A scope with each dimension's values sorted (the order they were given in does not matter)."""
    return {k: sorted(v) for k, v in scope.items() if v}


def _span(period: object) -> str:
    return f"{period.get('start')} – {period.get('end')}" if isinstance(period, Mapping) else "no period"


__all__ = ["Assessment", "PackRef", "OSCAL_VERSION", "assessment_of", "assessment_results", "dumps", "pack_mismatch",
           "pack_ref", "plan_of_action"]
