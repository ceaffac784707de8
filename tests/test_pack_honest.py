"""Issue 25 on the bundled sample's Q3 2026 pack (no source holds anything before 2026-08-01, every fix time lies
after the period, no failure event was logged in it): the signed text says what was not tested and why, states the
period against the data, names things for people, and carries its title, language, outline and real dates."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from evidence_app.evidence.pdf import wrappable
from pdftools import attachments, build, run, tool

Q3 = ["--start", "2026-07-01", "--end", "2026-09-30"]
AT = "2026-11-30T10:00:00Z"


@pytest.fixture(scope="module")
def identity(signing_identity) -> tuple[Path, Path]:
    return signing_identity


@pytest.fixture(scope="module")
def q3(tmp_path_factory, identity) -> Path:
    return build(tmp_path_factory.mktemp("q3") / "q3.pdf", identity, period=Q3, at=["--generated-at", AT])


@pytest.fixture(scope="module")
def text(q3) -> str:
    out = subprocess.run([tool("pdftotext"), "-layout", str(q3), "-"], capture_output=True, text=True, check=True)
    return out.stdout


@pytest.fixture(scope="module")
def reading(q3) -> str:
    """The text in the order it is drawn (pdftotext -raw): each table cell whole, cells in reading order."""
    out = subprocess.run([tool("pdftotext"), "-raw", str(q3), "-"], capture_output=True, text=True, check=True)
    return out.stdout


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def control_row(text: str, control: str) -> str:
    """The control table's text from ``control``'s id to the next control id (wrapped cells joined)."""
    body = flat(text.split("2. Control mapping", 1)[1].split("3. Coverage", 1)[0])
    return re.split(r" (?:A\.\d|CC\d)", body.split(f" {control} ", 1)[1], maxsplit=1)[0]


def test_the_cover_warns_that_the_period_reaches_outside_every_source(text):
    cover = flat(text.split("\f", 1)[0])
    assert "Warning: the period is wider than the data." in cover
    assert "no source holds any record for 2026-07-01 – 2026-07-31 (31 days)" in cover
    assert "operations: 2,704 records, 2026-08-01 04:55:49 UTC – 2026-09-30 18:53:06 UTC" in cover
    assert "31 of the period's 92 days have no operation: 2026-07-01 – 2026-07-31 (31 days)." in cover


def test_the_summary_states_each_sources_span(text):
    summary = flat(text.split("1. Summary", 1)[1].split("2. Control mapping", 1)[0])
    assert "Data in the period 2026-07-01 – 2026-09-30: operations: 2,704 records" in summary
    assert "audit: 2,519 records" in summary and "worker logs:" in summary


@pytest.mark.parametrize(("control", "reason"), [
    ("CC7.3", "no failure events in the period (185 operations dropped silently left none)"),
    ("CC7.4", "no failure events in the period (185 operations dropped silently left none)"),
    ("A.5.27", "no fix in force in the period"),
    ("CC4.2", "no fix in force in the period"),
])
def test_a_control_with_nothing_to_test_is_not_applicable_with_its_reason(text, reading, control, reason):
    row = control_row(reading, control)
    assert "Not applicable" in row and reason in row and "Met " not in row


@pytest.mark.parametrize(("control", "population"), [
    ("A.8.15", "Tested: 2,704 operations"), ("CC7.3", "Tested: 0 failure events"),
    ("A.5.27", "Tested: 23 routes, 0 operations after their route's fix"),
    ("A.8.16", "Tested: 187 missing operations, 0 failure events"), ("A.8.17", "Tested: 2,342 live matches"),
])
def test_every_control_states_what_it_tested(reading, control, population):
    assert population in control_row(reading, control)


def test_no_oldest_pending_failure_reads_none_not_zero(text):
    body = flat(text)
    assert "oldest pending failure none" in body
    assert "oldest pending failure 0" not in body and "0.0 h" not in body


def test_the_replay_section_says_in_one_line_there_was_nothing_and_agrees_with_the_summary(text):
    section = flat(text.split("4. Replay and backfill", 1)[1].split("5. Remediation", 1)[0])
    assert "0 replayed (rows with origin replay) and 175 backfilled (origin backfill), as in the summary" in section
    assert "No failure events in the period (185 operations were dropped silently and left none)" in section
    assert "Replay latency" not in section and "Error class" not in section  # no table of zeros


def test_the_remediation_section_says_no_fix_was_in_force(text):
    section = flat(text.split("5. Remediation and accuracy", 1)[1].split("6. Exceptions", 1)[0])
    assert "No fix was in force in the period" in section and "SLA of 1 h" in section
    assert "No failure events and no audit_logged flag in the period" in section
    assert "Failure events (by their original time" not in section  # the all-zero flag table is gone


def test_states_are_named_for_people_and_never_cut_mid_word(text):
    body = flat(text)
    assert "Missing, silent" in body and "missing_sile nt" not in body and "missing_sile\n" not in text
    sample = flat(text.split("7. Re-performance sample", 1)[1].split("8. Methodology", 1)[0])
    assert "Logged live" in sample and "missing_silent" not in sample


def test_the_pdf_dates_are_the_generation_time_and_it_carries_title_and_language(q3):
    info = subprocess.run([tool("pdfinfo"), str(q3)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"CreationDate:\s+Mon Nov 30 10:00:00 2026 UTC", info), info
    assert re.search(r"ModDate:\s+Mon Nov 30 10:00:00 2026 UTC", info), info
    assert re.search(r"Title:\s+Evidence pack EP-", info)
    from pyhanko.pdf_utils.reader import PdfFileReader

    root = PdfFileReader(io.BytesIO(q3.read_bytes()), strict=False).root
    assert str(root["/Lang"]) == "en"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"]) is True


def test_the_outline_has_a_bookmark_per_section_in_reading_order(q3):
    from pyhanko.pdf_utils.reader import PdfFileReader

    root = PdfFileReader(io.BytesIO(q3.read_bytes()), strict=False).root
    top = _children(root["/Outlines"])
    assert [str(i["/Title"]) for i in top] == [
        "Audit-trail completeness", "1. Summary", "2. Control mapping", "3. Coverage", "4. Replay and backfill",
        "5. Remediation and accuracy", "6. Exceptions", "7. Re-performance sample",
        "8. Methodology and source fingerprints"]
    coverage = next(i for i in top if str(i["/Title"]) == "3. Coverage")
    assert [str(i["/Title"]) for i in _children(coverage)][:2] == ["3.1 By operator", "3.2 By tenant"]


def _children(node) -> list:  # noqa: ANN001 - a pyHanko dictionary
    found, item = [], node.get("/First")
    while item is not None:
        item = item.get_object()
        found.append(item)
        item = item.get("/Next")
    return found


def test_a_long_machine_name_wraps_after_an_underscore_not_inside_a_word():
    assert wrappable("missing_unprovable", 40, size=7.5) == "missing_<br/>unprovable"
    assert wrappable("<b>opening_hours_update</b> ok", 60) == "<b>opening_hours_<br/>update</b> ok"
    assert wrappable("short words stay", 200) == "short words stay"
    assert wrappable("<font size=6.5>(x)</font>", 1) == "<font size=6.5>(x)</font>"  # markup is never touched


def test_the_sample_pack_attachments_keep_machine_names(q3):
    exceptions = attachments(q3)["exceptions.csv"].decode()
    assert "missing_silent" in exceptions and "Missing, silent" not in exceptions


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONWARNINGS")}
    return subprocess.run([sys.executable, "-m", "evidence_app", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_pack_and_verify_print_no_library_warning(tmp_path, identity):
    out = tmp_path / "p.pdf"
    built = _cli("pack", *Q3, "--generated-at", AT, "--out", str(out), "--key", str(identity[0]), "--cert",
                 str(identity[1]), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    checked = _cli("verify", str(out), cwd=tmp_path)
    for stderr in (built.stderr, checked.stderr):
        assert "Warning:" not in stderr and "DeprecationWarning" not in stderr, stderr
        assert not re.search(r"^\s+from \w", stderr, re.M), stderr  # no warning's source line either


def test_a_pack_of_a_period_without_data_says_so_in_one_line_per_section(tmp_path, identity):
    out = tmp_path / "empty.pdf"
    res = run("pack", "--start", "2027-01-01", "--end", "2027-01-31", "--generated-at", "2027-02-01T00:00:00Z",
              "--out", str(out), "--key", str(identity[0]), "--cert", str(identity[1]))
    assert res.exit_code == 0, res.stderr
    body = flat(subprocess.run([tool("pdftotext"), "-layout", str(out), "-"], capture_output=True, text=True,
                               check=True).stdout)
    assert "No operations in the period and scope: there is nothing to reconcile" in body
    assert "Operations expected 0" not in body  # no table of zeros
    assert "No operations in the period and scope: no coverage by operator, tenant, route or day to show." in body
    assert "No operations in the period and scope: nothing to sample." in body
    assert "17 of 19 controls are not applicable" in body and " Met " not in body.replace("Met with", "")
    assert "no source holds any record for 2027-01-01 – 2027-01-31 (31 days)" in body


def test_text_runs_in_reading_order_header_content_footer(reading):
    pages = [p for p in reading.split("\f") if p.strip()]
    for number, page in enumerate(pages, start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        assert lines[0].endswith("audit-trail completeness evidence EP-" + lines[0].rsplit("EP-", 1)[1])
        assert lines[-1].endswith(f"Page {number} of {len(pages)}")
    headings = ["1. Summary", "2. Control mapping", "3. Coverage", "4. Replay and backfill",
                "5. Remediation and accuracy", "6. Exceptions", "7. Re-performance sample", "8. Methodology"]
    at = [reading.index(f"\n{h}") for h in headings]
    assert at == sorted(at)


def test_wrapping_measures_words_in_the_font_in_force():
    from evidence_app.evidence.pdf import MONO
    from reportlab.pdfbase.pdfmetrics import stringWidth

    path = "sqlite:////srv/sample_data/operations.db"
    width = stringWidth(path, MONO, 6.5) - 1  # one point too narrow in the monospace face it is drawn in
    wrapped = wrappable(f"<font face='MONO' size=6.5>{path}</font>", width)
    assert wrapped == "<font face='MONO' size=6.5>sqlite:////srv/sample_data/<br/>operations.db</font>"


def test_only_pyhankos_dsa_import_warning_is_silenced(tmp_path):
    code = ("import warnings; import evidence_app.evidence; import pyhanko.sign.signers.pdf_cms; "
            "warnings.warn('another library warning', DeprecationWarning)")
    res = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "DSA is deprecated" not in res.stderr and "another library warning" in res.stderr


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab_/ x.-"), max_size=60), st.floats(min_value=1, max_value=300))
def test_wrapping_only_ever_adds_line_breaks(text, width):
    from xml.sax.saxutils import escape

    html = escape(text)
    assert wrappable(html, width).replace("<br/>", "") == html
