"""`evidence-app oscal`: OSCAL Assessment Results and POA&M valid against NIST's schema and trestle's models, read
back: a finding per control with its verdict's state, the figures of the coverage and check commands, the same
bytes for the same inputs."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_app.assess.controls import EXCEPTIONS, MET, NOT_MET, load_catalogue
from evidence_app.cli import main
from evidence_app.config.settings import load_config
from evidence_app.evidence import oscal
from evidence_app.evidence.contents import gather
from evidence_app.reconcile import Period, Scope

from oscal_schema import schema_errors, trestle_model

PERIOD = ["--start", "2026-10-01", "--end", "2026-10-29"]
END = datetime(2026, 10, 29, 23, 59, 59, 999999, tzinfo=timezone.utc)
"""The last instant of the period: what the results are judged at without a pack."""


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def write(folder: Path, *extra: str) -> tuple[dict, dict | None]:
    """Assessment results and POA&M of the bundled sample for :data:`PERIOD`, as the CLI writes them."""
    out, poam = folder / "results.json", folder / "poam.json"
    res = run("oscal", *PERIOD, "--out", str(out), "--poam", str(poam), *extra)
    assert res.exit_code == 0, res.stderr + res.stdout
    return json.loads(out.read_bytes()), json.loads(poam.read_bytes()) if poam.exists() else None


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> tuple[dict, dict]:
    return write(tmp_path_factory.mktemp("oscal"))


@pytest.fixture(scope="module")
def result(docs) -> dict:
    (only,) = docs[0]["assessment-results"]["results"]
    return only


@pytest.fixture(scope="module")
def core():
    """The core's own control results for the same period, judged at the same instant."""
    return gather(load_config(None), Period(date(2026, 10, 1), date(2026, 10, 29)), Scope(), END)


def observed(result: dict) -> dict[str, str]:
    """Observation figure key → its value prop."""
    props = [{p["name"]: p["value"] for p in o["props"]} for o in result["observations"]]
    return {p["figure"]: p["value"] for p in props}


def number(text: str) -> float | int | None:
    return None if text == "not-measured" else (float(text) if "." in text or "e" in text else int(text))


# ------------------------------------------------------------------ valid, for NIST and for trestle


def test_results_are_valid_against_nists_schema(docs):
    assert schema_errors(docs[0]) == []


def test_poam_is_valid_against_nists_schema(docs):
    assert docs[1] is not None
    assert schema_errors(docs[1]) == []


def test_results_and_poam_parse_into_trestles_models(docs):
    results, poam = trestle_model(docs[0]), trestle_model(docs[1])
    assert len(results.results[0].findings) == len(load_catalogue()[0])
    assert len(poam.poam_items) >= 1


def test_the_schema_check_refuses_a_state_oscal_does_not_have(docs):
    """The validators are real: a finding with a made-up objective state fails both."""
    broken = copy.deepcopy(docs[0])
    broken["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "partially-satisfied"
    assert any("partially-satisfied" in e for e in schema_errors(broken))
    with pytest.raises(ValueError):
        trestle_model(broken)


def test_the_document_says_its_oscal_version_and_period(docs, result):
    meta = docs[0]["assessment-results"]["metadata"]
    assert meta["oscal-version"] == oscal.OSCAL_VERSION
    assert (result["start"], result["end"]) == ("2026-10-01T00:00:00Z", "2026-10-29T23:59:59.999999Z")
    assert meta["last-modified"] == "2026-10-29T23:59:59.999999Z"


# ------------------------------------------------------------------ read back: findings and observations


def test_one_finding_per_catalogue_control_with_its_verdicts_state(result, core):
    state = {MET: "satisfied", EXCEPTIONS: "satisfied", NOT_MET: "not-satisfied"}
    found = {f["target"]["target-id"]: f for f in result["findings"]}
    assert [f["target"]["target-id"] for f in result["findings"]] == [c.control.id for c in core.controls]
    for control in core.controls:
        finding = found[control.control.id]
        assert finding["target"]["status"]["state"] == state[control.result], control.control.id
        assert {p["name"]: p["value"] for p in finding["props"]}["verdict"] == control.result
    assert {c.result for c in core.controls} >= {MET, EXCEPTIONS, NOT_MET}  # the sample exercises every mapping


def test_met_with_exceptions_is_satisfied_and_said_in_its_remarks(result, core):
    excepted = {c.control.id: c for c in core.controls if c.result == EXCEPTIONS}
    for finding in result["findings"]:
        if finding["target"]["target-id"] in excepted:
            assert finding["target"]["status"]["state"] == "satisfied"
            assert finding["remarks"].startswith("Met with exceptions")
            assert excepted[finding["target"]["target-id"]].figures in finding["remarks"]


def test_observations_carry_the_coverage_commands_numbers(result):
    res = run("coverage", *PERIOD, "--format", "json")
    (total,) = json.loads(res.stdout)
    values = observed(result)
    assert {k: number(values[f"totals.{k}"]) for k in total} == total


def test_observations_carry_the_check_commands_figures(result):
    res = run("check", *PERIOD, "--as-of", "2026-10-29T23:59:59.999999Z", "--format", "json")
    figures = json.loads(res.stdout)["figures"]
    values = observed(result)
    keys = {"coverage_after_replay": "totals.coverage_after_replay", "coverage_logged": "totals.coverage_logged",
            "oldest_pending_age_seconds": "replay.oldest_pending_age_seconds",
            "missing_silent_after_fix": "remediation.silent_after_fix",
            "missing_unprovable": "totals.missing_unprovable", "inaccurate": "rows.inaccurate",
            "unconfirmed": "replay.unconfirmed"}
    assert set(keys) == set(figures)
    assert {k: number(values[v]) for k, v in keys.items()} == figures


def test_observations_carry_the_replay_status_commands_figures(result):
    res = run("replay-status", *PERIOD, "--as-of", "2026-10-29T23:59:59.999999Z", "--format", "json")
    status, values = json.loads(res.stdout), observed(result)
    assert {k: number(values[f"replay.{k}"]) for k in status["states"]} == status["states"]
    assert number(values["replay.oldest_pending_age_seconds"]) == status["oldest_pending_age_seconds"]
    assert {k: number(values[f"replay.latency_{k}_seconds"]) for k in status["latency_seconds"]} == \
        status["latency_seconds"]
    assert number(values["replay.skipped_log_lines"]) == status["skipped_log_lines"]


def test_every_figure_a_control_check_compared_is_an_observation(result, core):
    values = observed(result)
    for control in core.controls:
        for name, value in control.values.items():
            assert number(values[f"check.{control.control.check}.{name}"]) == value, (control.control.id, name)


def test_every_control_check_figure_is_named_in_words(core):
    assert {name for c in core.controls for name in c.values} <= set(oscal.FIGURE_WORDS)


def test_each_finding_relates_to_its_checks_observations_in_the_result(result):
    ids = {o["uuid"] for o in result["observations"]}
    by_uuid = {o["uuid"]: observed({"observations": [o]}) for o in result["observations"]}
    for finding in result["findings"]:
        related = [o["observation-uuid"] for o in finding["related-observations"]]
        assert set(related) <= ids and related
        check = {p["name"]: p["value"] for p in finding["props"]}["check"]
        assert any(key.startswith(f"check.{check}.") for o in related for key in by_uuid[o])


def test_every_observation_names_its_evidence(result):
    """Without a pack, the evidence is the reconciliation of the configuration named by its SHA-256."""
    for o in result["observations"]:
        (evidence,) = o["relevant-evidence"]
        assert "No signed evidence pack" in evidence["description"]


# ------------------------------------------------------------------ the POA&M


def test_poam_has_an_item_per_route_not_swept_and_per_control_not_met(docs, core):
    res = run("remediation", *PERIOD, "--as-of", "2026-10-29T23:59:59.999999Z", "--format", "json")
    not_swept = sorted(r["route"] for r in json.loads(res.stdout) if r["status"] == "not_swept")
    items = docs[1]["plan-of-action-and-milestones"]["poam-items"]
    props = [{p["name"]: p["value"] for p in item["props"]} for item in items]
    assert sorted(p["route"] for p in props if "route" in p) == not_swept and not_swept
    assert [p["control-id"] for p in props if "control-id" in p] == [
        c.control.id for c in core.controls if c.result == NOT_MET]


def test_poam_items_relate_to_observations_it_carries(docs):
    plan = docs[1]["plan-of-action-and-milestones"]
    ids = {o["uuid"] for o in plan["observations"]}
    assert all({r["observation-uuid"] for r in item["related-observations"]} <= ids for item in plan["poam-items"])


def test_nothing_to_remediate_writes_no_poam(scenario, tmp_path):
    """Every operation (a credential change among them, which is privileged too) has its live row."""
    scenario.op("o1").row("a1")
    scenario.op("o2", operation="staff_pin_change", route="/api/staff-pin")
    scenario.row("a2", action="staff_pin_change", route="/api/staff-pin")
    cfg = scenario.write()
    out, poam = tmp_path / "r.json", tmp_path / "p.json"
    res = CliRunner().invoke(main, ["oscal", "--config", str(cfg), "--start", "2026-10-01", "--end", "2026-10-01",
                                    "--out", str(out), "--poam", str(poam)])
    assert res.exit_code == 0, res.stderr
    assert not poam.exists() and "not written" in res.stderr and "earlier plan" not in res.stderr
    findings = json.loads(out.read_bytes())["assessment-results"]["results"][0]["findings"]
    verdicts = {f["target"]["target-id"]: {p["name"]: p["value"] for p in f["props"]}["verdict"] for f in findings}
    assert "not met" not in verdicts.values()
    for f in findings:  # met (satisfied), or not applicable: nothing failed, nothing to test (no failure event, …)
        verdict = verdicts[f["target"]["target-id"]]
        assert f["target"]["status"]["state"] == ("satisfied" if verdict.startswith("met") else "not-satisfied")
        assert verdict != "not applicable" or f["target"]["implementation-status"] == {"state": "not-applicable"}
    assert verdicts["CC7.3"] == verdicts["CC7.4"] == "not applicable" and verdicts["A.8.15"] == "met"
    poam.write_text("{}")
    again = CliRunner().invoke(main, ["oscal", "--config", str(cfg), "--start", "2026-10-01", "--end", "2026-10-01",
                                      "--out", str(out), "--poam", str(poam)])
    assert again.exit_code == 0 and "earlier plan, left as it was" in again.stderr


# ------------------------------------------------------------------ determinism


def test_same_inputs_give_the_same_bytes(tmp_path):
    first, second = tmp_path / "1", tmp_path / "2"
    for folder in (first, second):
        folder.mkdir()
        write(folder)
    assert (first / "results.json").read_bytes() == (second / "results.json").read_bytes()
    assert (first / "poam.json").read_bytes() == (second / "poam.json").read_bytes()


def test_another_period_or_scope_gives_other_uuids(docs, tmp_path):
    res = run("oscal", "--start", "2026-10-01", "--end", "2026-10-28", "--out", str(tmp_path / "a.json"))
    res2 = run("oscal", *PERIOD, "--scope", "tenant=r-001", "--out", str(tmp_path / "b.json"))
    assert res.exit_code == res2.exit_code == 0, res.stderr + res2.stderr
    mine = docs[0]["assessment-results"]["uuid"]
    others = {json.loads((tmp_path / n).read_bytes())["assessment-results"]["uuid"] for n in ("a.json", "b.json")}
    assert mine not in others and len(others) == 2


def test_uuids_are_version_5_and_unique(docs):
    text = json.dumps(docs[0])
    found = [v for k, v in _pairs(docs[0]) if k == "uuid"]
    assert len(found) == len(set(found)) > 50
    assert {uuid.UUID(u).version for u in found} == {5}
    assert all(f'"{u}"' in text for u in found)


def _pairs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _pairs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _pairs(v)


def test_a_period_still_running_is_judged_now_not_at_its_end(scenario, tmp_path):
    """Ages are never measured at a moment to come: without --as-of a running period is judged at the time of
    the run."""
    scenario.op("o1").row("a1")
    cfg = scenario.write()
    today = datetime.now(timezone.utc).date()
    before = datetime.now(timezone.utc)
    res = CliRunner().invoke(main, ["oscal", "--config", str(cfg), "--start", "2026-10-01", "--end",
                                    str(today + timedelta(days=400)), "--out", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.stderr
    judged = json.loads((tmp_path / "r.json").read_bytes())["assessment-results"]["metadata"]["last-modified"]
    assert before <= datetime.fromisoformat(judged.replace("Z", "+00:00")) <= datetime.now(timezone.utc)


# ------------------------------------------------------------------ verdicts OSCAL has no state for


def test_not_applicable_is_not_satisfied_said_in_remarks_a_prop_and_the_implementation_status(core):
    a = oscal.assessment_of(core)
    first = replace(core.controls[0], result=oscal.NOT_APPLICABLE)
    doc = oscal.assessment_results(replace(a, controls=[first, *core.controls[1:]]))
    finding = doc["assessment-results"]["results"][0]["findings"][0]
    assert finding["target"]["status"] == {"state": "not-satisfied", "reason": "other",
                                           "remarks": finding["remarks"]}
    assert finding["remarks"].startswith("Not applicable")
    assert finding["target"]["implementation-status"] == {"state": "not-applicable"}
    assert {p["name"]: p["value"] for p in finding["props"]}["verdict"] == "not applicable"
    assert schema_errors(doc) == []


def test_a_verdict_without_an_oscal_state_is_refused_not_guessed(core):
    a = oscal.assessment_of(core)
    with pytest.raises(ValueError, match="no OSCAL objective status"):
        oscal.assessment_results(replace(a, controls=[replace(core.controls[0], result="partly met")]))


# ------------------------------------------------------------------ bad input: one line, an exit code


@pytest.mark.parametrize("args, code, words", [
    (["--start", "2026-10-29", "--end", "2026-10-01"], 2, "after --end"),
    (["--start", "2026-13-01", "--end", "2026-10-01"], 2, "--start: expected a date"),
    ([*PERIOD, "--as-of", "yesterday-ish"], 2, "--as-of"),
    ([*PERIOD, "--scope", "colour=red"], 2, "--scope"),
])
def test_bad_options_are_one_line_and_exit_2(args, code, words, tmp_path):
    res = run("oscal", *args, "--out", str(tmp_path / "r.json"))
    assert res.exit_code == code and words in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "r.json").exists()


def test_a_pack_that_cannot_be_read_or_is_no_pdf_is_refused(tmp_path):
    missing = run("oscal", *PERIOD, "--out", str(tmp_path / "r.json"), "--pack", str(tmp_path / "nope.pdf"))
    (tmp_path / "x.pdf").write_bytes(b"not a pdf")
    junk = run("oscal", *PERIOD, "--out", str(tmp_path / "r.json"), "--pack", str(tmp_path / "x.pdf"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    assert junk.exit_code in (1, 2) and junk.stderr.startswith("error: --pack") and len(junk.stderr.splitlines()) == 1
    assert not (tmp_path / "r.json").exists()


@settings(max_examples=25)
@given(body=st.binary(max_size=400), pdf_header=st.booleans())
def test_any_bytes_given_as_a_pack_are_refused_in_one_line(body, pdf_header, tmp_path_factory):
    """Whatever the file holds, it is never vouched for: one `error:` line, exit 1 or 2, nothing written."""
    folder = tmp_path_factory.mktemp("junk")
    (folder / "p.pdf").write_bytes((b"%PDF-1.7\n" if pdf_header else b"") + body)
    res = run("oscal", *PERIOD, "--out", str(folder / "r.json"), "--pack", str(folder / "p.pdf"))
    assert res.exit_code in (1, 2)
    assert res.stderr.startswith("error: --pack") and len(res.stderr.strip().splitlines()) == 1
    assert not (folder / "r.json").exists()


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1))
def test_any_scenario_gives_valid_documents_with_the_coverage_commands_numbers(seed, tmp_path_factory):
    """Random worlds (every state, tie and blank; empty ones too): both documents stay valid for NIST and trestle,
    and the totals read back equal `coverage --format json`'s."""
    import random

    from scenario import random_scenario

    folder = tmp_path_factory.mktemp("world")
    cfg = random_scenario(random.Random(seed), folder / "s").write()
    day = ["--config", str(cfg), "--start", "2026-10-01", "--end", "2026-10-02"]
    res = run("oscal", *day, "--out", str(folder / "r.json"), "--poam", str(folder / "p.json"))
    assert res.exit_code == 0, res.stderr
    doc = json.loads((folder / "r.json").read_bytes())
    assert schema_errors(doc) == []
    trestle_model(doc)
    if (folder / "p.json").exists():
        plan = json.loads((folder / "p.json").read_bytes())
        assert schema_errors(plan) == []
        trestle_model(plan)
    (total,) = json.loads(run("coverage", *day, "--format", "json").stdout)
    values = observed(doc["assessment-results"]["results"][0])
    assert {k: number(values[f"totals.{k}"]) for k in total} == total
