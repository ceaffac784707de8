"""One number, three views: the remediation table and the accuracy counts are the core's, in the CLI, the web app
(AppTest) and the PDF text alike — on the bundled sample, which shows every remediation status it has."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from evidence_app.assess.pipeline import evaluate
from evidence_app.assess.summary import summarize
from evidence_app.cli import main
from evidence_app.config.settings import load_config
from evidence_app.display import state_name
from evidence_app.evidence.contents import PACK_LINES
from evidence_app.formatting import duration
from evidence_app.reconcile import Period
from evidence_app.reconcile.bounded import bounded_remediation
from evidence_app.reconcile.coverage import exceptions_table
from evidence_app.render import records
from evidence_app.ui.components import plain
from evidence_app.ui.words import exceptions_for_people, routes_for_people, word

from conftest import APP, WAIT_S
from pdftools import tool

PERIOD = ["--start", "2026-08-01", "--end", "2026-10-29"]
AS_OF = "2026-10-30T00:00:00Z"


@pytest.fixture(scope="module")
def core():
    data, recon = evaluate(load_config(None), Period(date(2026, 8, 1), date(2026, 10, 29)))
    return summarize(data, recon, datetime(2026, 10, 30, tzinfo=timezone.utc)), exceptions_table(recon)


def _cli(*args: str):
    res = CliRunner().invoke(main, [*args])
    assert res.exit_code in (0, 1), res.stderr
    return json.loads(res.stdout)


def test_the_sample_shows_every_finding_the_views_must_carry(core):
    s, _ = core
    assert s.remediation.not_swept == 1 and s.remediation.silent_after_fix > 0
    assert s.inaccurate == 1 and s.incomplete == 1
    assert set(s.remediation.routes["fix_source"]) == {"config"} and s.remediation.flag_true_not_logged > 0


def test_cli_remediation_is_the_cores_table(core):
    s, _ = core
    assert _cli("remediation", *PERIOD, "--as-of", AS_OF, "--format", "json") == records(s.remediation.routes)


def test_cli_exceptions_carry_the_cores_inaccurate_and_incomplete_rows(core):
    _, ex = core
    mine = [r for r in records(ex) if r["kind"] in ("inaccurate", "incomplete")]
    cli = [r for r in _cli("exceptions", *PERIOD, "--format", "json") if r["kind"] in ("inaccurate", "incomplete")]
    assert cli == mine and len(mine) == 2


def test_cli_check_figures_are_the_cores(core):
    s, _ = core
    figures = _cli("check", *PERIOD, "--as-of", AS_OF, "--format", "json")["figures"]
    assert (figures["inaccurate"], figures["missing_silent_after_fix"]) == (s.inaccurate, s.silent_after_fix)
    assert figures["coverage_after_replay"] == s.totals.coverage_after_replay


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    import os

    os.environ.pop("EVIDENCE_APP_CONFIG", None)
    at = AppTest.from_file(APP, default_timeout=WAIT_S)
    at.run()
    at.switch_page("app_pages/remediation.py").run()
    assert not at.exception, at.exception
    return at


def test_web_app_metrics_are_the_cores(page, core):
    s, _ = core
    m = {x.label: x.value for x in page.metric}
    r = s.remediation
    assert m["Routes swept"] == str(r.swept)
    assert m["Routes not swept"] == str(r.not_swept)
    assert m["Routes unknown"] == str(r.unknown)
    assert m["Silent drops after the fix"] == str(r.silent_after_fix)
    assert m["Replayed within SLA"] == f"{r.replayed_within_sla} of {r.failures}"
    assert (m["Inaccurate rows"], m["Incomplete rows"]) == (str(s.inaccurate), str(s.incomplete))


def test_web_app_route_table_is_the_cores(page, core):
    """The core's bounded view of the sample's 23 routes, line by line (the 15 most in need + all others)."""
    s, _ = core
    expected = routes_for_people(bounded_remediation(s.remediation.routes, 15).lines)  # the core's, in words
    shown = next(d.value for d in page.dataframe if list(d.value.columns) == list(expected.columns))
    assert shown.astype(str).values.tolist() == expected.astype(str).values.tolist()
    assert list(shown.columns[:2]) == ["Route", "Status"]  # the evidence beside the route, in view at laptop width
    assert any(plain("/api/exports") in e.value for e in page.error)


def test_web_app_lists_the_cores_inaccurate_and_incomplete_rows(page, core):
    _, ex = core
    shown = next(d.value for d in page.dataframe if "Detail" in d.value.columns)
    expected = exceptions_for_people(ex[ex["kind"].isin(["inaccurate", "incomplete"])])
    assert sorted(zip(shown["Kind"], shown["Audit row id"], shown["Detail"])) == sorted(
        zip(expected["Kind"], expected["Audit row id"], expected["Detail"]))
    assert set(shown["Kind"]) <= {"inaccurate", "incomplete"} | {word(k) for k in ("inaccurate", "incomplete")}


@pytest.fixture(scope="module")
def pdf_text(tmp_path_factory):
    tool("pdftotext")
    folder = tmp_path_factory.mktemp("views")
    runner = CliRunner()
    assert runner.invoke(main, ["keygen", str(folder / "id"), "--valid-from", "2026-01-01"]).exit_code == 0
    res = runner.invoke(main, ["pack", *PERIOD, "--out", str(folder / "p.pdf"), "--generated-at", AS_OF,
                               "--key", str(folder / "id" / "key.pem"), "--cert", str(folder / "id" / "cert.pem")])
    assert res.exit_code == 0, res.stderr
    raw = subprocess.run(["pdftotext", "-raw", str(folder / "p.pdf"), "-"], capture_output=True, text=True, check=True)
    return " ".join(raw.stdout.split())


def test_pdf_route_tables_are_the_cores(pdf_text, core):
    """The bounded view the pack shows (the sample's 23 routes: 15 most in need + all others), line by line."""
    s, _ = core
    view = bounded_remediation(s.remediation.routes, PACK_LINES)
    assert view.folded == len(s.remediation.routes) - PACK_LINES > 0
    for r in records(view.lines):
        fixed = r["effective_fixed_at"][:19].replace("T", " ") if r["effective_fixed_at"] else "—"
        source = {"config": "config", "first_failure_event": "first failure event"}.get(r["fix_source"], "—")
        assert (f"{r['route']} {fixed} {source} {r['expected']:,} {r['missing_silent_before_fix']:,} "
                f"{r['missing_silent_after_fix']:,} {state_name(r['status'])}") in pdf_text, r["route"]
        assert (f"{r['route']} {r['failures']:,} {r['replayed_within_sla']:,} {r['audit_logged_false']:,} "
                f"{r['audit_logged_false_without_failure_event']:,} {r['audit_logged_true_not_logged']:,}") in pdf_text


def test_pdf_counts_are_the_cores(pdf_text, core):
    s, _ = core
    r = s.remediation
    assert (f"{r.route_count} routes: {r.swept} swept, {r.not_swept} not swept, {r.unknown} unknown; "
            f"{r.silent_after_fix} operations dropped silently") in pdf_text
    assert (f"{r.replayed_within_sla} of {r.failures} failure events replayed within the SLA of "
            f"{duration(r.replay_sla_seconds)}. Fix times judged at 2026-10-30 00:00:00 UTC") in pdf_text
    assert f"{s.inaccurate} inaccurate audit rows" in pdf_text and f"{s.incomplete} incomplete rows" in pdf_text
    assert f"Inaccurate audit rows (request-id match, fields disagree) {s.inaccurate}" in pdf_text
