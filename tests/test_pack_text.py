"""Signed text states what was in force: the pack's methodology derives its sentences from the values used."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner

from evidence_app.cli import main

from pdftools import pdf_text
from scenario import T0


def _pack(scenario, tmp_path) -> str:
    scenario.op("o1").row("a1").op("o2", T0 + timedelta(minutes=5))
    cfg = scenario.write()
    runner = CliRunner()
    assert runner.invoke(main, ["keygen", str(tmp_path / "id"), "--valid-from", "2026-01-01"]).exit_code == 0
    res = runner.invoke(main, ["pack", "--config", str(cfg), "--start", "2026-10-01", "--end", "2026-10-01",
                               "--out", str(tmp_path / "p.pdf"), "--key", str(tmp_path / "id" / "key.pem"),
                               "--cert", str(tmp_path / "id" / "cert.pem"), "--generated-at", "2026-10-02T00:00:00Z"])
    assert res.exit_code == 0, res.stderr
    return pdf_text(tmp_path / "p.pdf")


def test_methodology_states_overridden_thresholds_and_their_defaults(scenario, tmp_path):
    scenario.extra_config = "[controls]\ncoverage_met_at = 0.9\ncoverage_exceptions_at = 0.8\n"
    text = _pack(scenario, tmp_path)
    assert "at least 90.00% (set in [controls]; catalogue default 100.00%)" in text
    assert "at least 80.00% (set in [controls]; catalogue default 95.00%)" in text


def test_methodology_states_the_default_thresholds_when_none_are_overridden(scenario, tmp_path):
    text = _pack(scenario, tmp_path)
    assert "at least 100.00%, met with exceptions when at least 95.00%" in text
    assert "set in [controls]" not in text


def test_methodology_states_the_tolerance_and_margin_in_force(scenario, tmp_path):
    scenario.extra_config = "[matching]\ntolerance_seconds = 45\nmax_replay_attempts = 6\n"
    text = _pack(scenario, tmp_path)
    assert "at most 45 s apart" in text and "90 s beyond each edge" in text and "reaching 6 attempts" in text


def test_methodology_states_the_replay_sla_and_remediation_thresholds_in_force(scenario, tmp_path):
    scenario.extra_config = ("[remediation]\nreplay_sla_seconds = 900\n"
                             "[controls]\ninaccurate_met_max = 2\nreplay_sla_met_at = 0.9\n")
    text = _pack(scenario, tmp_path)
    assert "a replay is within the SLA when its latency is at most 900 s" in text
    assert "more than 2 (set in [controls]; catalogue default 0) inaccurate" in text
    assert "at least 90.00% (set in [controls]; catalogue default 100.00%) of the failure events" in text


def test_methodology_says_the_sources_were_read_for_the_pack(scenario, tmp_path):
    text = _pack(scenario, tmp_path)
    assert "The sources were read for this pack when it was built; it never uses the web app's snapshot" in text
