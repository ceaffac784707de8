"""Numbers do not bend at the edges of time: a period without operations gives zeros (exit 0) in every
command, even when the logs hold failure events; the first and last representable days are one clear
answer, never a traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from evidence_app.cli import main

EMPTY = ["--start", "2020-01-01", "--end", "2020-01-02"]  # the sample's logs hold failures, but not then
EXTREMES = [["--start", "0001-01-01", "--end", "0001-01-02"], ["--start", "9999-12-30", "--end", "9999-12-31"]]


def run(*args: str):
    res = CliRunner().invoke(main, list(args))
    assert "Traceback" not in res.stderr
    return res


@pytest.fixture(scope="module")
def identity(signing_identity) -> list[str]:
    key, cert = signing_identity
    return ["--key", str(key), "--cert", str(cert)]


def _zero_totals(stdout: str) -> None:
    [total] = json.loads(stdout)
    assert total["expected"] == total["missing"] == total["logged"] == 0
    assert total["coverage_logged"] is None and total["coverage_after_replay"] is None


@pytest.mark.parametrize("period", [EMPTY, *EXTREMES], ids=["no-operations", "first-days", "last-days"])
def test_coverage_of_a_period_without_operations_is_zeros(period):
    res = run("coverage", *period, "--format", "json")
    assert res.exit_code == 0, res.stderr
    _zero_totals(res.stdout)


@pytest.mark.parametrize("period", [EMPTY, *EXTREMES], ids=["no-operations", "first-days", "last-days"])
def test_exceptions_of_a_period_without_operations_are_empty(period):
    res = run("exceptions", *period, "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout) == []


@pytest.mark.parametrize("period", [EMPTY, *EXTREMES], ids=["no-operations", "first-days", "last-days"])
def test_replay_status_of_a_period_without_operations_is_zeros(period):
    res = run("replay-status", *period, "--as-of", "2026-10-30T00:00:00Z", "--format", "json")
    assert res.exit_code == 0, res.stderr
    status = json.loads(res.stdout)
    assert set(status["states"].values()) == {0} and status["oldest_pending_age_seconds"] is None


@pytest.mark.parametrize("period", [EMPTY, EXTREMES[1]], ids=["no-operations", "last-days"])
def test_pack_of_a_period_without_operations_is_built(period, identity, tmp_path):
    out = tmp_path / "empty.pdf"
    res = run("pack", *period, "--out", str(out), *identity, "--generated-at", "2026-10-30T00:00:00Z")
    assert res.exit_code == 0, res.stderr
    assert "0 operations, coverage after replay —" in res.stdout  # no made-up 0 %
    assert run("verify", str(out), "--trust", identity[3]).exit_code == 0


def test_a_period_from_the_first_to_the_last_day_is_everything():
    everything = run("coverage", "--format", "json")
    widest = run("coverage", "--start", "0001-01-01", "--end", "9999-12-31", "--format", "json")
    assert widest.exit_code == 0 and json.loads(widest.stdout) == json.loads(everything.stdout)


def test_an_impossible_date_is_a_usage_error():
    res = run("coverage", "--start", "2026-02-30")
    assert res.exit_code == 2 and "--start" in res.stderr




@pytest.mark.parametrize("value", ["", "NaT", "nan", "9999-12-31T23:59:59-14:00", "2026-10-30T00:00:00+99:00"])
def test_an_as_of_that_is_no_time_is_a_usage_error(value):
    res = run("replay-status", "--as-of", value, "--format", "json")
    assert res.exit_code == 2 and "--as-of" in res.stderr
